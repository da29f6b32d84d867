from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..lib.assignment import MODE_SELECTION, STRATEGY_SELECTION, Allocator, Seat
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

    # --- lead assignment (Odoo's capacity fields stay on crm.team.member: assignment_max, assignment_domain) ---
    assignment_strategy = fields.Selection(
        STRATEGY_SELECTION,
        "Assignment strategy",
        default="weighted",
        required=True,
        tracking=True,
        help="How the team's leads are shared among its members, each within their capacity and assignment domain. "
        "Weighted (Odoo): Odoo's own assignment, by remaining daily capacity. Round robin: strictly in turn, the "
        "member who waited longest first, from one run to the next. Least loaded: the member with the fewest open "
        "leads first. Whatever the strategy, members off today (working hours, time off) receive nothing.",
    )
    assignment_mode = fields.Selection(
        MODE_SELECTION,
        "Assignment mode",
        compute="_compute_assignment_mode",
        inverse="_inverse_assignment_mode",
        help="Automatic: the Lead Assignment scheduled action assigns the team's new leads. Manual: only a sales "
        "manager does, with Assign Leads or by hand (Odoo's Skip auto assignment).",
    )
    stale_days = fields.Integer(
        "Reassign stale leads after (days)",
        default=14,
        help="An open lead or opportunity of the team with no activity done, no message and no stage change for this "
        "many days goes to the next member by the team's strategy; its old and new owners are notified. Leads in the "
        "nurture pool, won and lost ones are left alone. 0: never.",
    )
    stale_max_reassign = fields.Integer(
        "Reassignments at most",
        default=2,
        help="How many times a lead is reassigned for want of follow-up; the last time, the team leader is told.",
    )
    nurture_plan_id = fields.Many2one(
        "mail.activity.plan",
        "Nurture plan",
        domain="[('res_model', '=', 'crm.lead'), '|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        default=lambda self: self.env.ref("crm_lifecycle.mail_activity_plan_nurture", raise_if_not_found=False),
        help="The activities a lead of the nurture pool brings to its owner each time it is due.",
    )
    nurture_interval_days = fields.Integer(
        "Nurture every (days)", default=90, help="Days between two follow-ups of a lead in the nurture pool."
    )
    # whether any member has a resource (working hours or time off) to look at: when none has, the
    # assignment reads nothing more than Odoo's own
    assignment_working_time = fields.Boolean(
        "Members have working time", compute="_compute_assignment_working_time", store=True
    )

    @api.constrains("stale_days", "stale_max_reassign", "nurture_interval_days")
    def _check_follow_up_settings(self):
        for team in self:
            if team.stale_days < 0 or team.stale_max_reassign < 0:
                raise ValidationError(
                    _("The stale lead settings of %(team)s cannot be negative (0 turns the reassignment off).",
                      team=team.name)
                )  # fmt: skip
            if team.nurture_interval_days < 1:
                raise ValidationError(
                    _("Leads of the nurture pool of %(team)s need at least a day between two follow-ups.",
                      team=team.name)
                )  # fmt: skip

    @api.depends("assignment_optout")
    def _compute_assignment_mode(self):
        for team in self:
            team.assignment_mode = "manual" if team.assignment_optout else "auto"

    def _inverse_assignment_mode(self):
        for team in self:
            team.assignment_optout = team.assignment_mode == "manual"

    @api.depends("crm_team_member_ids.user_id.resource_ids")
    def _compute_assignment_working_time(self):
        for team in self:
            team.assignment_working_time = bool(team.crm_team_member_ids.user_id.sudo().resource_ids)

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

    # ------------------------------------------------------------------ lead assignment
    def _assign_and_convert_leads(self, force_quota=False):
        """Odoo's assignment of the teams' leads to their members, by each team's strategy: Odoo's own
        for weighted teams (nothing more is read when no member has working time), the addon's for round
        robin and least loaded. Members off today get no quota in either; each lead's assignment message
        says by which rule it came."""
        odoo_teams = self.filtered(lambda team: team.assignment_strategy == "weighted")
        own_teams = self - odoo_teams
        members = self.filtered("assignment_working_time").crm_team_member_ids
        off = members._lifecycle_off_today() if members else {}
        result = {}
        if odoo_teams or not own_teams:
            # the notes go to the leads through crm.lead._handle_salesmen_assignment, as Odoo assigns them
            notes = tuple(
                (team.id, team._lifecycle_weighted_note(team._lifecycle_off_names(off) if off else []))
                for team in odoo_teams
            )
            context = {"crm_lifecycle_assignment_notes": notes}
            if off:
                context["crm_lifecycle_off_today"] = list(off)
            result.update(super(CrmTeam, odoo_teams.with_context(**context))._assign_and_convert_leads(force_quota))
        if own_teams:
            result.update(own_teams._lifecycle_assign_and_convert(force_quota, off))
        return result

    def _lifecycle_assign_and_convert(self, force_quota, off):
        """Round robin and least loaded: the same leads, quotas, assignment domains and conversion as
        Odoo's _assign_and_convert_leads, another choice of member, and the rotation stored."""
        Lead = self.env["crm.lead"]
        quotas = {
            member: member.with_context(crm_lifecycle_off_today=list(off))._get_assignment_quota(force_quota)
            for member in self.crm_team_member_ids
        }
        result = {}
        leads_per_team = dict(Lead._read_group(self._get_lead_to_assign_domain(), ["team_id"], ["id:array_agg"]))
        for team, lead_ids in leads_per_team.items():
            members = team.crm_team_member_ids.filtered(lambda m: not m.assignment_optout and quotas.get(m, 0) > 0)
            if not members:
                continue
            result.update({member: {"assigned": Lead, "quota": quotas[member]} for member in members})
            leads = Lead.browse(lead_ids).exists().sorted(lambda lead: (-lead.probability, lead.id))
            takes = {member.id: set(leads.filtered_domain(member._lifecycle_domain()).ids) for member in members}
            allocator = team._lifecycle_allocator(members, quotas)
            picked = defaultdict(list)
            for lead in leads:
                key = allocator.pick({key for key, ids in takes.items() if lead.id in ids})
                if key:
                    # (the open leads the member held before this one: what least loaded compared)
                    picked[key].append((lead, allocator.seats[key].load - 1))
            off_names = team._lifecycle_off_names(off)
            for member in members:
                if member.id not in picked:
                    continue
                for lead, load in picked[member.id]:
                    lead._track_set_log_message(team._lifecycle_assignment_note(member, load, off_names))
                assigned = Lead.union(*(lead for lead, _load in picked[member.id]))
                assigned._lifecycle_convert_for(member.user_id)
                result[member]["assigned"] = assigned
            team._lifecycle_store_turns(members, allocator)
        return result

    def _lifecycle_allocator(self, members, quotas=None):
        """An allocator over these members of the team, by its strategy: their quota for the run (None:
        no limit), place in the rotation, open leads (least loaded) and capacity left this month
        (weighted)."""
        self.ensure_one()
        strategy = self.assignment_strategy
        loads = self._lifecycle_open_lead_counts(members.user_id) if strategy == "least_loaded" else {}
        seats = [
            Seat(
                member.id,
                quota=None if quotas is None else quotas.get(member, 0),
                turn=member.assignment_turn,
                load=loads.get(member.user_id.id, 0),
                capacity=member.assignment_max - member.lead_month_count if strategy == "weighted" else 0,
            )
            for member in members
        ]
        return Allocator(strategy, seats)

    @api.model
    def _lifecycle_open_lead_counts(self, users):
        """{user id: open leads and opportunities they hold}, outside the nurture pool."""
        groups = (
            self.env["crm.lead"]
            .sudo()
            ._read_group(
                [("user_id", "in", users.ids), ("probability", "<", 100), ("nurture", "=", False)],
                ["user_id"],
                ["__count"],
            )
        )
        return {user.id: count for user, count in groups}

    def _lifecycle_store_turns(self, members, allocator):
        turns = allocator.turns()
        for member in members:
            if turns.get(member.id, member.assignment_turn) != member.assignment_turn:
                member.sudo().assignment_turn = turns[member.id]

    def _lifecycle_assignment_note(self, member, load, off_names):
        """The message of an automatic assignment by the addon's strategies: which rule, and why this
        member, in the language of the member."""
        self.ensure_one()
        team = self.with_context(lang=member.user_id.lang or self.env.lang)
        env, user = team.env, member.user_id.name
        if self.assignment_strategy == "least_loaded":
            note = env._(
                "Least loaded in team %(team)s: %(user)s held the fewest open leads (%(count)s).",
                team=team.name,
                user=user,
                count=load,
            )
        else:
            note = env._("Round robin in team %(team)s: %(user)s's turn.", team=team.name, user=user)
        if member._lifecycle_domain():
            note += " " + env._("The lead matches %(user)s's assignment domain.", user=user)
        return team._lifecycle_note_end(note, off_names)

    def _lifecycle_weighted_note(self, off_names):
        """The message of Odoo's weighted assignment, in the current language (nothing is read for it)."""
        self.ensure_one()
        note = self.env._(
            "Weighted assignment (Odoo) in team %(team)s: the next member with leads left to receive today whose "
            "assignment domain matches.",
            team=self.name,
        )
        return self._lifecycle_note_end(note, off_names)

    def _lifecycle_off_names(self, off):
        """["Alice (time off)", ...] of the team's members off today."""
        self.ensure_one()
        return list(self.crm_team_member_ids._lifecycle_off_labels(off).values()) if off else []

    def _lifecycle_note_end(self, note, off_names):
        if off_names:
            note += " " + self.env._("Off today: %(names)s.", names=", ".join(off_names))
        return Markup("<p>%s</p>") % note

    # ------------------------------------------------------------------ stale leads and handovers
    def _lifecycle_receivers(self, exclude_users=None):
        """The members who may receive leads of this team now: active, with an active user, taking
        automatic assignments, at work today; and the labels of those off today, for the messages."""
        self.ensure_one()
        members = self.crm_team_member_ids.filtered(
            lambda m: m.user_id.active and not m.assignment_optout and m.user_id not in (exclude_users or ())
        )
        off = members._lifecycle_off_today() if self.assignment_working_time else {}
        return members.filtered(lambda m: m.id not in off), list(members._lifecycle_off_labels(off).values())

    def _lifecycle_pick_for_stale(self, leads):
        """{lead: member} for stale leads of this team: the next member by the team's strategy among
        those at work today whose assignment domain takes the lead, never its owner nor anyone it was
        taken from before."""
        self.ensure_one()
        members, off_names = self._lifecycle_receivers()
        takes = {member.id: set(leads.filtered_domain(member._lifecycle_domain()).ids) for member in members}
        user_of = {member.id: member.user_id for member in members}
        allocator = self._lifecycle_allocator(members)
        picks = {}
        for lead in leads:
            before = lead.user_id | lead.stale_user_ids
            key = allocator.pick({k for k, ids in takes.items() if lead.id in ids and user_of[k] not in before})
            if key:
                picks[lead] = members.browse(key)
        self._lifecycle_store_turns(members, allocator)
        return picks, off_names
