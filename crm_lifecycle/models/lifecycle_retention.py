"""Retention figures of the lifecycle engine: churn risk and its explanation, churned and won back,
the churn reason, RFM scores and segment, and the lifetime value from the BG/NBD and Gamma-Gamma
models. Called by crm.lifecycle.engine on each batch (it reads, this computes, the engine writes).

The company-wide statistics (RFM quintile thresholds, the models' parameters) are pass 1: fitted per
company on the customers' stored figures, dated, at most a day old, and never on an empty book when
customers have purchases (as the rankings are).
"""

import logging
from datetime import timedelta

import numpy as np
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import bgnbd, churn, rfm
from ..lib.ladder import Figures
from ..lib.reasons import EnvRenderer, render_churn_reason

_logger = logging.getLogger(__name__)

MODELS_MAX_AGE = timedelta(days=1)
DAYS_PER_MONTH = 365.25 / 12
# the partner columns this computes (written by the engine with the others)
RETENTION_COLUMNS = [
    "lifecycle_purchase_days",
    "churn_risk",
    "churn_risk_level",
    "churn_risk_data",
    "churn_warned",
    "churn_date",
    "churned",
    "won_back_date",
    "churn_reason",
    "rfm_recency_score",
    "rfm_frequency_score",
    "rfm_monetary_score",
    "rfm_segment",
    "probability_alive",
    "expected_orders_12m",
    "projected_margin_12m",
    "lifetime_value",
]
SETTINGS_FIELDS = list(churn.ChurnSettings.__dataclass_fields__)


