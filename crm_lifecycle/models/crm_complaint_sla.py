from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.complaints import CATEGORY_SELECTION, SEVERITY_SELECTION, TYPE_SELECTION
from ..lib.validation import ensure_finite

TARGETS = ("response_hours", "resolution_hours", "at_risk_percent")


class CrmComplaintSla(models.Model):
    _name = "crm.complaint.sla"
    _description = "Complaint service level agreement"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="The first policy that matches a complaint applies.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    # which complaints it covers (empty: any)
    team_id = fields.Many2one("crm.team", check_company=True)
    complaint_type = fields.Selection(TYPE_SELECTION, "Type")
    category = fields.Selection(CATEGORY_SELECTION)
    severity = fields.Selection(SEVERITY_SELECTION)
    # the targets, in working hours of the calendar
    calendar_id = fields.Many2one(
        "resource.calendar",
        "Working hours",
        required=True,
        check_company=True,
        default=lambda self: self.env.company.resource_calendar_id,
        help="Only these hours count: weekends and the calendar's public holidays do not.",
    )
    response_hours = fields.Float("First response within (hours)", required=True, default=8.0)
    resolution_hours = fields.Float("Resolution within (hours)", required=True, default=40.0)
    at_risk_percent = fields.Float(
        "At risk after (%)",
        default=75.0,
        help="A complaint is at risk once this share of a target's working hours has gone by.",
    )

    @api.constrains(*TARGETS)
    def _check_targets(self):
        ensure_finite(self, TARGETS)
        for sla in self:
            if sla.response_hours <= 0 or sla.resolution_hours <= 0:
                raise ValidationError(
                    _("The SLA “%(name)s” needs targets of more than 0 working hours.", name=sla.name)
                )
            if sla.response_hours > sla.resolution_hours:
                raise ValidationError(
                    _(
                        "In the SLA “%(name)s” the first response (%(response)s h) cannot come after the resolution"
                        " (%(resolution)s h).",
                        name=sla.name,
                        response=sla.response_hours,
                        resolution=sla.resolution_hours,
                    )
                )
            if not 0 < sla.at_risk_percent < 100:
                raise ValidationError(_("“At risk after” must be between 0 and 100%."))

    def _matches(self, complaint):
        self.ensure_one()
        return all(
            not self[field] or self[field] == complaint[field]
            for field in ("team_id", "complaint_type", "category", "severity")
        ) and (not self.company_id or self.company_id == complaint.company_id)
