from odoo import fields, models


class CrmComplaintStage(models.Model):
    _name = "crm.complaint.stage"
    _description = "Complaint stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean("Folded in kanban")
    is_closed = fields.Boolean(
        "Closed",
        help="Complaints in this stage are done: they need a resolution, stop their SLA clock and no longer count "
        "as open for the customer's rung.",
    )
    is_response = fields.Boolean(
        "Counts as first response",
        help="Reaching this stage means the customer was answered: it records the first response of a complaint "
        "that has none yet.",
    )
    rating_template_id = fields.Many2one(
        "mail.template",
        "Satisfaction survey",
        domain=[("model", "=", "crm.complaint")],
        help="Sent to the customer when a complaint reaches this stage, to rate how it was handled.",
    )
    description = fields.Text(translate=True)