class CrmLifecycleRetention(models.AbstractModel):
    _name = "crm.lifecycle.retention"
    _description = "Customer retention computation"

    # ------------------------------------------------------------------ pass 1: company statistics
    @api.model
    def _settings(self, company):
        return churn.ChurnSettings(**{name: company[f"lifecycle_churn_{name}"] for name in SETTINGS_FIELDS})

    @api.model
    def _models(self, company, has_customers=False):
        """The company's fitted models, fitted again when more than a day old or when they were fitted
        on no customer while `has_customers` says there are some now."""
        company = company.sudo()
        date = company.lifecycle_models_date
        stored = company.lifecycle_models or {}
        if not date or date < fields.Datetime.now() - MODELS_MAX_AGE or (has_customers and not stored.get("customers")):
            stored = self._fit(company)
        return stored

    @api.model
    def _fit(self, company, today=None):
        """Fit the company's RFM thresholds and the BG/NBD and Gamma-Gamma models on its customers' stored
        figures: one query, then numpy. Stored on the company and returned."""
        today = today or fields.Date.context_today(self)
        self.env["res.partner"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT lifecycle_first_order_date, lifecycle_last_order_date, lifecycle_purchase_days,"
                " lifecycle_order_count - COALESCE(lifecycle_refund_count, 0), lifecycle_revenue, lifecycle_margin"
                " FROM res_partner WHERE (is_company OR parent_id IS NULL) AND active"
                " AND (company_id = %s OR (company_id IS NULL AND %s))"
                " AND lifecycle_purchase_days > 0 AND lifecycle_first_order_date <= %s ORDER BY id",
                company.id,
                company == self.env["crm.lifecycle.engine"]._main_company(),
                today,
            )
        )
        rows = self.env.cr.fetchall()
        result = {"customers": len(rows), "rfm": {}, "bgnbd": None, "gamma": None}
        if rows:
            first, last, days, orders, revenue, margin = (
                np.array(column, dtype=object) for column in zip(*rows, strict=True)
            )
            recency = np.array([(today - d).days for d in last], dtype=float)
            frequency = np.array(orders, dtype=float)
            monetary = np.array(revenue, dtype=float)
            result["rfm"] = {
                "r": rfm.quintile_thresholds(recency, higher_is_better=False),
                "f": rfm.quintile_thresholds(frequency),
                "m": rfm.quintile_thresholds(monetary),
            }
            x, t_x, age = _bgnbd_inputs(first, last, days, today)
            try:
                fit = bgnbd.fit_bgnbd(x, t_x, age).usable()
                model = fit.model
                result["bgnbd"] = [model.r, model.alpha, model.a, model.b]
            except ValueError as error:  # InsufficientData (also a fit that did not settle), or bad data
                _logger.info("lifecycle: no BG/NBD model for %s (%s)", company.name, error)
            repeat = (x >= 1) & (np.array(margin, dtype=float) > 0)
            try:
                per_order = np.array(margin, dtype=float)[repeat] / np.array(orders, dtype=float)[repeat]
                fit = bgnbd.fit_gamma_gamma(x[repeat], per_order).usable()
                result["gamma"] = [fit.model.p, fit.model.q, fit.model.v]
            except ValueError as error:
                _logger.info("lifecycle: no Gamma-Gamma model for %s (%s)", company.name, error)
        company.write({"lifecycle_models": result, "lifecycle_models_date": fields.Datetime.now()})
        return result

    # ------------------------------------------------------------------ pass 2: per customer
    @api.model
    def _values(self, rows, figures, company, today, digits, as_of=None):
        """{partner id: retention columns} for a batch of one company: `rows` the stored values,
        `figures` the new Figures. Vectorised where it can be (the models). For a day in the past (the
        demo's history) the churn only: the models are fitted on today's figures."""
        settings = self._settings(company)
        has_customers = any(fig.order_days for fig in figures.values())
        models_ = {} if as_of else self._models(company, has_customers)
        ids = list(rows)
        values = {pid: self._churn_values(rows[pid], figures.get(pid), settings, today) for pid in ids}
        self._model_values(values, ids, figures, models_, today, digits)
        return values

    def _churn_values(self, row, fig, settings, today):
        fig = fig or _EMPTY
        signals = churn.Signals(
            last_order=fig.last_order,
            usual_interval=fig.avg_order_interval,
            revenue_recent=fig.revenue_6m,
            revenue_before=fig.revenue_prev_6m,
            overdue_amount=fig.overdue_amount,
            open_complaints=fig.open_complaint_count,
            serious_complaints=fig.serious_complaint_count,
            rating=fig.rating_avg,
            last_contact=fig.last_contact,
        )
        risk, level, factors = churn.churn_risk(signals, settings, today) if fig.is_customer else (0, False, [])
        # churned now (a silence longer than the period, or three usual intervals), else the latest churn
        # the books show (a gap between purchases longer than the period) and the purchase that ended it
        churned_on = (
            churn.churn_date(fig.last_order, fig.avg_order_interval, settings, today) if fig.is_customer else None
        )
        churn_day = churned_on or fig.last_churn
        won_back = fig.last_return
        currently_churned = bool(churned_on)
        reason = row["churn_reason"]
        if not row["churn_reason_manual"]:
            reason = churn.proposed_reason(fig.reason_counts) if currently_churned else None
        return {
            "lifecycle_purchase_days": fig.order_days,
            "churn_risk": risk,
            "churn_risk_level": level or None,
            "churn_risk_data": {"factors": factors} if factors else None,
            # warned once when the risk turns high (see _after_write), again only after it has left high
            "churn_warned": level == "high",
            "churn_date": churn_day,
            "churned": currently_churned,
            "won_back_date": won_back,
            "churn_reason": reason,
        }

    def _model_values(self, values, ids, figures, models_, today, digits):
        """RFM scores and segment, P(alive), expected orders and margin over 12 months, lifetime value."""
        figs = [figures.get(pid) or _EMPTY for pid in ids]
        buyers = np.array([fig.order_days > 0 and fig.last_order is not None for fig in figs])
        thresholds = models_.get("rfm") or {}
        params = models_.get("bgnbd")
        gamma = models_.get("gamma")
        first = np.array([fig.first_order for fig in figs], dtype=object)
        last = np.array([fig.last_order for fig in figs], dtype=object)
        days = np.array([fig.order_days for fig in figs])
        alive = expected = None
        if params and buyers.any():
            x, t_x, age = _bgnbd_inputs(first[buyers], last[buyers], days[buyers], today)
            model = bgnbd.BgNbd(*params)
            alive = np.ones(len(ids))
            expected = np.zeros(len(ids))
            alive[buyers] = model.probability_alive(x, t_x, age)
            expected[buyers] = model.expected_purchases(365, x, t_x, age)
        for index, (pid, fig) in enumerate(zip(ids, figs, strict=True)):
            row = values[pid]
            scores = (0, 0, 0)
            if buyers[index] and thresholds:
                scores = (
                    rfm.score_from_thresholds((today - fig.last_order).days, thresholds["r"], higher_is_better=False),
                    rfm.score_from_thresholds(fig.net_orders, thresholds["f"]),
                    rfm.score_from_thresholds(fig.revenue, thresholds["m"]),
                )
            row["rfm_recency_score"], row["rfm_frequency_score"], row["rfm_monetary_score"] = scores
            row["rfm_segment"] = rfm.segment(*scores) if all(scores) else None
            margin_per_order = fig.margin / fig.net_orders if fig.net_orders > 0 else 0.0
            if expected is not None and buyers[index]:
                average = margin_per_order
                if gamma and fig.order_days > 1 and margin_per_order > 0:
                    average = float(
                        bgnbd.GammaGamma(*gamma).expected_average_value(fig.order_days - 1, margin_per_order)
                    )
                projected = round(float(expected[index]) * average, digits)
                row["probability_alive"] = round(float(alive[index]), 4)
                row["expected_orders_12m"] = round(float(expected[index]), 2)
                row["projected_margin_12m"] = projected
                row["lifetime_value"] = round(fig.margin + projected, digits)
            else:
                row["probability_alive"] = 0.0
                row["expected_orders_12m"] = 0.0
                row["projected_margin_12m"] = 0.0
                row["lifetime_value"] = round(fig.margin, digits) if fig.order_count else 0.0

    # ------------------------------------------------------------------ after the write
    @api.model
    def _after_write(self, changes):
        """Early warnings and won-back notes for the partners written: [(pid, row, new)].

        One activity for the salesperson when a customer's risk turns high (the engine stores that it
        warned, so not again until the risk has left high), and a note in the chatter when a churned
        customer orders again."""
        warn = [(pid, new) for pid, row, new in changes if new["churn_warned"] and not row["churn_warned"]]
        back = [
            (pid, new)
            for pid, row, new in changes
            if new["won_back_date"] and new["won_back_date"] != row["won_back_date"]
        ]
        if warn:
            self._warn(warn)
        if back:
            self._note_won_back(back)

    def _warn(self, warn):
        Partner = self.env["res.partner"].sudo()
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("res.partner")
        partners = Partner.browse([pid for pid, _new in warn])
        activities = []
        for partner, (_pid, new) in zip(partners, warn, strict=True):
            user = partner.user_id
            if not user or user.share or not user.active:
                continue
            env = self.with_context(lang=user.lang or self.env.lang).env
            explanation = render_churn_reason(EnvRenderer(env, partner.lifecycle_currency_id), new["churn_risk_data"])
            activities.append(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": todo.id,
                    "user_id": user.id,
                    "summary": env._("Churn risk high: %(risk)s/100", risk=new["churn_risk"]),
                    "note": Markup("<p>%s</p>") % explanation,
                    "date_deadline": fields.Date.context_today(self) + timedelta(days=2),
                }
            )
        if activities:
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(activities)

    def _note_won_back(self, back):
        Partner = self.env["res.partner"].sudo()
        bodies = {}
        for pid, new in back:
            bodies[pid] = Markup("<p>%s</p>") % self.env._(
                "Won back: ordered again on %(date)s after churning on %(churned)s.",
                date=fields.Date.to_string(new["won_back_date"]),
                churned=fields.Date.to_string(new["churn_date"]),
            )
        Partner.browse(list(bodies))._message_log_batch(bodies=bodies)


def _bgnbd_inputs(first, last, days, today):
    """(x, t_x, T) in days: repeat purchase days, the time from the first to the last, the age."""
    x = np.array([max(int(d) - 1, 0) for d in days], dtype=float)
    t_x = np.array([(end - start).days for start, end in zip(first, last, strict=True)], dtype=float)
    age = np.array([max((today - f).days, 1) for f in first], dtype=float)
    return x, np.minimum(t_x, age), age


_EMPTY = Figures()  # the figures of a partner the books say nothing about (never modified)
