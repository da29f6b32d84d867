"""The one computation behind every lifecycle figure: read the books for a batch, classify, write.

Every entry point calls `crm.lifecycle.engine._recompute(partners)`: the nightly cron, the manager's
button, the override wizard (which hands a forced rung in), partner merges, and the prompt updates
(sale and invoice hooks, payments, complaints, referrals, the strategic flag), which ask for it with
`_recompute_later` so that one request computes each customer once, when it commits.

Per batch it issues a bounded number of queries whatever the batch size: one read of the stored
values, one read of the books per company, one statement that updates the rows that changed and
inserts their history rows, one UPDATE of their contacts. Rows whose values did not change are not
written at all. Nothing here writes a rung any other way, and nothing else writes one.
"""

import gc
import json
import logging
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from datetime import datetime, time, timedelta

import psycopg2
from markupsafe import Markup
from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from ..lib.guard import WriteGuard
from ..lib.ladder import CUT_FRACTIONS, Figures, classify
from .crm_ladder_history import ladder_direction
from .lifecycle_retention import RETENTION_COLUMNS

_logger = logging.getLogger(__name__)

# Commercial partners: companies, and individuals who do not belong to a company.
COMMERCIAL_DOMAIN = ["|", ("is_company", "=", True), ("parent_id", "=", False)]

# Figures' fields, in the order the figures query returns them
FIGURE_FIELDS = [f.name for f in dataclass_fields(Figures)]

# res.partner columns of the figures, written by the engine (_new_values) beside STATE_COLUMNS
FIGURE_COLUMNS = [
    "lifecycle_first_order_date",
    "lifecycle_last_order_date",
    "lifecycle_order_count",
    "lifecycle_order_count_12m",
    "lifecycle_refund_count",
    "lifecycle_revenue",
    "lifecycle_revenue_12m",
    "lifecycle_margin",
    "lifecycle_margin_12m",
    "lifecycle_overdue_amount",
    "lifecycle_order_interval",
    "lifecycle_referral_count",
    "lifecycle_referral_customer_count",
    "lifecycle_contact_count",
    "lifecycle_open_complaint_count",
]
# A customer move's cost as it counts against revenue: credit notes give the cost back
SIGNED_COST = SQL("CASE WHEN am.move_type = 'out_refund' THEN -1 ELSE 1 END * COALESCE(am.lifecycle_cost, 0)")
# What contacts show of their company (kept in sync by the engine, not by Odoo's commercial fields)
SYNCED_COLUMNS = ["ladder_stage", "value_tier", "relationship_type", "lifecycle_stage"]
STATE_COLUMNS = [
    "ladder_stage",
    "ladder_since",
    "ladder_reason_data",
    "value_tier",
    "relationship_type",
    "lifecycle_stage",
    "lifecycle_currency_id",
]
# Written by the engine only (and read-only to everyone else, see res.partner._check_lifecycle_values);
# a person may set the churn reason (then kept)
ENGINE_COLUMNS = frozenset(STATE_COLUMNS + FIGURE_COLUMNS + RETENTION_COLUMNS) - {"churn_reason"}
# How far the prompt path and a referral chain go in one computation
MAX_REFERRAL_ROUNDS = 3
# A nightly batch that met a concurrent update runs again after this
RETRY_AFTER = timedelta(seconds=10)

# Partner merges write them through the ORM inside `engine_writes()`
ENGINE_GUARD = WriteGuard("crm_lifecycle_engine_writes")
engine_writes = ENGINE_GUARD.allow


def engine_writes_allowed(env):
    return ENGINE_GUARD.allowed(env.su)


