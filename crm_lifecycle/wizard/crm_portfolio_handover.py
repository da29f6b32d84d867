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
            if not wizard.user_id:
                continue
            missing = wizard._missing_receiver()
            if missing:
                # what to choose first, rather than "Nothing to hand over"
                wizard.preview = Markup("<p class='text-muted'>%s</p>") % missing
                continue
            try:
                plan = wizard.user_id._lifecycle_handover_plan(**wizard._plan_arguments(), preview=True)
            except UserError as error:
                wizard.preview = Markup("<p class='text-danger'>%s</p>") % error.args[0]
                continue
            counts = self.env["res.users"]._lifecycle_plan_counts(plan)
            wizard.item_count = sum(row[kind] for row in counts.values() for kind in KINDS)
            wizard.preview = self.env["res.users"]._lifecycle_counts_table(counts) if counts else False

    def _missing_receiver(self):
        """What the user must still choose before the portfolio can go anywhere, or None."""
        self.ensure_one()
        if self.mode == "user" and not self.target_user_id:
            return _("Choose the person who takes the portfolio over.")
        if self.mode == "team" and not self.team_id:
            return _("Choose the team whose members share the portfolio.")
        return None

    def _plan_arguments(self):
        self.ensure_one()
        if self.mode == "user":
            return {"target": self.target_user_id}
        return {"team": self.team_id}

    def action_hand_over(self):
        self.ensure_one()
        if not self.env.user.has_group(SALES_MANAGER):
            raise AccessError(_("Only sales managers hand over a salesperson's portfolio."))
        missing = self._missing_receiver()
        if missing:
            raise UserError(missing)
        if self.mode == "user":
            if self.target_user_id == self.user_id:
                raise UserError(_("%(user)s cannot hand their portfolio over to themselves.", user=self.user_id.name))
            if not self.target_user_id.active:
                raise UserError(_("%(user)s is archived: choose an active user.", user=self.target_user_id.name))
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
