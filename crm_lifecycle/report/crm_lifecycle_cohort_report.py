from odoo import fields, models, tools
from odoo.tools import SQL

from .crm_lifecycle_purchases import PURCHASE_DAYS


class CrmLifecycleCohortReport(models.Model):
    """Cohorts by month of first purchase: of the customers who first bought in a month, the share who
    bought again N months later."""

    _name = "crm.lifecycle.cohort.report"
    _description = "Customer cohorts by month of first purchase"
    _auto = False
    _order = "cohort desc, months_after"
    _rec_name = "cohort"

    company_id = fields.Many2one("res.company", readonly=True)
    cohort = fields.Date("First purchase in", readonly=True)
    months_after = fields.Integer("Months after", readonly=True, aggregator=None)
    cohort_size = fields.Integer("Customers in the cohort", readonly=True, aggregator="max")
    active_count = fields.Integer("Still buying", readonly=True, aggregator="sum")
    retention = fields.Float(
        "Still buying (%)", readonly=True, aggregator="avg", help="Of the cohort, the share who bought in that month."
    )

    def _query(self):
        return SQL(
            """
WITH days AS (%(days)s),
firsts AS (
    SELECT company_id, pid, date_trunc('month', min(day))::date AS cohort FROM days GROUP BY 1, 2
),
sizes AS (
    SELECT company_id, cohort, count(*) AS cohort_size FROM firsts GROUP BY 1, 2
),
active AS (
    SELECT DISTINCT company_id, pid, date_trunc('month', day)::date AS month FROM days
)
SELECT row_number() OVER (ORDER BY f.company_id, f.cohort, x.months_after) AS id, f.company_id, f.cohort,
       x.months_after, s.cohort_size, count(*) AS active_count, 100.0 * count(*) / s.cohort_size AS retention
  FROM firsts f
  JOIN active a ON a.company_id = f.company_id AND a.pid = f.pid
  JOIN sizes s ON s.company_id = f.company_id AND s.cohort = f.cohort
 CROSS JOIN LATERAL (
       SELECT ((extract(year FROM a.month) - extract(year FROM f.cohort)) * 12
               + extract(month FROM a.month) - extract(month FROM f.cohort))::int AS months_after
 ) x
 GROUP BY f.company_id, f.cohort, x.months_after, s.cohort_size
            """,
            days=PURCHASE_DAYS,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
