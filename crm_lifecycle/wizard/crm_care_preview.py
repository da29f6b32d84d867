from datetime import timedelta

from odoo import _, api, fields, models

from ..models.crm_care_log import CHANNEL_SELECTION, REASON_SELECTION

PREVIEW_DAYS = 7


class CrmCarePreview(models.TransientModel):
    """Who a care rule would contact today and in the next days, and why: nothing is sent."""

    _name = "crm.care.preview"
    _description = "Care rule preview"

    rule_id = fields.Many2one("crm.care.rule", "Care rule", required=True, ondelete="cascade")
    line_ids = fields.One2many("crm.care.preview.line", "preview_id", "Would be contacted")
    line_count = fields.Integer("Occasions", compute="_compute_line_count")

    @api.depends("line_ids")
    def _compute_line_count(self):
        for preview in self:
            preview.line_count = len(preview.line_ids)

    @api.model_create_multi
    def create(self, vals_list):
        previews = super().create(vals_list)
        for preview in previews:
            preview._fill()
        return previews

    def _fill(self):
        """The rule's occasions from today to a week on, decided as the daily run would decide them."""
        Log = self.env["crm.care.log"]
        rule = self.rule_id
        today = fields.Date.context_today(self)
        lines = []
        for offset in range(PREVIEW_DAYS + 1):
            day = today + timedelta(days=offset)
            due = rule.sudo()._due(day)
            handled = set(Log.sudo().search([("rule_id", "=", rule.id), ("partner_id", "in", list(due))]).mapped(
                lambda log: (log.partner_id.id, log.occurrence)
            ))  # fmt: skip
            occasions = [(rule, pid, occ) for pid, occ in sorted(due.items()) if (pid, occ) not in handled]
            for _rule, pid, occ, channel, state, reason in Log.sudo()._decide(occasions, day):
                lines.append(
                    {
                        "preview_id": self.id,
                        "day": day,
                        "occurrence": occ,
                        "partner_id": pid,
                        "channel": channel,
                        "state": state,
                        "reason": reason,
                    }
                )
        self.env["crm.care.preview.line"].create(lines)

    def _action_open(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview: %(rule)s", rule=self.rule_id.name),
            "res_model": "crm.care.preview",
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }


class CrmCarePreviewLine(models.TransientModel):
    _name = "crm.care.preview.line"
    _description = "Care rule preview line"
    _order = "day, partner_id, channel"

    preview_id = fields.Many2one("crm.care.preview", required=True, ondelete="cascade")
    day = fields.Date("Would run on")
    occurrence = fields.Date("Occasion on")
    partner_id = fields.Many2one("res.partner", "Recipient")
    channel = fields.Selection(CHANNEL_SELECTION)
    state = fields.Selection(
        [("sent", "Would be sent"), ("held_out", "Would be held out"), ("skipped", "Would be skipped")], "Outcome"
    )
    reason = fields.Selection(REASON_SELECTION)
