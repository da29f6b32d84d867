from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..lib.complaints import next_free_name

# The alias the default sales team gets at install (or the first free complaints-1, complaints-2...).
COMPLAINT_ALIAS_NAME = "complaints"
# What complaints managers may write on a team without the sales manager's rights on teams
# (access_crm_team_complaint_manager): the team's complaint settings, nothing else.
COMPLAINT_SETTINGS = {
    "use_complaints",
    "complaint_alias_name",
    "complaint_alias_domain_id",
    "complaint_escalation_reassign",
    "complaint_follow_up_days",
    "complaint_default_user_id",
}


class CrmTeam(models.Model):
    _inherit = "crm.team"

    use_complaints = fields.Boolean("Complaints", help="This team handles complaints, fault reports and requests.")
    complaint_alias_id = fields.Many2one(
        "mail.alias", "Complaint alias", ondelete="restrict", readonly=True, copy=False
    )
    complaint_alias_name = fields.Char(
        "Complaint e-mail alias",
        compute="_compute_complaint_alias_name",
        inverse="_inverse_complaint_alias_name",
        help="E-mails sent to this address open a complaint for this team; replies thread onto it.",
    )
    complaint_alias_domain_id = fields.Many2one(
        "mail.alias.domain",
        "Complaint alias domain",
        compute="_compute_complaint_alias_name",
        inverse="_inverse_complaint_alias_name",
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
    complaint_open_count = fields.Integer(
        "Open complaints",
        compute="_compute_complaint_stats",
        groups="crm_lifecycle.crm_lifecycle_group_complaint_user,sales_team.group_sale_salesman",
    )
    complaint_rating_avg = fields.Float(
        "Complaint satisfaction",
        compute="_compute_complaint_stats",
        groups="crm_lifecycle.crm_lifecycle_group_complaint_user,sales_team.group_sale_salesman",
        digits=(16, 2),
        help="Average rating of the team's rated complaints (empty while none was rated).",
    )

    @api.constrains("complaint_follow_up_days")
    def _check_complaint_follow_up_days(self):
        if any(team.complaint_follow_up_days < 0 for team in self):
            raise ValidationError(_("The follow-up of complaints cannot be planned before their resolution."))

    def write(self, vals):
        if vals.keys() - COMPLAINT_SETTINGS and not self.env.su and self._complaint_settings_only():
            raise AccessError(
                _(
                    "As a complaints manager you may change the Complaints settings of a team only; other changes"
                    " to a team need the rights of a sales manager."
                )
            )
        return super().write(vals)

    @api.model
    def _complaint_settings_only(self):
        """Whether the user may write teams only through the complaints managers' access (so only their
        complaint settings)."""
        own = self.env.ref("crm_lifecycle.access_crm_team_complaint_manager", raise_if_not_found=False)
        if not own or own.sudo().group_id not in self.env.user.groups_id:
            return False
        other = (
            self.env["ir.model.access"]
            .sudo()
            .search_count(
                [
                    ("model_id.model", "=", "crm.team"),
                    ("perm_write", "=", True),
                    ("id", "!=", own.id),
                    "|",
                    ("group_id", "=", False),
                    ("group_id", "in", self.env.user.groups_id.ids),
                ],
                limit=1,
            )
        )
        return not other

    @api.depends("complaint_alias_id.alias_name", "complaint_alias_id.alias_domain_id", "company_id.alias_domain_id")
    def _compute_complaint_alias_name(self):
        for team in self:
            alias = team.complaint_alias_id
            team.complaint_alias_name = alias.alias_name
            team.complaint_alias_domain_id = alias.alias_domain_id if alias else team._complaint_alias_domain()

    def _complaint_alias_domain(self):
        """The alias domain of a new complaint alias: the team's company's (else the current company's)."""
        self.ensure_one()
        return (self.company_id or self.env.company).alias_domain_id

    def _inverse_complaint_alias_name(self):
        for team in self:
            alias = team.complaint_alias_id.sudo()
            if alias:
                alias.write(
                    {"alias_name": team.complaint_alias_name, "alias_domain_id": team.complaint_alias_domain_id.id}
                )
            elif team.complaint_alias_name:
                alias_domain = team.complaint_alias_domain_id or team._complaint_alias_domain()
                team._complaint_alias_create(team.complaint_alias_name, alias_domain)

    def _complaint_alias_create(self, name, alias_domain):
        self.ensure_one()
        alias = (
            self.env["mail.alias"]
            .sudo()
            .create(
                {
                    "alias_name": name,
                    "alias_domain_id": alias_domain.id,
                    "alias_model_id": self.env["ir.model"]._get_id("crm.complaint"),
                    "alias_defaults": repr({"team_id": self.id, "company_id": self.company_id.id or False}),
                    "alias_parent_model_id": self.env["ir.model"]._get_id("crm.team"),
                    "alias_parent_thread_id": self.id,
                    "alias_contact": "everyone",
                }
            )
        )
        # (in sudo: the alias is no complaint setting a complaints manager types)
        self.sudo().complaint_alias_id = alias
        return alias

    def _complaint_alias_setup(self, name=COMPLAINT_ALIAS_NAME):
        """Give each of these teams without one a complaint alias: `name`, or the first free `name-1`,
        `name-2`... in its alias domain (alias names are unique per domain). Run at install for the default
        sales team (data/crm_complaint_data.xml), so that e-mail intake works without configuration."""
        Alias = self.env["mail.alias"].sudo()
        for team in self.filtered(lambda t: not t.complaint_alias_id):
            alias_domain = team._complaint_alias_domain()
            taken = set(
                Alias.search([("alias_name", "=like", f"{name}%"), ("alias_domain_id", "=", alias_domain.id)]).mapped(
                    "alias_name"
                )
            )
            taken |= {alias_domain.bounce_alias, alias_domain.catchall_alias} - {False}
            team._complaint_alias_create(next_free_name(name, taken), alias_domain)

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
