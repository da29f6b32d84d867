from odoo import api, fields, models

from ..lib.ladder import LIFECYCLE_SELECTION


class CrmLead(models.Model):
    _inherit = "crm.lead"

    partner_ladder_stage = fields.Selection(
        string="Customer rung", related="partner_id.commercial_partner_id.ladder_stage"
    )
    partner_value_tier = fields.Selection(
        string="Customer value tier", related="partner_id.commercial_partner_id.value_tier"
    )
    lifecycle_targeted = fields.Boolean(
        "Targeted", copy=False, help="Marked as a target; cleared by the first message or activity done on it."
    )
    lifecycle_stage = fields.Selection(
        LIFECYCLE_SELECTION,
        string="Lifecycle stage",
        compute="_compute_lifecycle_stage",
        store=True,
        index=True,
        help="Target (marked, no interaction yet), potential (a lead), opportunity (an open opportunity), signed "
        "(won, or a confirmed sale order).",
    )

    @api.depends("type", "probability", "lifecycle_targeted", "order_ids.state")
    def _compute_lifecycle_stage(self):
        for lead in self:
            if lead.probability == 100 or any(order.state == "sale" for order in lead.order_ids):
                lead.lifecycle_stage = "signed"
            elif lead.type == "opportunity":
                lead.lifecycle_stage = "opportunity"
            elif lead.lifecycle_targeted:
                lead.lifecycle_stage = "target"
            else:
                lead.lifecycle_stage = "potential"

    def _message_post_after_hook(self, message, msg_vals):
        # a note, an e-mail or a completed activity is an interaction: the lead is no longer a mere target
        # (Odoo's own notifications, such as the one on creation, are not)
        interaction = message.message_type in ("comment", "email") or message.subtype_id == self.env.ref(
            "mail.mt_activities", raise_if_not_found=False
        )
        if interaction:
            self.filtered("lifecycle_targeted").write({"lifecycle_targeted": False})
        return super()._message_post_after_hook(message, msg_vals)
