from odoo import api, fields, models

from ..lib.ladder import LADDER, LADDER_SELECTION
from ..lib.reasons import render_ladder_reason


def ladder_direction(from_stage, to_stage):
    if not from_stage:
        return "initial"
    return "up" if LADDER.index(to_stage) > LADDER.index(from_stage) else "down"


class CrmLadderHistory(models.Model):
    _name = "crm.ladder.history"
    _description = "Relationship ladder move"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    # an append-only log with its own date and user, written in bulk by the computation: the four
    # log columns would add two foreign-key checks per row (as Odoo's mail.notification and ir.profile)
    _log_access = False

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    from_stage = fields.Selection(LADDER_SELECTION, "From", help="Empty for the first placement.")
    to_stage = fields.Selection(LADDER_SELECTION, "To", required=True)
    direction = fields.Selection(
        [("initial", "First placement"), ("up", "Up"), ("down", "Down")],
        compute="_compute_direction",
        store=True,
        precompute=True,
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    source = fields.Selection(
        [("automatic", "Computed"), ("manual", "Set by a manager")], required=True, default="automatic"
    )
    user_id = fields.Many2one(
        "res.users", "By", default=lambda self: self.env.user, help="The manager who set the rung; empty when computed."
    )
    reason_data = fields.Json()
    reason = fields.Text(compute="_compute_reason")
    company_id = fields.Many2one("res.company", index=True)

    @api.depends("from_stage", "to_stage")
    def _compute_direction(self):
        for move in self:
            move.direction = ladder_direction(move.from_stage, move.to_stage)

    @api.depends("reason_data")
    @api.depends_context("lang")
    def _compute_reason(self):
        labels = dict(self._fields["to_stage"]._description_selection(self.env))
        for move in self:
            currency = move.partner_id.lifecycle_currency_id
            move.reason = render_ladder_reason(self.env, move.reason_data, currency, labels)
