from odoo import api, fields, models

from ..lib.ladder import LADDER, LADDER_SELECTION
from ..lib.reasons import EnvRenderer, render_ladder_reason
from ..lib.sql import ordered_groupby

RANKED_SELECTIONS = {"from_stage": LADDER, "to_stage": LADDER, "direction": ["initial", "up", "down"]}


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
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, ondelete="cascade", check_company=True
    )
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
    reason_data = fields.Json("Explanation data")
    reason = fields.Text("Why", compute="_compute_reason")
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        help="The company whose books placed the customer on this rung.",
    )

    @api.model
    def _read_group_orderby(self, order, groupby_terms, query):
        def default(part):
            return super(CrmLadderHistory, self)._read_group_orderby(part, groupby_terms, query)

        ranked = ordered_groupby(order, groupby_terms, RANKED_SELECTIONS, default)
        return super()._read_group_orderby(order, groupby_terms, query) if ranked is None else ranked

    @api.depends("from_stage", "to_stage")
    def _compute_direction(self):
        for move in self:
            move.direction = ladder_direction(move.from_stage, move.to_stage)

    @api.depends("reason_data")
    @api.depends_context("lang")
    def _compute_reason(self):
        labels = dict(self._fields["to_stage"]._description_selection(self.env))
        for move in self:
            renderer = EnvRenderer(self.env, move.partner_id.lifecycle_currency_id)
            move.reason = render_ladder_reason(renderer, move.reason_data, labels)
