from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib.ladder import LADDER_SELECTION
from ..models.res_partner import MANAGER_GROUP


class CrmLadderOverride(models.TransientModel):
    _name = "crm.ladder.override"
    _description = "Set a customer's rung by hand"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    ladder_stage = fields.Selection(LADDER_SELECTION, string="Rung", required=True)
    reason = fields.Text(required=True, help="Why the books do not tell the whole story; kept in the history.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        partners = self.env["res.partner"].browse(self.env.context.get("default_partner_ids") or [])
        if len(partners) == 1 and "ladder_stage" in fields_list:
            values["ladder_stage"] = partners.ladder_stage
        return values

    def action_apply(self):
        """Lock the customers and hand the manager's rung, reason and name to the computation, which
        moves them, records the move in the history and keeps the rung until a manager unlocks it."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Customer Lifecycle managers can set a rung by hand."))
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(_("Say why you set this rung by hand: the reason is kept in the customer's history."))
        partners = self.partner_ids.commercial_partner_id
        partners.write({"ladder_locked": True})
        override = {
            "stage": self.ladder_stage,
            "reason": reason,
            "user": self.env.user.name,
            "user_id": self.env.uid,
            "date": fields.Date.to_string(fields.Date.context_today(self)),
        }
        self.env["crm.lifecycle.engine"]._recompute(partners, override=override)
        return {"type": "ir.actions.act_window_close"}
