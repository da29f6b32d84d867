from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CrmTeam(models.Model):
    _inherit = "crm.team"

    use_complaints = fields.Boolean("Complaints", help="This team handles complaints, fault reports and requests.")
    complaint_alias_id = fields.Many2one("mail.alias", "Complaint alias", ondelete="restrict", copy=False)
    complaint_alias_name = fields.Char(
        "Complaint e-mail alias",
        compute="_compute_complaint_alias_name",
        inverse="_inverse_complaint_alias_name",
        help="E-mails sent to this address open a complaint for this team; replies thread onto it.",
    )
    complaint_alias_email = fields.Char("Complaint e-mail", related="complaint_alias_id.display_name")
    complaint_default_user_id = fields.Many2one(
        "res.users",
        "Default owner",
        domain="[('share', '=', False)]",
        check_company=True,
        help="Owns the complaints that arrive from the portal and by e-mail. When empty: the customer's "
        "salesperson, else the team leader.",
    )
    complaint_escalation_reassign = fields.Boolean(
        "Reassign breached complaints", help="When its SLA is breached, a complaint goes to the team leader."
    )
    complaint_follow_up_days = fields.Integer(
        "Follow up after (days)", default=7, help="Days after the resolution to check back with the customer."
    )
    complaint_open_count = fields.Integer("Open complaints", compute="_compute_complaint_stats")
    complaint_rating_avg = fields.Float("Complaint satisfaction", compute="_compute_complaint_stats", digits=(16, 2))

    @api.constrains("complaint_follow_up_days")
    def _check_complaint_follow_up_days(self):
        if any(team.complaint_follow_up_days < 0 for team in self):
            raise ValidationError(_("The follow-up of complaints cannot be planned before their resolution."))

    @api.depends("complaint_alias_id.alias_name")
    def _compute_complaint_alias_name(self):
        for team in self:
            team.complaint_alias_name = team.complaint_alias_id.alias_name

    def _inverse_complaint_alias_name(self):
        model = self.env["ir.model"]._get_id("crm.complaint")
        parent = self.env["ir.model"]._get_id("crm.team")
        for team in self:
            if team.complaint_alias_id:
                team.complaint_alias_id.sudo().alias_name = team.complaint_alias_name
            elif team.complaint_alias_name:
                team.complaint_alias_id = (
                    self.env["mail.alias"]
                    .sudo()
                    .create(
                        {
                            "alias_name": team.complaint_alias_name,
                            "alias_model_id": model,
                            "alias_defaults": repr({"team_id": team.id, "company_id": team.company_id.id or False}),
                            "alias_parent_model_id": parent,
                            "alias_parent_thread_id": team.id,
                            "alias_contact": "everyone",
                        }
                    )
                )

    def unlink(self):
        aliases = self.complaint_alias_id
        result = super().unlink()
        aliases.sudo().unlink()
        return result

    def _compute_complaint_stats(self):
        Complaint = self.env["crm.complaint"]
        open_counts = Complaint._count_by("team_id", self, [("is_closed", "=", False)])
        ratings = Complaint._rating_avg_by("team_id", self)
        for team in self:
            team.complaint_open_count = open_counts.get(team, 0)
            team.complaint_rating_avg = ratings.get(team, 0.0)

    def action_view_complaints(self):
        return self.env["crm.complaint"]._action_view(
            [("team_id", "=", self.id)], {"default_team_id": self.id, "search_default_open": 1}
        )
