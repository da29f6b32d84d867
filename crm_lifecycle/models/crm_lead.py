from datetime import timedelta

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..lib.assignment import COMPANY_SIZE_SELECTION, is_stale, last_touch, match_region, may_reassign
from ..lib.ladder import LIFECYCLE_SELECTION, lifecycle_stage
from .lifecycle_engine import engine_writes_allowed

SALES_MANAGER = "sales_team.group_sale_manager"
# written by the stale lead reassignment; a sales manager may reset them
STALE_FIELDS = frozenset({"stale_reassign_count", "stale_reassigned_on", "stale_user_ids"})
# how a nurtured lead came back (the message that takes it out of the pool)
NURTURE_EXITS = ("email", "activity", "stage")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    partner_ladder_stage = fields.Selection(
        string="Customer rung", related="partner_id.commercial_partner_id.ladder_stage", groups="base.group_user"
    )
    partner_value_tier = fields.Selection(
        string="Customer value tier", related="partner_id.commercial_partner_id.value_tier", groups="base.group_user"
    )
    lifecycle_targeted = fields.Boolean(
        "Targeted",
        copy=False,
        groups="base.group_user",
        help="Marked as a target; cleared by the first message or activity done on it.",
    )
    lifecycle_stage = fields.Selection(
        LIFECYCLE_SELECTION,
        string="Lifecycle stage",
        compute="_compute_lifecycle_stage",
        store=True,
        index=True,
        groups="base.group_user",
        help="How far the sale went: target (marked, no interaction yet), potential (a lead), opportunity (an "
        "open opportunity), signed (won, or a confirmed sale order).",
    )

    # --- what assignment rules read (members' assignment domains): industry, size, region ---
    industry_id = fields.Many2one(
        "res.partner.industry",
        compute="_compute_industry_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        groups="base.group_user",
        help="The customer's industry; set it on a lead without a customer. The customer created from the lead gets "
        "it.",
    )
    company_size = fields.Selection(
        COMPANY_SIZE_SELECTION,
        "Company size",
        compute="_compute_company_size",
        store=True,
        readonly=False,
        precompute=True,
        groups="base.group_user",
        help="Employees of the customer's company; set it on a lead without a customer. The customer created from "
        "the lead gets it.",
    )
    region_id = fields.Many2one(
        "crm.region",
        compute="_compute_region_id",
        store=True,
        index="btree_not_null",
        groups="base.group_user",
        help="The sales region of the lead's state, else of its country (CRM > Configuration > Regions).",
    )

    # --- the nurture pool: long-term leads followed up on a plan rather than lost ---
    nurture = fields.Boolean(
        "In the nurture pool",
        copy=False,
        tracking=True,
        index=True,
        groups="base.group_user",
        help="A long-term lead, not for this period: followed up on the nurture plan instead of being lost. An "
        "incoming e-mail, an activity someone planned and completed, or a stage change brings it back.",
    )
    nurture_next_date = fields.Date(
        "Next nurture follow-up",
        copy=False,
        index="btree_not_null",
        groups="base.group_user",
        help="On this day the nurture plan's activities come to the owner.",
    )
    nurture_plan_id = fields.Many2one(
        "mail.activity.plan",
        "Nurture plan",
        copy=False,
        domain="[('res_model', '=', 'crm.lead'), '|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        groups="base.group_user",
        help="Empty: the team's nurture plan.",
    )
    stale_reassign_count = fields.Integer(
        "Stale reassignments",
        copy=False,
        readonly=True,
        groups="base.group_user",
        help="How many times the lead went to another member for want of follow-up.",
    )
    stale_user_ids = fields.Many2many(
        "res.users",
        "crm_lead_stale_user_rel",
        "lead_id",
        "user_id",
        "Let it go stale",
        copy=False,
        readonly=True,
        groups="base.group_user",
        help="The salespeople it was taken from for want of follow-up: it does not go back to them.",
    )
    stale_reassigned_on = fields.Datetime(
        "Last stale reassignment",
        copy=False,
        readonly=True,
        groups="base.group_user",
        help="The new owner has the team's stale days from then on to follow the lead up.",
    )

    @api.depends("type", "probability", "lifecycle_targeted", "order_ids.state")
    def _compute_lifecycle_stage(self):
        for lead in self:
            lead.lifecycle_stage = lifecycle_stage(
                signed=lead.probability == 100 or any(order.state == "sale" for order in lead.order_ids),
                opportunity=lead.type == "opportunity",
                potential=not lead.lifecycle_targeted,
                target=lead.lifecycle_targeted,
            )

    @api.depends("partner_id")
    def _compute_industry_id(self):
        for lead in self:
            if lead.partner_id.industry_id:
                lead.industry_id = lead.partner_id.industry_id

    @api.depends("partner_id")
    def _compute_company_size(self):
        for lead in self:
            if lead.partner_id.company_size:
                lead.company_size = lead.partner_id.company_size

    @api.depends("country_id", "state_id")
    def _compute_region_id(self):
        regions = self.env["crm.region"]._region_table()
        for lead in self:
            region = match_region(lead.country_id.id, lead.state_id.id, regions) if regions else None
            lead.region_id = region or False

    @api.model_create_multi
    def create(self, vals_list):
        if any("lifecycle_stage" in vals for vals in vals_list):
            self._raise_computed_stage()
        if any(STALE_FIELDS & vals.keys() for vals in vals_list):
            self._check_stale_count_writer()
        return super().create(vals_list)

    def write(self, vals):
        # (the customer's own stage follows its leads at the next computation: the nightly run, or
        # any order, invoice or payment of theirs)
        if "lifecycle_stage" in vals:
            self._raise_computed_stage()
        if STALE_FIELDS & vals.keys():
            self._check_stale_count_writer()
        # a stage change brings a nurtured lead back (read from the cache: no query on Odoo's paths)
        moved = self.filtered(lambda lead: lead.nurture and lead.stage_id.id != vals["stage_id"]) if (
            "stage_id" in vals and not vals.get("nurture")
        ) else None  # fmt: skip
        result = super().write(vals)
        if moved:
            moved._nurture_leave("stage")
        return result

    def _raise_computed_stage(self):
        if not engine_writes_allowed(self.env):
            raise AccessError(_("A lead's lifecycle stage follows its type, probability and orders: it is not set."))

    def _check_stale_count_writer(self):
        if not (self.env.su or self.env.user.has_group(SALES_MANAGER)):
            raise AccessError(_("Only sales managers can change the stale reassignments of a lead."))

    def _message_post_after_hook(self, message, msg_vals):
        # a note, an e-mail or a completed activity is an interaction: the lead is no longer a mere target
        # (Odoo's own notifications, such as the one on creation, are not)
        interaction = message.message_type in ("comment", "email") or message.subtype_id == self.env.ref(
            "mail.mt_activities", raise_if_not_found=False
        )
        if interaction:
            self.filtered("lifecycle_targeted").write({"lifecycle_targeted": False})
        # an e-mail that came in (the mail gateway's) brings a nurtured lead back
        if message.message_type == "email" and self.nurture:
            self._nurture_leave("email")
        return super()._message_post_after_hook(message, msg_vals)

    # ------------------------------------------------------------------ assignment
    def _handle_salesmen_assignment(self, user_ids=False, team_id=False):
        # Odoo's weighted assignment (crm.team._assign_and_convert_leads) lets each lead's assignment
        # message say by which rule it came; the note was prepared with the team, nothing is read here
        notes = self.env.context.get("crm_lifecycle_assignment_notes")
        if notes and user_ids:
            notes = dict(notes)
            for lead in self:
                if lead.team_id.id in notes:
                    lead._track_set_log_message(notes[lead.team_id.id])
        return super()._handle_salesmen_assignment(user_ids=user_ids, team_id=team_id)

    def _lifecycle_convert_for(self, user):
        """Convert these leads and give them to `user`, as Odoo's assignment does (a customer each)."""
        leads = self.with_context(mail_auto_subscribe_no_notify=True)
        for partner, batch in leads.grouped("partner_id").items():
            batch.convert_opportunity(partner, user_ids=user.ids)

    def _prepare_customer_values(self, partner_name, is_company=False, parent_id=False):
        values = super()._prepare_customer_values(partner_name, is_company=is_company, parent_id=parent_id)
        # a contact of a company takes its company's (commercial fields); a company or a person their own
        if not parent_id:
            if self.industry_id:
                values["industry_id"] = self.industry_id.id
            if self.company_size and is_company:
                values["company_size"] = self.company_size
        return values

    # ------------------------------------------------------------------ stale leads
    @api.model
    def _cron_reassign_stale_leads(self, batch_size=500):
        """Scheduled action: give the stale leads of each team to their next member, a batch at a time
        (the run resumes after the last lead it looked at, so leads nobody can take do not stop it)."""
        run = self.env["crm.lifecycle.run"]._for_job("stale_leads")
        if not run._lock():
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        now = fields.Datetime.now()
        stale = self._lifecycle_stale_leads(now, after_id=run.cursor)
        batch = self.sudo().browse(stale[:batch_size])
        batch._lifecycle_reassign_stale()
        remaining = len(stale) - len(batch)
        if remaining:
            run._advance(batch[-1].id, remaining)
        else:
            run._restart()
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return remaining

    @api.model
    def _lifecycle_stale_leads(self, now, after_id=0):
        """Ids of the open leads and opportunities nobody followed up in their team's stale days, with
        reassignments left: no stage change, no message from a person and no activity done since they
        were assigned (lib.assignment.is_stale), in id order. Nurtured, won and lost leads are not."""
        self.env["crm.lead"].flush_model(
            ["active", "probability", "user_id", "team_id", "nurture", "stale_reassign_count", "stale_reassigned_on",
             "date_open", "date_last_stage_update"]
        )  # fmt: skip
        self.env["crm.team"].flush_model(["stale_days", "stale_max_reassign", "active"])
        self.env["mail.message"].flush_model(["model", "res_id", "message_type", "subtype_id", "date"])
        activities = self.env.ref("mail.mt_activities").id
        # a lead touched after the earliest cutoff of any team cannot be stale: the message scan stops there
        self.env.cr.execute(
            SQL(
                """
                WITH candidates AS (
                    SELECT l.id, l.stale_reassign_count, t.stale_days, t.stale_max_reassign,
                           GREATEST(l.create_date, l.date_open, l.date_last_stage_update, l.stale_reassigned_on)
                               AS touched
                      FROM crm_lead l
                      JOIN crm_team t ON t.id = l.team_id
                     WHERE l.active AND l.probability < 100 AND l.user_id IS NOT NULL AND NOT COALESCE(l.nurture, false)
                       AND t.active AND t.stale_days > 0 AND COALESCE(l.stale_reassign_count, 0) < t.stale_max_reassign
                       AND l.id > %(after)s
                       AND GREATEST(l.create_date, l.date_open, l.date_last_stage_update, l.stale_reassigned_on)
                           <= %(now)s - make_interval(days => t.stale_days)
                )
                SELECT c.id, c.touched, c.stale_days, c.stale_reassign_count, c.stale_max_reassign,
                       (SELECT max(m.date) FROM mail_message m
                         WHERE m.model = 'crm.lead' AND m.res_id = c.id
                           AND (m.message_type IN ('comment', 'email') OR m.subtype_id = %(activities)s)) AS messaged
                  FROM candidates c
                 ORDER BY c.id
                """,
                after=after_id or 0,
                now=now,
                activities=activities,
            )
        )
        return [
            lead_id
            for lead_id, touched, days, count, maximum, messaged in self.env.cr.fetchall()
            if may_reassign(count, maximum) and is_stale(last_touch(touched, messaged), now, days)
        ]

    def _lifecycle_reassign_stale(self):
        """Give these stale leads to the next member of their team by its strategy (at work today, whose
        assignment domain takes the lead, neither its owner nor anyone it was taken from before); a lead
        nobody may take stays.
        The lead says why; its old and new owners (and the team leader, the last time) are notified."""
        moved = self.browse()
        for team, leads in self.grouped("team_id").items():
            picks, off_names = team._lifecycle_pick_for_stale(leads)
            for lead, member in picks.items():
                lead._lifecycle_move_stale(member, off_names)
                moved |= lead
        return moved

    def _lifecycle_move_stale(self, member, off_names):
        self.ensure_one()
        team, old, new = self.team_id, self.user_id, member.user_id
        count = self.stale_reassign_count + 1
        last = count >= team.stale_max_reassign
        env = self.with_context(lang=new.lang or self.env.lang).env
        days = team.stale_days
        note = env._(
            "No follow-up for %(days)s days: reassigned from %(old)s to %(new)s by %(strategy)s in team %(team)s "
            "(reassignment %(count)s of %(max)s).",
            days=days,
            old=old.name,
            new=new.name,
            strategy=dict(team._fields["assignment_strategy"]._description_selection(env))[team.assignment_strategy],
            team=team.name,
            count=count,
            max=team.stale_max_reassign,
        )
        if off_names:
            note += " " + env._("Off today: %(names)s.", names=", ".join(off_names))
        if last:
            note += " " + env._("It will not be reassigned again; the team leader is told.")
        self._track_set_log_message(Markup("<p>%s</p>") % note)
        self.with_context(mail_auto_subscribe_no_notify=True).write(
            {
                "user_id": new.id,
                "stale_reassign_count": count,
                "stale_reassigned_on": fields.Datetime.now(),
                "stale_user_ids": [Command.link(old.id)],
            }
        )
        partners = old.partner_id | new.partner_id
        if last and team.user_id:
            partners |= team.user_id.partner_id
        self.message_notify(
            partner_ids=partners.ids,
            subject=env._("Stale lead reassigned: %(lead)s", lead=self.name),
            body=Markup("<p>%s</p>") % note,
            model=self._name,
            res_id=self.id,
            record_name=self.name,
        )

    # ------------------------------------------------------------------ nurture pool
    def action_nurture(self):
        """Into the nurture pool: followed up on a plan from the next date (the team's interval), not lost."""
        today = fields.Date.context_today(self)
        for lead in self:
            if not lead.active or lead.probability == 100:
                raise UserError(
                    _("%(lead)s is won or lost: only an open lead or opportunity goes to the nurture pool.",
                      lead=lead.name)
                )  # fmt: skip
            if lead.nurture:
                continue
            interval = lead.team_id.nurture_interval_days or 90
            values = {"nurture": True, "nurture_next_date": lead.nurture_next_date or today + timedelta(days=interval)}
            if not lead.nurture_plan_id:
                values["nurture_plan_id"] = (lead.team_id.nurture_plan_id or self._nurture_default_plan()).id
            lead.write(values)
            lead._message_log(
                body=Markup("<p>%s</p>")
                % _(
                    "In the nurture pool: next follow-up on %(date)s.",
                    date=fields.Date.to_string(lead.nurture_next_date),
                )
            )
        return True

    def action_nurture_stop(self):
        """Back into the pipeline by hand."""
        self.filtered("nurture")._nurture_leave("manual")
        return True

    @api.model
    def _nurture_default_plan(self):
        return (
            self.env.ref("crm_lifecycle.mail_activity_plan_nurture", raise_if_not_found=False)
            or self.env["mail.activity.plan"]
        )

    def _nurture_leave(self, how):
        """Out of the nurture pool, saying why: it came back (an e-mail, an activity done, a stage change)
        or someone took it out."""
        leads = self.filtered("nurture")
        if not leads:
            return
        reasons = {
            "email": _("an e-mail came in"),
            "activity": _("an activity was done"),
            "stage": _("its stage changed"),
            "manual": _("taken back into the pipeline"),
        }
        leads.sudo().write({"nurture": False, "nurture_next_date": False})
        body = Markup("<p>%s</p>") % _("Out of the nurture pool: %(reason)s.", reason=reasons[how])
        leads.sudo()._message_log_batch(bodies=dict.fromkeys(leads.ids, body))

    @api.model
    def _cron_nurture(self, batch_size=500):
        """Scheduled action: the nurtured leads due today bring their plan's activities to their owner
        (else the team leader), and their next follow-up is planned one interval later."""
        today = fields.Date.context_today(self)
        domain = [("nurture", "=", True), ("nurture_next_date", "<=", today), ("probability", "<", 100)]
        Lead = self.sudo()
        leads = Lead.search(domain, order="nurture_next_date, id", limit=batch_size)
        for lead in leads:
            lead._nurture_surface(today)
        remaining = Lead.search_count(domain) if len(leads) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(leads), remaining=remaining)
        return remaining

    def _nurture_surface(self, today):
        self.ensure_one()
        owner = self.user_id or self.team_id.user_id
        plan = self.nurture_plan_id or self.team_id.nurture_plan_id or self._nurture_default_plan()
        interval = self.team_id.nurture_interval_days or 90
        env = self.with_context(lang=owner.lang or self.env.lang).env
        planned = []
        if owner:
            templates = plan.template_ids if plan else []
            for template in templates:
                responsible = template._determine_responsible(owner, self)["responsible"] or owner
                self.activity_schedule(
                    activity_type_id=template.activity_type_id.id,
                    summary=template.summary,
                    note=template.note,
                    user_id=responsible.id,
                    date_deadline=template._get_date_deadline(today),
                )
                planned.append(template.summary or template.activity_type_id.name)
            if not templates:
                summary = env._("Nurture: check in again")
                self.activity_schedule("mail.mail_activity_data_todo", summary=summary, user_id=owner.id)
                planned.append(summary)
        next_date = today + timedelta(days=interval)
        self.write({"nurture_next_date": next_date})
        if owner:
            body = env._(
                "Nurture follow-up due: %(activities)s for %(owner)s; the next one on %(date)s.",
                activities=", ".join(planned),
                owner=owner.name,
                date=fields.Date.to_string(next_date),
            )
        else:
            body = env._(
                "Nurture follow-up due, but the lead has no salesperson and its team no leader; the next one on "
                "%(date)s.",
                date=fields.Date.to_string(next_date),
            )
        self._message_log(body=Markup("<p>%s</p>") % body)
