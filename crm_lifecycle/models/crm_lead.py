from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..lib.ladder import LIFECYCLE_SELECTION, lifecycle_stage
from .lifecycle_engine import engine_writes_allowed


class CrmLead(models.Model):
    _inherit = "crm.lead"

    partner_ladder_stage = fields.Selection(
        string="Customer rung", related="partner_id.commercial_partner_id.ladder_stage", groups="base.group_user"
    )
    partner_value_tier = fields.Selection(
        string="Customer value tier", related="partner_id.commercial_partner_id.value_tier", groups="base.group_user"
    )
    lifecycle_targeted = fields.Boolean(
        "Targeted",
        copy=False,
        groups="base.group_user",
        help="Marked as a target; cleared by the first message or activity done on it.",
    )
    lifecycle_stage = fields.Selection(
        LIFECYCLE_SELECTION,
        string="Lifecycle stage",
        compute="_compute_lifecycle_stage",
        store=True,
        index=True,
        groups="base.group_user",
        help="How far the sale went: target (marked, no interaction yet), potential (a lead), opportunity (an "
        "open opportunity), signed (won, or a confirmed sale order).",
    )

    @api.depends("type", "probability", "lifecycle_targeted", "order_ids.state")
    def _compute_lifecycle_stage(self):
        for lead in self:
            lead.lifecycle_stage = lifecycle_stage(
                signed=lead.probability == 100 or any(order.state == "sale" for order in lead.order_ids),
                opportunity=lead.type == "opportunity",
                potential=not lead.lifecycle_targeted,
                target=lead.lifecycle_targeted,
            )

    @api.model_create_multi
    def create(self, vals_list):
        if any("lifecycle_stage" in vals for vals in vals_list):
            self._raise_computed_stage()
        return super().create(vals_list)

    def write(self, vals):
        # (the customer's own stage follows its leads at the next computation: the nightly run, or
        # any order, invoice or payment of theirs)
        if "lifecycle_stage" in vals:
            self._raise_computed_stage()
        return super().write(vals)

    def _raise_computed_stage(self):
        if not engine_writes_allowed(self.env):
            raise AccessError(_("A lead's lifecycle stage follows its type, probability and orders: it is not set."))

    def _message_post_after_hook(self, message, msg_vals):
        # a note, an e-mail or a completed activity is an interaction: the lead is no longer a mere target
        # (Odoo's own notifications, such as the one on creation, are not)
        interaction = message.message_type in ("comment", "email") or message.subtype_id == self.env.ref(
            "mail.mt_activities", raise_if_not_found=False
        )
        if interaction:
            self.filtered("lifecycle_targeted").write({"lifecycle_targeted": False})
        return super()._message_post_after_hook(message, msg_vals)
