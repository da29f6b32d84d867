from odoo import api, fields, models
from odoo.tools import SQL

from . import materialized
from .crm_lifecycle_purchases import PURCHASE_DAYS


class CrmLifecycleRetentionReport(models.Model):
    """Retention and churn per month and company: customers active at the start of the month (they
    bought within the churn period before it), new, won back and churned during it, the rates, and
    the revenue kept and lost. Churned: no purchase for the company's churn period (a year by default),
    counted in the month the period ran out. Stored: the figures are those of the last nightly run."""

    _name = "crm.lifecycle.retention.report"
    _description = "Retention and churn per month"
    _auto = False
    _order = "month desc"
    _rec_name = "month"

    month = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    # a head count at a date: over several months the average, not a sum (3 months of 10 are not 30)
    active_start = fields.Integer("Customers at the start", readonly=True, aggregator="avg")
    new_count = fields.Integer("New customers", readonly=True, aggregator="sum")
    won_back_count = fields.Integer("Won back", readonly=True, aggregator="sum")
    churned_count = fields.Integer("Churned", readonly=True, aggregator="sum")
    retained_count = fields.Integer("Customers kept", readonly=True, aggregator="avg")
    churn_rate = fields.Float(
        "Churn rate (%)", readonly=True, aggregator="avg", help="Churned in the month, of the customers at its start."
    )
    retention_rate = fields.Float(
        "Retention rate (%)", readonly=True, aggregator="avg", help="Kept through the month, of those at its start."
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    revenue = fields.Monetary(readonly=True, aggregator="sum")
    revenue_kept = fields.Monetary(
        "Revenue kept",
        readonly=True,
        aggregator="sum",
        help="Invoiced in the month to customers who were there before.",
    )
    revenue_lost = fields.Monetary(
        "Revenue lost",
        readonly=True,
        aggregator="sum",
        help="What the customers who churned in the month had brought in their last year.",
    )

    def _query(self):
        return SQL(
            """
WITH days AS (%(days)s),
steps AS (
    SELECT d.company_id, d.pid, d.day, lag(d.day) OVER w AS prev, lead(d.day) OVER w AS next,
           COALESCE(c.lifecycle_churn_period_days, 365) AS period
      FROM days d JOIN res_company c ON c.id = d.company_id
    WINDOW w AS (PARTITION BY d.company_id, d.pid ORDER BY d.day)
),
events AS (
    SELECT company_id, pid, day AS event_day, 'new' AS kind, day AS last_day FROM steps WHERE prev IS NULL
    UNION ALL
    SELECT company_id, pid, day, 'won_back', day FROM steps WHERE prev IS NOT NULL AND day - prev > period
    UNION ALL
    SELECT company_id, pid, day + period, 'churned', day FROM steps
     WHERE (next IS NULL OR next - day > period) AND day + period <= CURRENT_DATE
),
monthly AS (
    SELECT company_id, date_trunc('month', event_day)::date AS month,
           count(*) FILTER (WHERE kind = 'new') AS new_count,
           count(*) FILTER (WHERE kind = 'won_back') AS won_back_count,
           count(*) FILTER (WHERE kind = 'churned') AS churned_count
      FROM events GROUP BY 1, 2
),
months AS (
    SELECT c.id AS company_id, m::date AS month
      FROM res_company c
     CROSS JOIN LATERAL generate_series(
           (SELECT date_trunc('month', min(event_day)) FROM events e WHERE e.company_id = c.id),
           date_trunc('month', CURRENT_DATE), interval '1 month') AS m
),
counted AS (
    SELECT m.company_id, m.month, COALESCE(x.new_count, 0) AS new_count,
           COALESCE(x.won_back_count, 0) AS won_back_count, COALESCE(x.churned_count, 0) AS churned_count,
           COALESCE(sum(COALESCE(x.new_count, 0) + COALESCE(x.won_back_count, 0) - COALESCE(x.churned_count, 0))
               OVER (PARTITION BY m.company_id ORDER BY m.month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS active_start
      FROM months m LEFT JOIN monthly x ON x.company_id = m.company_id AND x.month = m.month
),
invoiced AS (
    SELECT am.company_id, date_trunc('month', am.invoice_date)::date AS month, am.commercial_partner_id AS pid,
           sum(am.amount_untaxed_signed) AS amount
      FROM account_move am
     WHERE am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')
     GROUP BY 1, 2, 3
),
arrived AS (
    -- a join, not a NOT EXISTS in the FILTER: that one ran per invoiced month over all the events
    SELECT DISTINCT company_id, pid, date_trunc('month', event_day)::date AS month
      FROM events WHERE kind IN ('new', 'won_back')
),
revenue AS (
    SELECT i.company_id, i.month, sum(i.amount) AS revenue,
           sum(i.amount) FILTER (WHERE a.pid IS NULL) AS revenue_kept
      FROM invoiced i
      LEFT JOIN arrived a ON a.company_id = i.company_id AND a.pid = i.pid AND a.month = i.month
     GROUP BY 1, 2
),
lost AS (
    SELECT e.company_id, date_trunc('month', e.event_day)::date AS month, sum(i.amount) AS revenue_lost
      FROM events e JOIN invoiced i ON i.company_id = e.company_id AND i.pid = e.pid
       AND i.month > date_trunc('month', e.last_day - 365) AND i.month <= date_trunc('month', e.last_day)
     WHERE e.kind = 'churned'
     GROUP BY 1, 2
)
SELECT row_number() OVER (ORDER BY c.company_id, c.month) AS id, c.company_id, c.month, c.active_start,
       c.new_count, c.won_back_count, c.churned_count, c.active_start - c.churned_count AS retained_count,
       CASE WHEN c.active_start > 0 THEN 100.0 * c.churned_count / c.active_start END AS churn_rate,
       CASE WHEN c.active_start > 0 THEN 100.0 * (c.active_start - c.churned_count) / c.active_start END
           AS retention_rate,
       co.currency_id, COALESCE(r.revenue, 0) AS revenue, COALESCE(r.revenue_kept, 0) AS revenue_kept,
       COALESCE(l.revenue_lost, 0) AS revenue_lost
  FROM counted c
  JOIN res_company co ON co.id = c.company_id
  LEFT JOIN revenue r ON r.company_id = c.company_id AND r.month = c.month
  LEFT JOIN lost l ON l.company_id = c.company_id AND l.month = c.month
            """,
            days=PURCHASE_DAYS,
        )

    @api.model
    def _refresh_reports(self):
        """Store the retention and cohort reports again from the books as they are now (both are
        materialized views, see materialized.py): at the end of the nightly run; the install and
        every upgrade create them anew. Returns False, having done nothing, when another
        transaction is refreshing them."""
        self.env.flush_all()  # the views read the books through SQL
        reports = [self.env[name] for name in materialized.REPORT_MODELS]
        done = materialized.refresh(self.env.cr, [report._table for report in reports])
        for report in reports:
            report.invalidate_model()
        return done

    def init(self):
        # stored, refreshed at the end of the nightly run (retention report `_refresh_reports`)
        materialized.create(self.env.cr, self._table, self._query(), {"company_month": ["company_id", "month"]})
