from odoo import fields, models
from odoo.tools import SQL

from . import materialized
from .crm_lifecycle_purchases import PURCHASE_DAYS


class CrmLifecycleCohortReport(models.Model):
    """Cohorts by month of first purchase: of the customers who first bought in a month, the share who
    bought again N months later (0 in the months when none of them did). Stored: the figures are those
    of the last nightly run."""

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
        # every month from the cohort's to the current one, 0 where nobody of the cohort bought: an
        # average over cohorts then counts those who stopped, and a gap reads 0%, not "no figure"
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
),
bought AS (
    SELECT f.company_id, f.cohort,
           ((extract(year FROM a.month) - extract(year FROM f.cohort)) * 12
            + extract(month FROM a.month) - extract(month FROM f.cohort))::int AS months_after,
           count(*) AS active_count
      FROM firsts f
      JOIN active a ON a.company_id = f.company_id AND a.pid = f.pid
     GROUP BY 1, 2, 3
),
grid AS (
    SELECT s.company_id, s.cohort, s.cohort_size, g.months_after
      FROM sizes s
     CROSS JOIN LATERAL generate_series(
           0, ((extract(year FROM CURRENT_DATE) - extract(year FROM s.cohort)) * 12
               + extract(month FROM CURRENT_DATE) - extract(month FROM s.cohort))::int
     ) AS g(months_after)
)
SELECT row_number() OVER (ORDER BY g.company_id, g.cohort, g.months_after) AS id, g.company_id, g.cohort,
       g.months_after, g.cohort_size, COALESCE(b.active_count, 0) AS active_count,
       100.0 * COALESCE(b.active_count, 0) / g.cohort_size AS retention
  FROM grid g
  LEFT JOIN bought b ON b.company_id = g.company_id AND b.cohort = g.cohort AND b.months_after = g.months_after
            """,
            days=PURCHASE_DAYS,
        )

    def init(self):
        # stored, refreshed at the end of the nightly run (retention report `_refresh_reports`)
        materialized.create(
            self.env.cr, self._table, self._query(), {"company_cohort": ["company_id", "cohort", "months_after"]}
        )
