from ast import literal_eval
from datetime import datetime, time, timedelta

from pytz import timezone, utc

from odoo import api, fields, models

from odoo.addons.resource.models.utils import Intervals

from ..lib.assignment import OFF_SELECTION


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    assignment_turn = fields.Integer(
        "Rotation turn",
        copy=False,
        readonly=True,
        help="The turn in which the member last received a lead by round robin (0: never): the member who waited "
        "longest comes next, from one run to the next.",
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        "Working hours",
        compute="_compute_resource_calendar_id",
        inverse="_inverse_resource_calendar_id",
        compute_sudo=True,
        help="The salesperson's working time (their resource in Odoo, which the Employees app shares). A member "
        "whose working hours or time off say they are off today receives no lead that day. Empty: always at work, "
        "unless on time off.",
    )
    available_today = fields.Boolean(
        "At work today",
        compute="_compute_availability",
        compute_sudo=True,
        help="Off today by their working hours, time off or a public holiday: the member receives no lead today.",
    )
    off_reason = fields.Selection(OFF_SELECTION, "Off today", compute="_compute_availability", compute_sudo=True)

    # ------------------------------------------------------------------ working time
    def _lifecycle_resource(self):
        """The member's resource (sudo): their user's, in the team's company when they have several."""
        self.ensure_one()
        resources = self.user_id.sudo().with_context(active_test=True).resource_ids
        company = self.crm_team_id.company_id
        return (
            resources.filtered(lambda r: r.company_id == company)[:1]
            or resources.filtered(lambda r: not r.company_id)[:1]
            or resources[:1]
        )

    @api.depends("user_id", "crm_team_id.company_id")
    def _compute_resource_calendar_id(self):
        for member in self:
            member.resource_calendar_id = member._lifecycle_resource().calendar_id if member.user_id else False

    def _inverse_resource_calendar_id(self):
        # the resource is the person's working time, not a team's: written in sudo for the sales manager,
        # who may set the working hours of their team's members (crm.team.member is theirs to write)
        for member in self.filtered("user_id"):
            resource = member._lifecycle_resource()
            if resource:
                resource.calendar_id = member.resource_calendar_id
            elif member.resource_calendar_id:
                user = member.user_id.sudo()
                self.env["resource.resource"].sudo().create(
                    {
                        "name": user.name,
                        "user_id": user.id,
                        "resource_type": "user",
                        "company_id": (member.crm_team_id.company_id or user.company_id).id,
                        "calendar_id": member.resource_calendar_id.id,
                        "tz": user.tz or member.resource_calendar_id.tz or "UTC",
                    }
                )

    def _compute_availability(self):
        off = self._lifecycle_off_today()
        for member in self:
            member.off_reason = off.get(member.id, False)
            member.available_today = member.id not in off

    def _lifecycle_off_labels(self, off):
        """{member: "Alice (time off)"} in the reader's language, for messages."""
        if not off:
            return {}
        labels = dict(self._fields["off_reason"]._description_selection(self.env))
        return {
            member: self.env._("%(name)s (%(reason)s)", name=member.user_id.name, reason=labels[off[member.id]])
            for member in self
            if member.id in off
        }

    def _lifecycle_off_today(self, now=None):
        """{member id: why} for these members who are off today, by their resource: not a working day in
        their working hours, a time off, or a public holiday (a time off of their calendar for everyone)
        covering the whole day, in their own time zone. Members without a resource are at work. Read in
        sudo: the time off of others is not for every user to read, but whether they work today is."""
        now = now or fields.Datetime.now()
        members = self.filtered("user_id")
        resources = {member.id: member._lifecycle_resource() for member in members}
        off = {}
        groups = {}
        for member in members:
            resource = resources[member.id]
            if resource:
                groups.setdefault((resource.calendar_id, resource.tz or "UTC"), []).append((member, resource))
        for (calendar, tz_name), pairs in groups.items():
            tz = timezone(tz_name)
            day = utc.localize(now).astimezone(tz).date()
            start = tz.localize(datetime.combine(day, time.min))
            end = tz.localize(datetime.combine(day + timedelta(days=1), time.min))
            found = self.env["resource.resource"].sudo().union(*(resource for _member, resource in pairs))
            if calendar:
                calendar = calendar.sudo()
                attendances = calendar._attendance_intervals_batch(start, end, found, tz=tz)
                leaves = calendar._leave_intervals_batch(start, end, found, tz=tz)
            else:
                # fully flexible: only a time off of their own covering the whole day stops them
                attendances = {
                    resource.id: Intervals([(start, end, self.env["resource.resource"])]) for resource in found
                }
                leaves = self._lifecycle_flexible_leaves(found, start, end, tz)
            for member, resource in pairs:
                worked = attendances.get(resource.id) or Intervals()
                away = leaves.get(resource.id) or Intervals()
                if not worked:
                    off[member.id] = "not_working"
                elif not (worked - away):
                    personal = any(leave.resource_id for _start, _stop, records in away for leave in records)
                    off[member.id] = "time_off" if personal else "holiday"
        return off

    def _lifecycle_flexible_leaves(self, resources, start, end, tz):
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id", "in", resources.ids),
                    ("time_type", "=", "leave"),
                    ("date_from", "<", end.astimezone(utc).replace(tzinfo=None)),
                    ("date_to", ">", start.astimezone(utc).replace(tzinfo=None)),
                ]
            )
        )
        result = {}
        for leave in leaves:
            interval = (
                max(start, utc.localize(leave.date_from).astimezone(tz)),
                min(end, utc.localize(leave.date_to).astimezone(tz)),
                leave,
            )
            result.setdefault(leave.resource_id.id, []).append(interval)
        return {resource_id: Intervals(intervals) for resource_id, intervals in result.items()}

    # ------------------------------------------------------------------ assignment
    def _get_assignment_quota(self, force_quota=False):
        # a member off today receives nothing, whatever the strategy (see crm.team._assign_and_convert_leads)
        if self.id in self.env.context.get("crm_lifecycle_off_today", ()):
            return 0
        return super()._get_assignment_quota(force_quota=force_quota)

    def _lifecycle_domain(self):
        return literal_eval(self.assignment_domain or "[]")

    def action_open_portfolio_handover(self):
        self.ensure_one()
        return self.user_id.with_context(default_team_id=self.crm_team_id.id).action_open_portfolio_handover()
