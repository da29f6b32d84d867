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
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Customer Lifecycle managers can set a rung by hand."))
        if not (self.reason or "").strip():
            raise UserError(_("Say why you set this rung by hand: the reason is kept in the customer's history."))
        partners = self.partner_ids.commercial_partner_id
        now = fields.Datetime.now()
        manual = {"user": self.env.user.name, "date": fields.Date.to_string(now.date()), "reason": self.reason.strip()}
        moves = []
        for partner in partners:
            if partner.ladder_stage != self.ladder_stage:
                moves.append(
                    {
                        "partner_id": partner.id,
                        "from_stage": partner.ladder_stage,
                        "to_stage": self.ladder_stage,
                        "date": now,
                        "source": "manual",
                        "user_id": self.env.uid,
                        "reason_data": {"manual": manual},
                        "company_id": partner.company_id.id,
                    }
                )
        for partner in partners:
            # locked: the automatic computation leaves this rung alone until a manager unlocks it
            values = {
                "ladder_locked": True,
                "ladder_reason_data": dict(partner.ladder_reason_data or {}, manual=manual),
            }
            if partner.ladder_stage != self.ladder_stage:
                values.update(ladder_stage=self.ladder_stage, ladder_since=now)
            partner.write(values)
        self.env["crm.ladder.history"].sudo().create(moves)
        # refresh the figures and what the books say, beside the manager's words
        partners._lifecycle_recompute()
        return {"type": "ir.actions.act_window_close"}
