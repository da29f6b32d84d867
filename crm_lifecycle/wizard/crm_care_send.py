from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

MANAGER_GROUP = "crm_lifecycle.crm_lifecycle_group_manager"


class CrmCareSend(models.TransientModel):
    """One-to-one care, or care for a segment chosen in a customer list: through the same log,
    limits and cap as the rules (the company's "One-to-one care" rule)."""

    _name = "crm.care.send"
    _description = "Send care message"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    mail_template_id = fields.Many2one("mail.template", "Email", domain=[("model", "=", "res.partner")])
    sms_template_id = fields.Many2one("sms.template", "SMS", domain=[("model", "=", "res.partner")])
    activity_type_id = fields.Many2one("mail.activity.type", "Activity")
    activity_summary = fields.Char("Activity summary")
    activity_user = fields.Selection(
        [("salesperson", "The customer's salesperson"), ("user", "A chosen user")],
        "Activity for",
        default="salesperson",
    )
    activity_user_id = fields.Many2one("res.users", "Assigned to", domain=[("share", "=", False)])
    activity_deadline_days = fields.Integer("Due after (days)", default=1)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "partner_ids" in fields_list and not values.get("partner_ids"):
            active = self.env.context.get("active_ids") if self.env.context.get("active_model") == "res.partner" else []
            values["partner_ids"] = [(6, 0, active or [])]
        return values

    def _channels(self):
        self.ensure_one()
        return [
            channel
            for channel, action in (
                ("email", self.mail_template_id),
                ("sms", self.sms_template_id),
                ("activity", self.activity_type_id),
            )
            if action
        ]

    def action_send(self):
        self.ensure_one()
        if not self._channels():
            raise UserError(_("Choose what to send: an e-mail, an SMS or an activity."))
        if self.activity_type_id and self.activity_user == "user" and not self.activity_user_id:
            raise UserError(_("Choose the user who gets the activity."))
        if not self.env.user.has_group(MANAGER_GROUP):
            others = self.partner_ids.filtered(lambda p: p.commercial_partner_id.user_id != self.env.user)
            if others:
                raise AccessError(
                    _(
                        "You can send care to your own customers only. Not yours: %(customers)s.",
                        customers=", ".join(others.mapped("display_name")),
                    )
                )
        today = fields.Date.context_today(self)
        Log = self.env["crm.care.log"].sudo()
        occasions = []
        for company, partners in self.partner_ids.grouped(lambda p: p.company_id or self.env.company).items():
            rule = self.env["crm.care.rule"]._manual_rule(company)
            occasions += [(rule, partner.id, today) for partner in partners]
        logs = Log._handle(occasions, today, actions=self.sudo(), user=self.env.user)
        sent = len(logs.filtered(lambda log: log.state == "sent"))
        skipped = len(logs) - sent
        if not logs:
            message = _("Nothing sent: these customers already had this care today.")
        elif skipped:
            message = _("%(sent)s sent, %(skipped)s skipped (see the care log for why).", sent=sent, skipped=skipped)
        else:
            message = _("%(sent)s sent.", sent=sent)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if sent else "warning",
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
