from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..lib.complaints import (
    CATEGORY_SELECTION,
    CHANNEL_SELECTION,
    SEVERITY_SELECTION,
    SLA_STATUS_SELECTION,
    TYPE_SELECTION,
)


class CrmComplaintReport(models.Model):
    """Complaints analysis: one row per complaint, its measures NULL where they do not apply yet, so that
    averages count only what happened (an unrated complaint is not a rating of 0)."""

    _name = "crm.complaint.report"
    _description = "Complaints analysis"
    _auto = False
    _rec_name = "complaint_id"
    _order = "request_date desc"

    complaint_id = fields.Many2one("crm.complaint", readonly=True)
    request_date = fields.Datetime("Received on", readonly=True)
    resolved_date = fields.Datetime("Resolved on", readonly=True)
    partner_id = fields.Many2one("res.partner", "Complainant", readonly=True)
    commercial_partner_id = fields.Many2one("res.partner", "Customer company", readonly=True)
    complaint_type = fields.Selection(TYPE_SELECTION, "Type", readonly=True)
    category = fields.Selection(CATEGORY_SELECTION, readonly=True)
    severity = fields.Selection(SEVERITY_SELECTION, readonly=True)
    channel = fields.Selection(CHANNEL_SELECTION, readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    user_id = fields.Many2one("res.users", "Owner", readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    stage_id = fields.Many2one("crm.complaint.stage", readonly=True)
    is_closed = fields.Boolean("Closed", readonly=True)
    sla_id = fields.Many2one("crm.complaint.sla", "SLA", readonly=True)
    sla_status = fields.Selection(SLA_STATUS_SELECTION, "SLA status", readonly=True)
    # measures
    complaint_count = fields.Integer("Complaints", readonly=True, aggregator="sum")
    sla_success = fields.Float(
        "SLA met (%)",
        readonly=True,
        aggregator="avg",
        help="Of the complaints whose SLA is decided (met, or breached even while still open): the share met.",
    )
    response_hours = fields.Float(
        "Hours to first response", readonly=True, aggregator="avg", help="In working hours, once responded."
    )
    resolution_hours = fields.Float(
        "Hours to resolution", readonly=True, aggregator="avg", help="In working hours, once resolved."
    )
    rating = fields.Float(
        "Satisfaction (CSAT)", readonly=True, aggregator="avg", help="The customer's rating, 1 to 5; empty until rated."
    )

    @api.depends("complaint_id")
    def _compute_display_name(self):
        # the complaint's name, as Odoo shows a many2one's (as superuser): lifecycle managers read the
        # analysis (their dashboard's figures) without reading the complaints themselves
        for row in self:
            row.display_name = row.complaint_id.sudo().display_name

    def _query(self):
        return SQL(
            """
            SELECT c.id AS id,
                   c.id AS complaint_id,
                   c.request_date, c.resolved_date,
                   c.partner_id, c.commercial_partner_id,
                   c.complaint_type, c.category, c.severity, c.channel, c.product_id,
                   c.user_id, c.team_id, c.company_id, c.stage_id, c.is_closed,
                   c.sla_id, c.sla_status,
                   1 AS complaint_count,
                   CASE c.sla_status WHEN 'met' THEN 100.0 WHEN 'breached' THEN 0.0 END AS sla_success,
                   CASE WHEN c.sla_id IS NOT NULL AND c.first_response_date IS NOT NULL
                        THEN c.response_hours END AS response_hours,
                   CASE WHEN c.sla_id IS NOT NULL AND c.resolved_date IS NOT NULL
                        THEN c.resolution_hours END AS resolution_hours,
                   NULLIF(c.rating_last_value, 0) AS rating
              FROM crm_complaint c
            """
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
