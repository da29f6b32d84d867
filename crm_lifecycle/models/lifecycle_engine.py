"""The one computation behind every lifecycle figure: read the books for a batch, classify, write.

Every entry point (nightly cron, sale/invoice/payment hooks, the manager's button, partner
merge) calls `crm.lifecycle.engine._recompute(partners)`. Per batch it issues a bounded number
of queries whatever the batch size: one read of the stored values, one read of the books per
company, one statement that updates the rows that changed and inserts their history rows, one
UPDATE of their contacts, and the tracking messages. Rows whose values did not change are not
written at all.
"""

import gc
import json
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from ..lib.ladder import CUT_FRACTIONS, Figures, classify
from .crm_ladder_history import ladder_direction

CURSOR_PARAM = "crm_lifecycle.recompute_cursor"
TODO_PARAM = "crm_lifecycle.recompute_remaining"  # partners the current run has left, for its progress
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


class CrmLifecycleEngine(models.AbstractModel):
    _name = "crm.lifecycle.engine"
    _description = "Customer lifecycle computation"

    # ------------------------------------------------------------------ entry point
    @api.model
    def _recompute(self, partners):
        """Recompute the lifecycle of the commercial partners of `partners`.

        Returns the number of partners whose stored values changed.
        """
        if not partners:
            return 0
        self.env.flush_all()  # the SQL below reads what the caller just wrote
        with _gc_paused():
            return self._recompute_batch(partners)

    def _recompute_batch(self, partners):
        current = self._read_current(partners.ids)
        by_company = defaultdict(list)
        main_company = self._main_company()
        for pid, row in current.items():
            by_company[row["company_id"] or main_company.id].append(pid)

        now = self.env.cr.now().replace(microsecond=0)
        today = fields.Date.context_today(self)
        updates, moves, synced = [], [], []
        for company_id, company_ids in by_company.items():
            company = self.env["res.company"].sudo().browse(company_id)
            thresholds = company._lifecycle_thresholds()
            cuts = company._lifecycle_cutpoints()
            figures = self._read_figures(company, company_ids, thresholds, today)
            currency_id, digits = company.currency_id.id, company.currency_id.decimal_places
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
                new = self._new_values(row, fig, placement, currency_id, digits, now)
                if any(new[col] != row[col] for col in new):
                    updates.append((pid, new))
                    if new["ladder_stage"] != row["ladder_stage"]:
                        moves.append((pid, row, new))
                    if row["has_contacts"] and any(new[col] != row[col] for col in SYNCED_COLUMNS):
                        synced.append(pid)
        if updates:
            self._write_partners(updates, moves, now)
        if synced:
            self._sync_contacts(synced)
        if moves:
            self._track_moves(moves)
        return len(updates)

    # ------------------------------------------------------------------ reads
    def _main_company(self):
        return self.env["res.company"].sudo().search([], order="id", limit=1)

    def _read_current(self, ids):
        """Stored lifecycle values of the commercial partners of `ids`, one query.

        The commercial partners are found in the same query: through the ORM, `commercial_partner_id`
        would load every column of the partners into the cache.
        """
        columns = [*STATE_COLUMNS, *FIGURE_COLUMNS]
        self.env.cr.execute(
            SQL(
                "SELECT id, company_id, ladder_locked, ladder_strategic, lifecycle_targeted, %s,"
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

    def _read_figures(self, company, ids, thresholds, today):
        """What the books say about each partner: one query for the whole batch."""
        since = today - timedelta(days=365)
        overdue_before = today - timedelta(days=thresholds.overdue_grace_days)
        names, rows = self._execute_without_jit(self._figures_query(company.id, ids, since, overdue_before))
        # the query returns Figures' fields in their order, none NULL but dates: built by position
        assert names[1:] == FIGURE_FIELDS[: len(names) - 1], "the figures query and Figures disagree"
        result = {row[0]: Figures(*row[1:]) for row in rows}
        for pid, extra in self._read_extra_figures(company, ids).items():
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

    def _read_extra_figures(self, company, ids):
        """Figures from other sources than the books: {partner_id: {Figures field: value}}.

        Open complaints, one query for the batch (extend this for further sources).
        """
        self.env.cr.execute(
            SQL(
                "SELECT commercial_partner_id, count(*) FROM crm_complaint"
                " WHERE commercial_partner_id = ANY(%s) AND company_id = %s AND NOT COALESCE(is_closed, false)"
                " GROUP BY commercial_partner_id",
                ids,
                company.id,
            )
        )
        return {pid: {"open_complaint_count": count} for pid, count in self.env.cr.fetchall()}

    def _figures_query(self, company_id, ids, since, overdue_before):
        return SQL(
            """
WITH members AS MATERIALIZED (
    -- the customers and their contacts
    SELECT id, commercial_partner_id AS pid FROM res_partner WHERE commercial_partner_id = ANY(%(ids)s)
), so_rows AS (
    SELECT m.pid, so.partner_id AS contact, so.date_order::date AS day, so.state
      FROM members m
     CROSS JOIN LATERAL (
        SELECT s.partner_id, s.date_order, s.state FROM sale_order s
         WHERE s.partner_id = m.id AND s.company_id = %(company)s AND s.state IN ('draft', 'sent', 'sale')
        -- OFFSET 0 keeps the lookup by partner: a hash join would read every order of the company
        OFFSET 0
     ) so
), moves AS (
    -- cost and order origin as stored when each document was posted (account.move._post)
    SELECT am.id, am.commercial_partner_id AS pid, am.partner_id AS contact, am.move_type, am.invoice_date,
           am.amount_untaxed_signed, am.amount_residual_signed, am.payment_state, am.invoice_date_due,
           am.lifecycle_from_order AS from_order, am.reversed_entry_id,
           %(signed_cost)s AS cost
      FROM account_move am
     WHERE am.commercial_partner_id = ANY(%(ids)s) AND am.company_id = %(company)s
       AND am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')
), refunds AS (
    -- credit notes that reverse a whole invoice, most often one of the same customer read just above
    SELECT r.pid, r.invoice_date
      FROM moves r LEFT JOIN moves o ON o.id = r.reversed_entry_id
     WHERE r.move_type = 'out_refund' AND r.reversed_entry_id IS NOT NULL
       AND -r.amount_untaxed_signed >= COALESCE(o.amount_untaxed_signed,
            (SELECT x.amount_untaxed_signed FROM account_move x WHERE x.id = r.reversed_entry_id))
), refund_figures AS (
    SELECT pid, count(*) AS refund_count, count(*) FILTER (WHERE invoice_date >= %(since)s) AS refund_count_12m
      FROM refunds GROUP BY pid
), purchases AS (
    -- a purchase is a confirmed order, or an invoice that did not come from an order
    SELECT pid, contact, day FROM so_rows WHERE state = 'sale'
    UNION ALL
    SELECT pid, contact, invoice_date FROM moves WHERE move_type = 'out_invoice' AND NOT COALESCE(from_order, false)
), purchase_figures AS (
    SELECT pid, count(*) AS order_count, count(*) FILTER (WHERE day >= %(since)s) AS order_count_12m,
           count(DISTINCT day) AS order_days, min(day) AS first_order, max(day) AS last_order,
           count(DISTINCT contact) AS contact_count
      FROM purchases GROUP BY pid
), quotes AS (
    SELECT pid, count(*) AS quotation_count FROM so_rows WHERE state IN ('draft', 'sent') GROUP BY pid
), move_figures AS (
    -- credit notes count negative (signed amounts) and give the cost back
    SELECT pid,
           bool_or(move_type = 'out_invoice') AS invoiced,
           sum(amount_untaxed_signed) AS revenue,
           sum(amount_untaxed_signed) FILTER (WHERE invoice_date >= %(since)s) AS revenue_12m,
           sum(amount_residual_signed) FILTER (
               WHERE move_type = 'out_invoice' AND payment_state IN ('not_paid', 'partial')
                 AND invoice_date_due < %(overdue_before)s) AS overdue_amount,
           sum(cost) AS cost, sum(cost) FILTER (WHERE invoice_date >= %(since)s) AS cost_12m
      FROM moves GROUP BY pid
), referral_figures AS (
    SELECT r.referred_by_id AS pid, count(*) AS referral_count,
           count(*) FILTER (WHERE
               EXISTS (SELECT 1 FROM sale_order s JOIN res_partner c ON c.id = s.partner_id
                        WHERE c.commercial_partner_id = r.id AND s.state = 'sale' AND s.company_id = %(company)s)
               OR EXISTS (SELECT 1 FROM account_move i
                           WHERE i.commercial_partner_id = r.id AND i.state = 'posted'
                             AND i.move_type = 'out_invoice' AND i.company_id = %(company)s)
           ) AS referral_customer_count
      FROM res_partner r
     WHERE r.referred_by_id = ANY(%(ids)s) AND r.active AND r.id = r.commercial_partner_id
     GROUP BY r.referred_by_id
), lead_figures AS (
    SELECT rp.pid,
           count(*) FILTER (WHERE c.type = 'lead') AS open_lead_count,
           count(*) FILTER (WHERE c.type = 'opportunity') AS open_opportunity_count
      FROM crm_lead c JOIN members rp ON rp.id = c.partner_id
     WHERE c.active AND COALESCE(c.probability, 0) < 100
       AND (c.company_id = %(company)s OR c.company_id IS NULL)
     GROUP BY rp.pid
)
SELECT p.id AS pid,  -- then the fields of Figures, in their order
       COALESCE(pf.order_count, 0) AS order_count, COALESCE(pf.order_count_12m, 0) AS order_count_12m,
       COALESCE(pf.order_days, 0) AS order_days, COALESCE(xf.refund_count, 0) AS refund_count,
       COALESCE(xf.refund_count_12m, 0) AS refund_count_12m, pf.first_order, pf.last_order,
       COALESCE(mf.invoiced, false) AS invoiced, COALESCE(mf.revenue, 0) AS revenue,
       COALESCE(mf.revenue_12m, 0) AS revenue_12m, COALESCE(mf.cost, 0) AS cost,
       COALESCE(mf.cost_12m, 0) AS cost_12m, COALESCE(mf.overdue_amount, 0) AS overdue_amount,
       COALESCE(rf.referral_count, 0) AS referral_count,
       COALESCE(rf.referral_customer_count, 0) AS referral_customer_count,
       COALESCE(pf.contact_count, 0) AS contact_count, COALESCE(lf.open_lead_count, 0) AS open_lead_count,
       COALESCE(lf.open_opportunity_count, 0) AS open_opportunity_count,
       COALESCE(q.quotation_count, 0) AS quotation_count
  FROM unnest(%(ids)s::int[]) AS p(id)
  LEFT JOIN purchase_figures pf ON pf.pid = p.id
  LEFT JOIN move_figures mf ON mf.pid = p.id
  LEFT JOIN refund_figures xf ON xf.pid = p.id
  LEFT JOIN referral_figures rf ON rf.pid = p.id
  LEFT JOIN lead_figures lf ON lf.pid = p.id
  LEFT JOIN quotes q ON q.pid = p.id
            """,
            ids=ids,
            company=company_id,
            since=since,
            overdue_before=overdue_before,
            signed_cost=SIGNED_COST,
        )

    @api.model
    def _cutpoints_query(self, company, since):
        """Rank the company's customers by 12-month revenue and margin, in one query.

        Returns the distributions (the value at each 0.1%, to say "top 22%") and the exact values
        that qualify for the top shares set in Settings: top X% means the best ceil(X% of N)
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
            since=since,
            signed_cost=SIGNED_COST,
            fractions=CUT_FRACTIONS,
            partner_top=partner_top,
            platinum=platinum,
            gold=gold,
        )

    # ------------------------------------------------------------------ classification -> values
    def _new_values(self, row, fig, placement, currency_id, digits, now):
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
        if row["ladder_locked"]:
            # a manager's rung stands; the reason keeps their words and what the books say
            stage = row["ladder_stage"]
            manual = (row["ladder_reason_data"] or {}).get("manual")
            reason = dict(reason, manual=manual, computed_stage=placement.ladder_stage)
        since = row["ladder_since"]
        if stage != row["ladder_stage"] or not since:
            since = now
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
    def _write_partners(self, updates, moves, now):
        """One statement for the batch: UPDATE the changed partners, INSERT a history row per move.

        The rows travel as one tab-separated text, split and cast by PostgreSQL: a JSON document
        (or a VALUES list) of the same rows took longer to parse than the UPDATE took to apply.
        """
        Partner = self.env["res.partner"]
        columns = list(updates[0][1])
        moved = {pid: (row, new) for pid, row, new in moves}
        lines = []
        for pid, vals in updates:
            history = ("", "", "")
            if pid in moved:
                row, new = moved[pid]
                from_stage = row["ladder_stage"] if row["ladder_since"] else None  # none before the first placement
                direction = ladder_direction(from_stage, new["ladder_stage"])
                history = (from_stage or "", direction, str(row["company_id"] or ""))
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
-- computed moves: no user (the source says so); a manager's moves are written by the override wizard
INSERT INTO crm_ladder_history (partner_id, from_stage, to_stage, direction, reason_data, company_id, date, source)
SELECT v.id, NULLIF(v.from_stage, ''), v.ladder_stage, v.direction, v.ladder_reason_data, v.company_id,
       %(now)s, 'automatic'
  FROM v WHERE v.direction <> ''
                """,
                columns=SQL(", ").join(_tsv_column(Partner, c, i) for i, c in enumerate(columns, 2)),
                moved=len(columns) + 2,
                assign=SQL(", ").join(SQL("%s = v.%s", SQL.identifier(c), SQL.identifier(c)) for c in columns),
                rows="\n".join(lines),
                now=now,
                uid=self.env.uid,
            )
        )
        ids = [pid for pid, _vals in updates]
        partners = Partner.browse(ids)
        partners.invalidate_recordset([*columns, "write_date", "write_uid"])
        partners.modified(columns)  # what derives from them (the rendered reasons...) is stale too
        if moves:
            Partner.browse(list(moved)).invalidate_recordset(["ladder_history_ids"])

    def _sync_contacts(self, ids):
        """Contacts carry their company's values (res.partner._commercial_fields), as Odoo's own sync
        would: `ids` are the companies whose synced values just changed and that have contacts."""
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
        """A chatter tracking line on every partner whose rung was known before the move."""
        tracked = [(pid, row, new) for pid, row, new in moves if row["ladder_since"]]
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
        partners = Partner.browse([pid for pid, _row, _new in tracked])
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
                    Tracking._create_tracking_values(
                        row["ladder_stage"], new["ladder_stage"], "ladder_stage", col_info, partner
                    ),
                    mail_message_id=message.id,
                )
                for partner, message, (_pid, row, new) in zip(partners, messages, tracked, strict=True)
            ]
        )

    # ------------------------------------------------------------------ nightly run
    @api.model
    def _cron_recompute(self, batch_size=2000):
        """One batch of the nightly run; the cron runner commits and calls again while some remain.

        The position is kept in a parameter written in the same transaction as the batch, so an
        interrupted run resumes at the first batch that was not committed: nothing is lost, and
        nothing already written is written again (unchanged rows are never written anyway).
        """
        params = self.env["ir.config_parameter"].sudo()
        cursor = int(params.get_param(CURSOR_PARAM, 0) or 0)
        Partner = self.env["res.partner"].sudo()
        if not cursor:
            # a new run: rank each company's customers once, before any batch uses the ranking, and
            # count what it has to do (once: a count per batch cost 25 ms each at 100,000 partners)
            self.env["res.company"].sudo().search([])._lifecycle_refresh_cutpoints()
            todo = Partner.search_count(COMMERCIAL_DOMAIN)
        else:
            todo = int(params.get_param(TODO_PARAM, 0) or 0)
        partners = Partner.search([("id", ">", cursor), *COMMERCIAL_DOMAIN], order="id", limit=batch_size)
        self._recompute(partners)
        # a short batch was the last; after a full one, at least one more call tells (partners
        # created during the run are processed too, and only make the estimate low)
        remaining = max(todo - len(partners), 1) if len(partners) == batch_size else 0
        params.set_param(CURSOR_PARAM, partners[-1].id if remaining else 0)
        params.set_param(TODO_PARAM, remaining)
        self.env["ir.cron"]._notify_progress(done=len(partners), remaining=remaining)
        return remaining


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