class CrmLifecycleEngine(models.AbstractModel):
    _name = "crm.lifecycle.engine"
    _description = "Customer lifecycle computation"

    # ------------------------------------------------------------------ entry points
    @api.model
    def _recompute(self, partners, override=None, as_of=None):
        """Recompute the lifecycle of the commercial partners of `partners`.

        `override`: a manager's rung for all of them ({"stage", "reason", "user_id", "user", "date"}),
        locked from then on (the override wizard). `as_of`: compute as the books stood on that day,
        and date the moves then (the demo's history); documents dated later are left out.
        Returns the number of partners whose stored values changed.
        """
        if not partners:
            return 0
        self.env.flush_all()  # the SQL below reads what the caller just wrote
        changed, ids = 0, partners.ids
        with _gc_paused():
            for _round in range(MAX_REFERRAL_ROUNDS + 1):
                done, referrers = self._recompute_batch(ids, override, as_of)
                changed += done
                # a referred partner who became a customer (or no longer is) changes the referrer
                ids, override = list(referrers), None
                if not ids:
                    break
        return changed

    @api.model
    def _recompute_later(self, partners):
        """Recompute these partners once, when the transaction commits (the prompt updates).

        A request that confirms an order, posts its invoice and registers the payment computes each
        customer once, from the books as the request leaves them: no move is recorded that the same
        request undoes. With `lifecycle_defer` in the context (bulk imports), the nightly run
        catches up instead.
        """
        if not partners or self.env.context.get("lifecycle_defer"):
            return
        data = self.env.cr.precommit.data
        todo = data.get("crm_lifecycle.recompute")
        if todo is None:
            todo = data["crm_lifecycle.recompute"] = set()
            self.env.cr.precommit.add(self._recompute_pending)
        todo.update(partners.ids)

    def _recompute_pending(self):
        ids = self.env.cr.precommit.data.pop("crm_lifecycle.recompute", set())
        partners = self.env["res.partner"].browse(sorted(ids)).exists()
        self.with_context(lifecycle_defer=False)._recompute(partners)

    @api.model
    def _recompute_now(self, partners):
        """An explicit recompute (the manager's button): rank the customers' companies again first."""
        companies = self._companies_of(partners)
        companies._lifecycle_refresh_cutpoints()
        for company in companies:
            self.env["crm.lifecycle.retention"]._fit(company)
        return self._recompute(partners)

    @api.model
    def action_recompute_all(self):
        """Recompute every customer now, in the background: a new nightly run (ranking first), with
        its progress in the scheduled action. A run under way starts over. Its end refreshes the
        retention and cohort reports, as every nightly run's does."""
        if not self.env.user.has_group("crm_lifecycle.crm_lifecycle_group_manager"):
            raise AccessError(self.env._("Only Customer Lifecycle managers can recompute every customer."))
        self.env["crm.lifecycle.run"]._for_job("ladder")._restart()
        self.env.ref("crm_lifecycle.ir_cron_lifecycle_recompute").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("The lifecycle of every customer is being recomputed in the background."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------ one batch
    def _recompute_batch(self, ids, override, as_of):
        current = self._read_current(ids)
        by_company = defaultdict(list)
        main_company = self._main_company()
        for pid, row in current.items():
            by_company[row["company_id"] or main_company.id].append(pid)

        today = as_of or fields.Date.context_today(self)
        moved_at = datetime.combine(as_of, time(12)) if as_of else self.env.cr.now().replace(microsecond=0)
        updates, moves, synced, referrers, changed = [], [], [], set(), []
        for company_id, company_ids in by_company.items():
            company = self.env["res.company"].sudo().browse(company_id)
            thresholds = company._lifecycle_thresholds()
            # no purchase for a churn period already (as stored): their churn reason may be proposed
            quiet_since = today - timedelta(days=company.lifecycle_churn_period_days)
            quiet = [
                pid
                for pid in company_ids
                if current[pid]["lifecycle_last_order_date"]
                and current[pid]["lifecycle_last_order_date"] <= quiet_since
            ]
            figures = self._read_figures(company, company_ids, thresholds, today, quiet)
            cuts = self._cutpoints(company, figures, as_of)
            currency_id, digits = company.currency_id.id, company.currency_id.decimal_places
            retention = self.env["crm.lifecycle.retention"]._values(
                {pid: current[pid] for pid in company_ids}, figures, company, today, digits, as_of
            )
            for pid in company_ids:
                row = current[pid]
                fig = figures.get(pid) or Figures()
                placement = classify(
                    fig,
                    thresholds,
                    today,
                    cuts,
                    strategic=row["ladder_strategic"],
                    targeted=row["lifecycle_targeted"],
                )
                new = self._new_values(row, fig, placement, currency_id, digits, moved_at, override)
                new.update(retention[pid])
                if any(new[col] != row[col] for col in new):
                    updates.append((pid, new))
                    changed.append((pid, row, new))
                    if new["ladder_stage"] != row["ladder_stage"]:
                        moves.append((pid, row, new))
                    if row["has_contacts"] and any(new[col] != row[col] for col in SYNCED_COLUMNS):
                        synced.append(pid)
                    was_customer = (row["lifecycle_order_count"] or 0) > (row["lifecycle_refund_count"] or 0)
                    if row["referred_by_id"] and was_customer != fig.is_customer:
                        referrers.add(row["referred_by_id"])
        if updates:
            source = ("manual", override["user_id"]) if override else ("automatic", None)
            self._write_partners(updates, moves, moved_at, main_company.id, source)
        if synced:
            self._sync_contacts(synced)
        if moves:
            self._track_moves(moves)
        if changed and not as_of:
            self.env["crm.lifecycle.retention"]._after_write(changed)
        return len(updates), referrers

    # ------------------------------------------------------------------ reads
    def _main_company(self):
        return self.env["res.company"].sudo().search([], order="id", limit=1)

    def _companies_of(self, partners):
        """The companies whose books place these partners (shared partners: the main company's)."""
        commercial = partners.sudo().commercial_partner_id
        companies = commercial.company_id
        if not all(commercial.mapped("company_id")):
            companies |= self._main_company()
        return companies

    def _cutpoints(self, company, figures, as_of):
        """The company's ranking for this batch: stored (at most a day old) or, for a day in the past,
        made for that day. A ranking made when nobody had revenue is made again once someone has."""
        if as_of:
            return company._lifecycle_rank(as_of)
        has_revenue = any(fig.revenue_12m > 0 or fig.margin_12m > 0 for fig in figures.values())
        return company._lifecycle_cutpoints(has_revenue=has_revenue)

    def _read_current(self, ids):
        """Stored lifecycle values of the commercial partners of `ids`, one query.

        The commercial partners are found in the same query: through the ORM, `commercial_partner_id`
        would load every column of the partners into the cache.
        """
        columns = [*STATE_COLUMNS, *FIGURE_COLUMNS, *RETENTION_COLUMNS]
        self.env.cr.execute(
            SQL(
                "SELECT id, company_id, ladder_locked, ladder_strategic, lifecycle_targeted, referred_by_id,"
                " churn_reason_manual, %s,"
                " EXISTS (SELECT 1 FROM res_partner c WHERE c.commercial_partner_id = res_partner.id"
                " AND c.id <> res_partner.id) AS has_contacts FROM res_partner"
                # an array, looked up in the primary key (as IN (subquery), the table was read whole)
                " WHERE id = ANY(ARRAY(SELECT COALESCE(commercial_partner_id, id) FROM res_partner"
                " WHERE id = ANY(%s)))",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                ids,
            )
        )
        names = [d.name for d in self.env.cr.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in self.env.cr.fetchall()}

    def _read_figures(self, company, ids, thresholds, today, quiet=()):
        """What the books say about each partner: one query for the whole batch."""
        since = today - timedelta(days=365)
        overdue_before = today - timedelta(days=thresholds.overdue_grace_days)
        query = self._figures_query(company.id, ids, today, since, overdue_before, company.lifecycle_churn_period_days)
        names, rows = self._execute_without_jit(query)
        # the query returns Figures' fields in their order, none NULL but dates: built by position
        assert names[1:] == FIGURE_FIELDS[: len(names) - 1], "the figures query and Figures disagree"
        result = {row[0]: Figures(*row[1:]) for row in rows}
        for pid, extra in self._read_extra_figures(company, ids, today, quiet).items():
            for key, value in extra.items():
                setattr(result.setdefault(pid, Figures()), key, value)
        return result

    def _execute_without_jit(self, query):
        """Run one of the wide aggregate queries with PostgreSQL's JIT off: (column names, rows).

        With jit on (PostgreSQL's default) every batch compiled the query anew, 2.7 s of a 3.2 s
        batch on bench/ladder.py's books, to save milliseconds. The setting is local to the
        transaction and put back after the query.
        """
        cr = self.env.cr
        cr.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        previous = cr.fetchone()[0]
        cr.execute(query)
        names, rows = [d.name for d in cr.description], cr.fetchall()
        cr.execute(SQL("SELECT set_config('jit', %s, true)", previous))
        return names, rows

    def _read_extra_figures(self, company, ids, today, quiet=()):
        """Figures from other sources than the books: {partner_id: {Figures field: value}}.

        Complaints (open on `today`, serious and rated ones of the last 12 months, and what they were
        about), one query for the batch; and the lost reasons of the opportunities of the `quiet`
        customers (those who may have churned: the reasons propose theirs), one more when there are.
        """
        end_of_day = datetime.combine(today + timedelta(days=1), time.min)
        since = datetime.combine(today - timedelta(days=365), time.min)
        self.env.cr.execute(
            SQL(
                """
SELECT commercial_partner_id,
       count(*) FILTER (WHERE NOT COALESCE(is_closed, false) OR resolved_date >= %(end)s),
       count(*) FILTER (WHERE severity IN ('high', 'critical') AND request_date >= %(since)s),
       avg(rating_last_value) FILTER (WHERE rating_last_value > 0 AND request_date >= %(since)s),
       count(*) FILTER (WHERE category IN ('service', 'delivery') AND request_date >= %(since)s),
       count(*) FILTER (WHERE category = 'price' AND request_date >= %(since)s),
       count(*) FILTER (WHERE category = 'product' AND request_date >= %(since)s)
  FROM crm_complaint
 WHERE commercial_partner_id = ANY(%(ids)s) AND company_id = %(company)s AND request_date < %(end)s
 GROUP BY commercial_partner_id
                """,
                ids=ids,
                company=company.id,
                end=end_of_day,
                since=since,
            )
        )
        result = {}
        for pid, open_count, serious, rating, service, price, product in self.env.cr.fetchall():
            result[pid] = {
                "open_complaint_count": open_count,
                "serious_complaint_count": serious,
                "rating_avg": float(rating) if rating is not None else None,
                "reason_counts": {"service": service, "price": price, "product": product},
            }
        # opportunities lost in the last 12 months, by the churn reason of their lost reason: only what
        # proposes the reason of a churned customer (none on the prompt path of a buying customer)
        if not quiet:
            return result
        self.env.cr.execute(
            SQL(
                "SELECT p.commercial_partner_id, r.churn_reason, count(*) FROM crm_lead l"
                " JOIN res_partner p ON p.id = l.partner_id JOIN crm_lost_reason r ON r.id = l.lost_reason_id"
                " WHERE p.commercial_partner_id = ANY(%s) AND NOT l.active AND r.churn_reason IS NOT NULL"
                " AND l.date_closed >= %s AND l.date_closed < %s GROUP BY p.commercial_partner_id, r.churn_reason",
                quiet,
                since,
                end_of_day,
            )
        )
        for pid, reason, count in self.env.cr.fetchall():
            counts = result.setdefault(pid, {}).setdefault("reason_counts", {})
            counts[reason] = counts.get(reason, 0) + count
        return result

    def _figures_query(self, company_id, ids, today, since, overdue_before, period=365):
        return SQL(
            """
WITH members AS MATERIALIZED (
    -- the customers and their contacts
    SELECT id, commercial_partner_id AS pid FROM res_partner WHERE commercial_partner_id = ANY(%(ids)s)
), so_rows AS (
    SELECT m.pid, so.id, so.partner_id AS contact, so.date_order::date AS day, so.state
      FROM members m
     CROSS JOIN LATERAL (
        SELECT s.id, s.partner_id, s.date_order, s.state FROM sale_order s
         WHERE s.partner_id = m.id AND s.company_id = %(company)s AND s.state IN ('draft', 'sent', 'sale')
        -- OFFSET 0 keeps the lookup by partner: a hash join would read every order of the company
        OFFSET 0
     ) so
     WHERE so.date_order::date <= %(today)s
), moves AS (
    -- cost, order and origin as stored when each document was posted (account.move._post)
    SELECT am.id, am.commercial_partner_id AS pid, am.partner_id AS contact, am.move_type, am.invoice_date,
           am.amount_untaxed_signed, am.payment_state, am.lifecycle_from_order AS from_order,
           am.lifecycle_order_id AS order_id, am.reversed_entry_id,
           -- in the document's currency, so that a whole credit nets to zero whatever the rates
           CASE WHEN am.move_type = 'out_refund' THEN -am.amount_untaxed ELSE am.amount_untaxed END AS doc_amount,
           %(signed_cost)s AS cost
      FROM account_move am
     WHERE am.commercial_partner_id = ANY(%(ids)s) AND am.company_id = %(company)s
       AND am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund') AND am.invoice_date <= %(today)s
), invoiced AS (
    -- what each purchase was invoiced, net of its credit notes: an order through every invoice and
    -- credit note made from it, an invoice without an order through the credit notes that reverse it
    SELECT order_id IS NOT NULL AS by_order,
           COALESCE(order_id, CASE WHEN move_type = 'out_invoice' THEN id ELSE reversed_entry_id END) AS key,
           sum(doc_amount) AS net, bool_or(move_type = 'out_invoice') AS has_invoice
      FROM moves
     WHERE order_id IS NOT NULL OR move_type = 'out_invoice' OR reversed_entry_id IS NOT NULL
     GROUP BY 1, 2
), purchases AS (
    -- a purchase is a confirmed order, or an invoice that did not come from an order; it is refunded
    -- when everything invoiced for it was credited
    SELECT o.pid, o.contact, o.day, COALESCE(i.has_invoice AND i.net <= 0, false) AS refunded
      FROM so_rows o LEFT JOIN invoiced i ON i.by_order AND i.key = o.id
     WHERE o.state = 'sale'
    UNION ALL
    SELECT mv.pid, mv.contact, mv.invoice_date, COALESCE(i.net <= 0, false)
      FROM moves mv LEFT JOIN invoiced i ON NOT i.by_order AND i.key = mv.id
     WHERE mv.move_type = 'out_invoice' AND mv.order_id IS NULL AND NOT COALESCE(mv.from_order, false)
), purchase_figures AS (
    SELECT pid, count(*) AS order_count, count(*) FILTER (WHERE day >= %(since)s) AS order_count_12m,
           count(DISTINCT day) FILTER (WHERE NOT refunded) AS order_days,
           count(*) FILTER (WHERE refunded) AS refund_count,
           count(*) FILTER (WHERE refunded AND day >= %(since)s) AS refund_count_12m,
           min(day) FILTER (WHERE NOT refunded) AS first_order, max(day) FILTER (WHERE NOT refunded) AS last_order,
           min(day) AS first_any,
           count(DISTINCT contact) FILTER (WHERE NOT refunded) AS contact_count
      FROM purchases GROUP BY pid
), gaps AS (
    -- the gaps between the days of kept purchases: a gap longer than the churn period is a churn and
    -- a return (won back)
    SELECT pid, day, day - lag(day) OVER (PARTITION BY pid ORDER BY day) AS gap
      FROM (SELECT DISTINCT pid, day FROM purchases WHERE NOT refunded) kept
), gap_figures AS (
    SELECT pid, max(day - gap + %(period)s) AS last_churn, max(day) AS last_return
      FROM gaps WHERE gap > %(period)s GROUP BY pid
), quotes AS (
    SELECT pid, count(*) AS quotation_count FROM so_rows WHERE state IN ('draft', 'sent') GROUP BY pid
), move_figures AS (
    -- credit notes count negative (signed amounts) and give their cost back
    SELECT pid,
           bool_or(move_type = 'out_invoice') AS invoiced,
           sum(amount_untaxed_signed) AS revenue,
           sum(amount_untaxed_signed) FILTER (WHERE invoice_date >= %(since)s) AS revenue_12m,
           sum(cost) AS cost, sum(cost) FILTER (WHERE invoice_date >= %(since)s) AS cost_12m,
           count(*) FILTER (WHERE move_type = 'out_refund' AND invoice_date >= %(since)s) AS credit_count_12m,
           sum(amount_untaxed_signed) FILTER (WHERE invoice_date >= %(half)s) AS revenue_6m,
           sum(amount_untaxed_signed) FILTER (WHERE invoice_date >= %(since)s AND invoice_date < %(half)s)
               AS revenue_prev_6m
      FROM moves GROUP BY pid
), overdue_figures AS (
    -- each instalment by its own due date, as the aged receivable shows it
    SELECT mv.pid, sum(l.amount_residual) AS overdue_amount
      FROM moves mv JOIN account_move_line l ON l.move_id = mv.id
     WHERE mv.move_type = 'out_invoice' AND mv.payment_state IN ('not_paid', 'partial')
       AND l.display_type = 'payment_term' AND l.date_maturity < %(overdue_before)s AND l.amount_residual > 0
     GROUP BY mv.pid
), referral_figures AS (
    -- a referral counts once the referred customer has a purchase they kept (their stored figures)
    SELECT r.referred_by_id AS pid, count(*) AS referral_count,
           count(*) FILTER (WHERE r.lifecycle_order_count > r.lifecycle_refund_count) AS referral_customer_count
      FROM res_partner r
     WHERE r.referred_by_id = ANY(%(ids)s) AND r.active AND r.id = r.commercial_partner_id
     GROUP BY r.referred_by_id
), contact_figures AS (
    -- the last message or activity done by a user of the company on the customer, its leads or orders
    SELECT c.pid, max(c.day) AS last_contact
      FROM (
        SELECT m.pid, msg.date::date AS day, msg.author_id
          FROM members m JOIN mail_message msg ON msg.model = 'res.partner' AND msg.res_id = m.id
         WHERE msg.message_type IN ('comment', 'email')
        UNION ALL
        SELECT m.pid, msg.date::date, msg.author_id
          FROM members m JOIN crm_lead l ON l.partner_id = m.id
          JOIN mail_message msg ON msg.model = 'crm.lead' AND msg.res_id = l.id
         WHERE msg.message_type IN ('comment', 'email')
        UNION ALL
        SELECT o.pid, msg.date::date, msg.author_id
          FROM so_rows o JOIN mail_message msg ON msg.model = 'sale.order' AND msg.res_id = o.id
         WHERE msg.message_type IN ('comment', 'email')
      ) c
      JOIN res_users u ON u.partner_id = c.author_id AND NOT u.share
     WHERE c.day <= %(today)s
     GROUP BY c.pid
), lead_figures AS (
    SELECT rp.pid,
           count(*) FILTER (WHERE c.type = 'lead' AND NOT COALESCE(c.lifecycle_targeted, false)) AS open_lead_count,
           count(*) FILTER (WHERE c.type = 'lead' AND c.lifecycle_targeted) AS targeted_lead_count,
           count(*) FILTER (WHERE c.type = 'opportunity') AS open_opportunity_count
      FROM crm_lead c JOIN members rp ON rp.id = c.partner_id
     WHERE c.active AND COALESCE(c.probability, 0) < 100
       AND (c.company_id = %(company)s OR c.company_id IS NULL) AND c.create_date::date <= %(today)s
     GROUP BY rp.pid
)
SELECT p.id AS pid,  -- then the fields of Figures, in their order
       COALESCE(pf.order_count, 0) AS order_count, COALESCE(pf.order_count_12m, 0) AS order_count_12m,
       COALESCE(pf.order_days, 0) AS order_days, COALESCE(pf.refund_count, 0) AS refund_count,
       COALESCE(pf.refund_count_12m, 0) AS refund_count_12m, pf.first_order, pf.last_order, pf.first_any,
       COALESCE(mf.invoiced, false) AS invoiced, COALESCE(mf.revenue, 0) AS revenue,
       COALESCE(mf.revenue_12m, 0) AS revenue_12m, COALESCE(mf.cost, 0) AS cost,
       COALESCE(mf.cost_12m, 0) AS cost_12m, COALESCE(mf.credit_count_12m, 0) AS credit_count_12m,
       COALESCE(od.overdue_amount, 0) AS overdue_amount,
       COALESCE(rf.referral_count, 0) AS referral_count,
       COALESCE(rf.referral_customer_count, 0) AS referral_customer_count,
       COALESCE(pf.contact_count, 0) AS contact_count, COALESCE(lf.open_lead_count, 0) AS open_lead_count,
       COALESCE(lf.targeted_lead_count, 0) AS targeted_lead_count,
       COALESCE(lf.open_opportunity_count, 0) AS open_opportunity_count,
       COALESCE(q.quotation_count, 0) AS quotation_count,
       COALESCE(mf.revenue_6m, 0) AS revenue_6m, COALESCE(mf.revenue_prev_6m, 0) AS revenue_prev_6m,
       cf.last_contact, gf.last_churn, gf.last_return
  FROM unnest(%(ids)s::int[]) AS p(id)
  LEFT JOIN purchase_figures pf ON pf.pid = p.id
  LEFT JOIN move_figures mf ON mf.pid = p.id
  LEFT JOIN overdue_figures od ON od.pid = p.id
  LEFT JOIN referral_figures rf ON rf.pid = p.id
  LEFT JOIN lead_figures lf ON lf.pid = p.id
  LEFT JOIN quotes q ON q.pid = p.id
  LEFT JOIN contact_figures cf ON cf.pid = p.id
  LEFT JOIN gap_figures gf ON gf.pid = p.id
            """,
            ids=ids,
            company=company_id,
            today=today,
            since=since,
            half=today - timedelta(days=182),
            period=period,
            overdue_before=overdue_before,
            signed_cost=SIGNED_COST,
        )

    @api.model
    def _cutpoints_query(self, company, today):
        """Rank the company's customers by 12-month revenue and margin, in one query.

        Returns the distributions (the value at each 0.1%, to say "top 22%") and the exact values
        that qualify for the top shares set in the rules: top X% means the best ceil(X% of N)
        customers, so that even a small book has its best customers on top.
        """
        partner_top = company.lifecycle_partner_top_percent / 100
        platinum = company.lifecycle_tier_platinum_percent / 100
        gold = min(platinum + company.lifecycle_tier_gold_percent / 100, 1.0)
        return SQL(
            """
WITH per_partner AS (
    SELECT am.commercial_partner_id AS pid, sum(am.amount_untaxed_signed)::float8 AS revenue,
           sum(am.amount_untaxed_signed - %(signed_cost)s)::float8 AS margin
      FROM account_move am
     WHERE am.company_id = %(company)s AND am.state = 'posted'
       AND am.move_type IN ('out_invoice', 'out_refund') AND am.invoice_date >= %(since)s
       AND am.invoice_date <= %(today)s
     GROUP BY am.commercial_partner_id
)
SELECT percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY revenue) FILTER (WHERE revenue > 0),
       percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY margin) FILTER (WHERE margin > 0),
       percentile_disc(%(partner_top)s) WITHIN GROUP (ORDER BY revenue DESC) FILTER (WHERE revenue > 0),
       percentile_disc(%(platinum)s) WITHIN GROUP (ORDER BY margin DESC) FILTER (WHERE margin > 0),
       percentile_disc(%(gold)s) WITHIN GROUP (ORDER BY margin DESC) FILTER (WHERE margin > 0)
  FROM per_partner
            """,
            company=company.id,
            since=today - timedelta(days=365),
            today=today,
            signed_cost=SIGNED_COST,
            fractions=CUT_FRACTIONS,
            partner_top=partner_top,
            platinum=platinum,
            gold=gold,
        )

    # ------------------------------------------------------------------ classification -> values
    def _new_values(self, row, fig, placement, currency_id, digits, moved_at, override):
        # money rounded to the company currency, as the stored columns are (a dict literal: this
        # runs for every partner of every batch)
        new = {
            "lifecycle_first_order_date": fig.first_order,
            "lifecycle_last_order_date": fig.last_order,
            "lifecycle_order_count": fig.order_count,
            "lifecycle_order_count_12m": fig.order_count_12m,
            "lifecycle_refund_count": fig.refund_count,
            "lifecycle_revenue": round(fig.revenue, digits),
            "lifecycle_revenue_12m": round(fig.revenue_12m, digits),
            "lifecycle_margin": round(fig.margin, digits),
            "lifecycle_margin_12m": round(fig.margin_12m, digits),
            "lifecycle_overdue_amount": round(fig.overdue_amount, digits),
            "lifecycle_order_interval": round(fig.avg_order_interval, 1),
            "lifecycle_referral_count": fig.referral_count,
            "lifecycle_referral_customer_count": fig.referral_customer_count,
            "lifecycle_contact_count": fig.contact_count,
            "lifecycle_open_complaint_count": fig.open_complaint_count,
        }
        reason = placement.reason
        stage = placement.ladder_stage
        manual = override or (row["ladder_locked"] and (row["ladder_reason_data"] or {}).get("manual"))
        if manual:
            # a manager's rung stands; the reason keeps their words and what the books say
            stage = manual.get("stage") or row["ladder_stage"]
            manual = dict(manual, stage=stage)
            manual.pop("user_id", None)
            reason = dict(reason, manual=manual, computed_stage=placement.ladder_stage)
        since = row["ladder_since"]
        if stage != row["ladder_stage"] or not since:
            since = moved_at
        new.update(
            ladder_stage=stage,
            ladder_since=since,
            # plain lists, dicts and rounded numbers: compares equal to what PostgreSQL returns
            ladder_reason_data=_round_amounts(reason, digits),
            value_tier=placement.value_tier,
            relationship_type=placement.relationship_type or None,
            lifecycle_stage=placement.lifecycle_stage or None,
            lifecycle_currency_id=currency_id,
        )
        return new

    # ------------------------------------------------------------------ writes
    def _write_partners(self, updates, moves, moved_at, main_company_id, source):
        """One statement for the batch: UPDATE the changed partners, INSERT a history row per move.

        The rows travel as one tab-separated text, split and cast by PostgreSQL: a JSON document
        (or a VALUES list) of the same rows took longer to parse than the UPDATE took to apply.
        A partner that already moved in this transaction (its rung dated `moved_at`) has that move
        amended instead, or removed if this move undoes it: never a move and its undoing.
        """
        Partner = self.env["res.partner"]
        columns = list(updates[0][1])
        moved = {pid: (row, new) for pid, row, new in moves}
        # {partner: (history row, date)} of the moves this request recorded (until it commits)
        recorded = self.env.cr.precommit.data.setdefault("crm_lifecycle.moved", {})
        again = self._amend_moves_of_this_transaction(
            [m for m in moves if recorded.get(m[0], (0, None))[1] == moved_at], recorded, updates
        )
        source_key, user_id = source
        lines = []
        for pid, vals in updates:
            history = ("", "", "")
            if pid in moved and pid not in again:
                row, new = moved[pid]
                from_stage = row["ladder_stage"] if row["ladder_since"] else None  # none before the first placement
                direction = ladder_direction(from_stage, new["ladder_stage"])
                # the company whose books placed the partner: shared partners are read with the main one's
                history = (from_stage or "", direction, str(row["company_id"] or main_company_id))
            lines.append("\t".join([str(pid), *map(_tsv, vals.values()), *history]))
        self.env.cr.execute(
            SQL(
                """
WITH v AS MATERIALIZED (
    SELECT a[1]::int4 AS id, %(columns)s, a[%(moved)s] AS from_stage, a[%(moved)s + 1] AS direction,
           NULLIF(a[%(moved)s + 2], '')::int4 AS company_id
      FROM string_to_table(%(rows)s, E'\n') AS line CROSS JOIN LATERAL string_to_array(line, E'\t') AS a
), updated AS (
    UPDATE res_partner AS p SET %(assign)s, write_date = %(now)s, write_uid = %(uid)s FROM v WHERE p.id = v.id
)
INSERT INTO crm_ladder_history (partner_id, from_stage, to_stage, direction, reason_data, company_id, date, source,
                                user_id)
SELECT v.id, NULLIF(v.from_stage, ''), v.ladder_stage, v.direction, v.ladder_reason_data, v.company_id,
       %(moved_at)s, %(source)s, %(user_id)s
  FROM v WHERE v.direction <> ''
RETURNING partner_id, id
                """,
                columns=SQL(", ").join(_tsv_column(Partner, c, i) for i, c in enumerate(columns, 2)),
                moved=len(columns) + 2,
                assign=SQL(", ").join(SQL("%s = v.%s", SQL.identifier(c), SQL.identifier(c)) for c in columns),
                rows="\n".join(lines),
                now=self.env.cr.now(),
                moved_at=moved_at,
                uid=self.env.uid,
                source=source_key,
                user_id=user_id,
            )
        )
        recorded.update((pid, (hid, moved_at)) for pid, hid in self.env.cr.fetchall())
        ids = [pid for pid, _vals in updates]
        partners = Partner.browse(ids)
        partners.invalidate_recordset([*columns, "write_date", "write_uid"])
        partners.modified(columns)  # what derives from them (the rendered reasons...) is stale too
        if moves:
            Partner.browse(list(moved)).invalidate_recordset(["ladder_history_ids"])
            self.env["crm.ladder.history"].invalidate_model()

    def _amend_moves_of_this_transaction(self, moves, recorded, updates):
        """The partners of `moves` moved earlier in this request (`recorded`: their history rows):
        amend that move to the new rung, or remove it if the partner is back where it started (and
        give back its date in the rung).

        Returns the partners handled here. Rare (a computation that runs twice for a partner before
        its request commits), so it costs no query when there are none. The rows are read again: a
        savepoint may have rolled them back.
        """
        if not moves:
            return set()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT partner_id, id, from_stage FROM crm_ladder_history WHERE id = ANY(%s)",
                [recorded[pid][0] for pid, _row, _new in moves],
            )
        )
        earlier = {pid: (hid, from_stage) for pid, hid, from_stage in cr.fetchall()}
        values = dict(updates)
        for pid, _row, new in moves:
            if pid not in earlier:
                continue
            hid, from_stage = earlier[pid]
            if from_stage == new["ladder_stage"]:
                cr.execute(SQL("DELETE FROM crm_ladder_history WHERE id = %s", hid))
                del recorded[pid]
                cr.execute(SQL("SELECT max(date) FROM crm_ladder_history WHERE partner_id = %s", pid))
                values[pid]["ladder_since"] = cr.fetchone()[0] or values[pid]["ladder_since"]
            else:
                cr.execute(
                    SQL(
                        "UPDATE crm_ladder_history SET to_stage = %s, direction = %s, reason_data = %s WHERE id = %s",
                        new["ladder_stage"],
                        ladder_direction(from_stage, new["ladder_stage"]),
                        _encode_json(new["ladder_reason_data"]),
                        hid,
                    )
                )
        return set(earlier)

    def _sync_contacts(self, ids):
        """Contacts carry their company's values, as Odoo's own sync of commercial fields would:
        `ids` are the companies whose synced values just changed and that have contacts."""
        Partner = self.env["res.partner"]
        synced = SQL(", ").join(SQL.identifier(c) for c in SYNCED_COLUMNS)
        company_values = SQL(", ").join(SQL("p.%s", SQL.identifier(c)) for c in SYNCED_COLUMNS)
        self.env.cr.execute(
            SQL(
                # both sides looked up by the batch's ids: with the join alone, PostgreSQL read the
                # whole table to find the few contacts of a batch
                "UPDATE res_partner AS c SET (%s) = (%s) FROM res_partner AS p"
                " WHERE p.id = ANY(%s) AND c.commercial_partner_id = ANY(%s) AND c.id <> c.commercial_partner_id"
                " AND c.commercial_partner_id = p.id AND (%s) IS DISTINCT FROM (%s) RETURNING c.id",
                synced,
                company_values,
                ids,
                ids,
                SQL(", ").join(SQL("c.%s", SQL.identifier(c)) for c in SYNCED_COLUMNS),
                company_values,
            )
        )
        contacts = Partner.browse([row[0] for row in self.env.cr.fetchall()])
        contacts.invalidate_recordset(SYNCED_COLUMNS)
        contacts.modified(SYNCED_COLUMNS)

    def _track_moves(self, moves):
        """The chatter says when a partner whose rung was known changed rung: once per transaction,
        with the rung it had when the transaction began and the one it has at its end.

        A partner that the ORM tracks in this transaction (someone wrote it: unlocking, the strategic
        flag...) gets the move in that same tracking message. The others get theirs in one batch at
        the end of the transaction (creating each message through the ORM costs a dozen queries).
        """
        data = self.env.cr.precommit.data
        orm_tracking = data.get("mail.tracking.res.partner", {})
        pending = data.get("crm_lifecycle.tracking")
        for pid, row, _new in moves:
            if not row["ladder_since"]:
                continue  # a first placement: the history says it
            if orm_tracking.get(pid) is not None and "ladder_stage" in orm_tracking[pid]:
                continue  # the ORM has the rung it had at the start and will post the change
            if pending is None:
                pending = data["crm_lifecycle.tracking"] = {}
                self.env.cr.precommit.add(self._post_tracked_moves)
            pending.setdefault(pid, row["ladder_stage"])

    def _post_tracked_moves(self):
        pending = self.env.cr.precommit.data.pop("crm_lifecycle.tracking", {})
        orm_tracking = self.env.cr.precommit.data.get("mail.tracking.res.partner", {})
        if not pending:
            return
        self.env.cr.execute(SQL("SELECT id, ladder_stage FROM res_partner WHERE id = ANY(%s)", list(pending)))
        tracked = []
        for pid, stage in self.env.cr.fetchall():
            initial = orm_tracking.get(pid)
            if initial is not None and "ladder_stage" in initial:
                # written after the move: give the ORM the rung of the start, it posts one message
                initial["ladder_stage"] = pending[pid]
            elif stage != pending[pid]:
                tracked.append((pid, pending[pid], stage))
        if not tracked:
            return
        Partner = self.env["res.partner"].sudo()
        col_info = Partner.fields_get(["ladder_stage"], ["string", "type", "selection"])["ladder_stage"]
        Tracking = self.env["mail.tracking.value"]
        author_id, email_from = Partner._message_compute_author(raise_on_email=False)
        base = {
            "author_id": author_id,
            "email_from": email_from,
            "model": "res.partner",
            "message_type": "notification",
            "is_internal": True,
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "email_add_signature": False,
            "reply_to": self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False],
            "body": Markup(""),
        }
        partners = Partner.browse([pid for pid, _old, _new in tracked])
        # load the partners' columns in one query (reading one field prefetches them all): creating a
        # message reads its record's name, one record at a time
        partners.mapped("name")
        messages = partners._message_create(
            [
                dict(base, res_id=partner.id, message_id=generate_tracking_message_id("message-notify"))
                for partner in partners
            ]
        )
        # tracking values in one INSERT (as commands on each message they would be one INSERT each)
        Tracking.sudo().create(
            [
                dict(
                    Tracking._create_tracking_values(old, new, "ladder_stage", col_info, partner),
                    mail_message_id=message.id,
                )
                for partner, message, (_pid, old, new) in zip(partners, messages, tracked, strict=True)
            ]
        )
        self.env.flush_all()

    # ------------------------------------------------------------------ nightly run
    @api.model
    def _cron_recompute(self, batch_size=2000):
        """One batch of the nightly run; the cron runner commits and calls again while some remain.

        The position is kept on the run's record (crm.lifecycle.run), written in the same
        transaction as the batch: an interrupted run resumes at the first batch that was not
        committed, nothing is lost and nothing written twice (unchanged rows are never written
        anyway). A second run at the same time finds the record locked and leaves the work to the
        first. A batch that meets a concurrent update of one of its partners (a prompt update, a
        manager's recompute, committed after the batch began) is rolled back and run again a few
        seconds later, from the same position, on the books as they are then.

        The run's last batch then refreshes the retention and cohort reports
        (crm.lifecycle.retention.report `_refresh_reports`).
        """
        run = self.env["crm.lifecycle.run"]._for_job("ladder")
        if not run._lock():
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        try:
            with self.env.cr.savepoint():
                done, remaining = self._run_batch(run, batch_size)
        except TransactionRollbackError:
            self.env.invalidate_all()
            cron = self.env.ref("crm_lifecycle.ir_cron_lifecycle_recompute", raise_if_not_found=False)
            if cron:
                cron._trigger(fields.Datetime.now() + RETRY_AFTER)
            self.env["ir.cron"]._notify_progress(done=0, remaining=max(run.remaining, 1))
            return max(run.remaining, 1)
        if not remaining:
            self._refresh_reports_after_run()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return remaining

    def _refresh_reports_after_run(self):
        # a refresh that fails must not undo the run's last batch: the run would never end, each call
        # of the cron doing that batch again (the reports keep the figures of the last refresh)
        try:
            with self.env.cr.savepoint():
                self.env["crm.lifecycle.retention.report"]._refresh_reports()
        except psycopg2.Error:
            _logger.exception("The retention and cohort reports could not be refreshed after the nightly run")

    def _run_batch(self, run, batch_size):
        Partner = self.env["res.partner"].sudo()
        companies = self.env["res.company"].sudo().search([])
        Retention = self.env["crm.lifecycle.retention"]
        if not run.cursor:
            # a new run: rank each company's customers and fit its models once, before any batch uses
            # them, and count what it has to do (once: a count per batch cost 25 ms each at 100,000 partners)
            companies._lifecycle_refresh_cutpoints()
            for company in companies:
                Retention._fit(company)
            todo = Partner.search_count(COMMERCIAL_DOMAIN)
        else:
            todo = run.remaining
        partners = Partner.search([("id", ">", run.cursor), *COMMERCIAL_DOMAIN], order="id", limit=batch_size)
        self._recompute(partners)
        # a short batch was the last; after a full one, at least one more call tells (partners
        # created during the run are processed too, and only make the estimate low)
        remaining = max(todo - len(partners), 1) if len(partners) == batch_size else 0
        if not remaining:
            # the first run of all fitted the models before anyone was placed: fit them (every company
            # that has none) and run once more with them
            unfitted = companies.filtered(lambda c: not (c.lifecycle_models or {}).get("customers"))
            if sum(Retention._fit(company)["customers"] for company in unfitted):
                run._restart()
                return len(partners), 1
        run._advance(partners[-1].id if remaining else 0, remaining)
        return len(partners), remaining


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector during a batch.

    A batch allocates a few rows, dicts and lists per partner and keeps them until they are
    written: in an Odoo process the collector then walks the whole registry several times per
    batch (15% of a batch's time measured on bench/ladder.py) to find no garbage. The collector
    runs again right after; what the batch leaves is freed then, or by reference counting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# one encoder for all rows (json.dumps with options builds a new one per call); ASCII output keeps
# the C encoder's fast path for strings
_encode_json = json.JSONEncoder(separators=(",", ":")).encode


def _tsv(value):
    """One value of a row of _write_partners' text: PostgreSQL casts it back to the column's type.

    None is the empty string; str() of dates and datetimes is their ISO form; JSON never holds a
    raw tab or newline (it escapes them).
    """
    if value is None:
        return ""
    return _encode_json(value) if type(value) is dict else str(value)


def _tsv_column(model, column, index):
    """Field `index` of the text row `a`, typed as the field's column."""
    kind = model._fields[column].column_type[1]
    return SQL("NULLIF(a[%s], '')::%s AS %s", index, SQL(kind), SQL.identifier(column))


def _round_amounts(reason, digits):
    """Round the amounts of the explanation (in place) to the company currency, as stored figures are.

    Walks the shape `classify` builds (facts, needs, tier, relationship checks: [code, params,
    ...]) instead of every node: it runs for every partner of every batch.
    """
    entries = [*reason["facts"], reason["tier"], *reason.get("relationship", ())]
    if reason.get("next"):
        entries += reason["next"]["needs"]
    for entry in entries:
        params = entry[1]
        if "amount" in params:
            params["amount"] = round(params["amount"], digits)
    return reason
