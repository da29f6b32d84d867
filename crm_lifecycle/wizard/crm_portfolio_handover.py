from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.res_users import KINDS, SALES_MANAGER


class CrmPortfolioHandover(models.TransientModel):
    """Hand over a salesperson's portfolio (open leads and opportunities, customers, open complaints and
    activities) to one person or across a team, after a preview of what goes where."""

    _name = "crm.portfolio.handover"
    _description = "Hand over a salesperson's portfolio"

    user_id = fields.Many2one(
        "res.users", "Salesperson", required=True, domain="[('share', '=', False)]", ondelete="cascade"
    )
    mode = fields.Selection(
        [("team", "Spread across a team"), ("user", "To one person")],
        "Hand over",
        required=True,
        default="team",
    )
    team_id = fields.Many2one(
        "crm.team",
        help="Its members share the portfolio by the team's assignment strategy, customer by customer.",
    )
    target_user_id = fields.Many2one(
        "res.users", "To", domain="[('share', '=', False), ('id', '!=', user_id)]", ondelete="cascade"
    )
    preview = fields.Html("What goes where", compute="_compute_preview", sanitize=False)
    item_count = fields.Integer("Records to move", compute="_compute_preview")

    @api.depends("user_id", "mode", "team_id", "target_user_id")
    def _compute_preview(self):
        for wizard in self:
            wizard.item_count = 0
            wizard.preview = False
            if not wizard.user_id or (wizard.mode == "user" and not wizard.target_user_id):
                continue
            try:
                plan = wizard.user_id._lifecycle_handover_plan(**wizard._plan_arguments(), preview=True)
            except UserError as error:
                wizard.preview = Markup("<p class='text-danger'>%s</p>") % error.args[0]
                continue
            counts = self.env["res.users"]._lifecycle_plan_counts(plan)
            wizard.item_count = sum(row[kind] for row in counts.values() for kind in KINDS)
            wizard.preview = self.env["res.users"]._lifecycle_counts_table(counts) if counts else False

    def _plan_arguments(self):
        self.ensure_one()
        if self.mode == "user":
            return {"target": self.target_user_id}
        return {"team": self.team_id}

    def action_hand_over(self):
        self.ensure_one()
        if not self.env.user.has_group(SALES_MANAGER):
            raise AccessError(_("Only sales managers hand over a salesperson's portfolio."))
        if self.mode == "user":
            if not self.target_user_id:
                raise UserError(_("Choose the person who takes the portfolio over."))
            if self.target_user_id == self.user_id:
                raise UserError(_("%(user)s cannot hand their portfolio over to themselves.", user=self.user_id.name))
            if not self.target_user_id.active:
                raise UserError(_("%(user)s is archived: choose an active user.", user=self.target_user_id.name))
        elif not self.team_id:
            raise UserError(_("Choose the team whose members share the portfolio."))
        counts = self.user_id._lifecycle_hand_over(**self._plan_arguments())
        moved = sum(row[kind] for row in counts.values() for kind in KINDS)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(count)s records of %(user)s handed over; the team's chatter says what went where.",
                    count=moved,
                    user=self.user_id.name,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
