from odoo import fields, models, tools
from odoo.tools import SQL

from ..lib.ladder import LIFECYCLE_SELECTION


class CrmLifecycleFunnelReport(models.Model):
    """The customer lifecycle as a funnel: one row per lead (lost ones too) and one per customer
    company in the funnel, counted at every stage it reached (a signed one was also a target, a
    potential and an opportunity). Each rate is NULL on a row that did not reach its starting stage,
    so that its average over any group is the conversion of that group."""

    _name = "crm.lifecycle.funnel.report"
    _description = "Lifecycle funnel"
    _auto = False
    _order = "date desc"

    kind = fields.Selection([("lead", "Leads"), ("partner", "Customers")], "Counted", readonly=True)
    lead_id = fields.Many2one("crm.lead", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer company", readonly=True)
    date = fields.Datetime("Entered on", readonly=True, help="When the lead or the customer was created.")
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one(
        "crm.team", "Sales team", readonly=True, help="A customer's is the main team of their salesperson."
    )
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True, help="A customer's is the source of their first lead.")
    medium_id = fields.Many2one("utm.medium", "Marketing medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    lifecycle_stage = fields.Selection(LIFECYCLE_SELECTION, "Lifecycle stage", readonly=True)
    nurture = fields.Boolean("In the nurture pool", readonly=True)
    lost = fields.Boolean("Lost lead", readonly=True, help="Lost leads count too, as far as they went.")
    # measures: reached at least this stage
    target_count = fields.Integer(
        "Targets", readonly=True, aggregator="sum", help="Everything that entered the funnel."
    )
    potential_count = fields.Integer("Potential", readonly=True, aggregator="sum")
    opportunity_count = fields.Integer("Opportunities", readonly=True, aggregator="sum")
    signed_count = fields.Integer("Signed", readonly=True, aggregator="sum")
    potential_rate = fields.Float("Target to potential (%)", readonly=True, aggregator="avg")
    opportunity_rate = fields.Float(
        "Potential to opportunity (%)", readonly=True, aggregator="avg", help="Of those that reached potential."
    )
    signed_rate = fields.Float(
        "Opportunity to signed (%)", readonly=True, aggregator="avg", help="Of those that reached opportunity."
    )
    conversion_rate = fields.Float("Target to signed (%)", readonly=True, aggregator="avg")

    def _query(self):
        return SQL(
            """
            WITH funnel AS (
                SELECT 2 * l.id AS id, 'lead' AS kind, l.id AS lead_id, p.commercial_partner_id AS partner_id,
                       l.create_date AS date, l.company_id, l.team_id, l.user_id,
                       l.source_id, l.medium_id, l.campaign_id, l.lifecycle_stage,
                       COALESCE(l.nurture, false) AS nurture, NOT l.active AS lost
                  FROM crm_lead l
             LEFT JOIN res_partner p ON p.id = l.partner_id
                 WHERE l.lifecycle_stage IS NOT NULL
             UNION ALL
                SELECT 2 * p.id + 1, 'partner', NULL, p.id,
                       p.create_date, p.company_id, u.sale_team_id, p.user_id,
                       first_lead.source_id, first_lead.medium_id, first_lead.campaign_id, p.lifecycle_stage,
                       false, false
                  FROM res_partner p
             LEFT JOIN res_users u ON u.id = p.user_id
             LEFT JOIN LATERAL (
                       SELECT l.source_id, l.medium_id, l.campaign_id
                         FROM crm_lead l JOIN res_partner c ON c.id = l.partner_id
                        WHERE c.commercial_partner_id = p.id
                     ORDER BY l.create_date, l.id
                        LIMIT 1) first_lead ON true
                 WHERE p.id = p.commercial_partner_id AND p.active AND p.lifecycle_stage IS NOT NULL
            ), reached AS (
                SELECT f.*,
                       (f.lifecycle_stage IN ('potential', 'opportunity', 'signed'))::int AS potential,
                       (f.lifecycle_stage IN ('opportunity', 'signed'))::int AS opportunity,
                       (f.lifecycle_stage = 'signed')::int AS signed
                  FROM funnel f
            )
            SELECT id, kind, lead_id, partner_id, date, company_id, team_id, user_id, source_id, medium_id,
                   campaign_id, lifecycle_stage, nurture, lost,
                   1 AS target_count, potential AS potential_count, opportunity AS opportunity_count,
                   signed AS signed_count,
                   100.0 * potential AS potential_rate,
                   CASE WHEN potential = 1 THEN 100.0 * opportunity END AS opportunity_rate,
                   CASE WHEN opportunity = 1 THEN 100.0 * signed END AS signed_rate,
                   100.0 * signed AS conversion_rate
              FROM reached
            """
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
