import textwrap
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, LazyTranslate, html2plaintext

from ..lib.complaints import (
    CATEGORY_SELECTION,
    CHANNEL_SELECTION,
    REVIEW_DECISIONS,
    REVIEW_SELECTION,
    REVIEWED_SEVERITIES,
    SEVERITY_SELECTION,
    SLA_STATUS_SELECTION,
    TYPE_SELECTION,
)
from ..lib.guard import WriteGuard

_lt = LazyTranslate(__name__)

COMPLAINT_MANAGER = "crm_lifecycle.crm_lifecycle_group_complaint_manager"
SLA_INPUTS = {"sla_id", "request_date", "team_id", "complaint_type", "category", "severity", "company_id"}
# An e-mail is stored whole up to this size; beyond, the rest is cut (the original stays attached to
# the message in the chatter).
MAX_DESCRIPTION = 100_000
# how much of a changed resolution the chatter note quotes
RESOLUTION_NOTE_LENGTH = 300
# what only the review wizard writes (see _check_review_values)
REVIEW_FIELDS = ("reviewer_id", "review_note")
# recorded as the complaint progresses (answering, closing, the SLA check, asking for a review): the
# desk's figures, so nobody types them, through the form or an RPC call
RECORDED_FIELDS = frozenset({"first_response_date", "resolved_date", "sla_status", "sla_next_check", "sla_warned",
    "sla_escalated", "response_hours", "resolution_hours", "sla_success", "follow_up_date", "review_state",
    *REVIEW_FIELDS})  # fmt: skip
RECORDED_GUARD = WriteGuard("crm_lifecycle_complaint_recorded")


def _strip_nul(msg_dict):
    """PostgreSQL refuses NUL in text: remove it from what an e-mail stores. In place, since the mail
    gateway posts the message from this same dict after the complaint is created or updated."""
    for key in ("subject", "body", "from", "email_from", "to", "cc"):
        if isinstance(msg_dict.get(key), str):
            msg_dict[key] = msg_dict[key].replace("\x00", "")


class CrmComplaint(models.Model):
    _name = "crm.complaint"
    _description = "Complaint"
    _inherit = ["portal.mixin", "mail.thread.cc", "mail.activity.mixin", "rating.mixin"]
    _order = "id desc"
    _primary_email = "email_from"
    _mail_post_access = "read"  # customers may reply on the portal to what they can read
    _check_company_auto = True

    name = fields.Char("Reference", required=True, readonly=True, copy=False, default=lambda self: _("New"))
    subject = fields.Char(required=True, tracking=True)
    description = fields.Html()
    request_date = fields.Datetime("Received on", required=True, default=fields.Datetime.now, index=True)
    partner_id = fields.Many2one("res.partner", "Complainant", tracking=True, index=True, check_company=True)
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True, string="Customer company"
    )
    contact_name = fields.Char("Contact", help="Who complained, when they are not in the address book.")
    email_from = fields.Char(
        "Email", compute="_compute_partner_contact", store=True, readonly=False, index="trigram", tracking=True
    )
    partner_phone = fields.Char("Phone", compute="_compute_partner_contact", store=True, readonly=False)
    complaint_type = fields.Selection(TYPE_SELECTION, "Type", required=True, default="complaint", tracking=True)
    category = fields.Selection(CATEGORY_SELECTION, required=True, default="service", tracking=True)
    severity = fields.Selection(
        SEVERITY_SELECTION, required=True, default="normal", tracking=True, groups="base.group_user"
    )
    channel = fields.Selection(CHANNEL_SELECTION, required=True, default="phone")
    sale_order_id = fields.Many2one(
        "sale.order",
        "Sale order",
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        index="btree_not_null",
        check_company=True,
    )
    invoice_id = fields.Many2one(
        "account.move",
        domain="[('commercial_partner_id', '=', commercial_partner_id), "
        "('move_type', 'in', ('out_invoice', 'out_refund'))]",
        index="btree_not_null",
        check_company=True,
    )
    product_id = fields.Many2one("product.product", check_company=True)
    user_id = fields.Many2one(
        "res.users",
        "Owner",
        tracking=True,
        index=True,
        domain="[('share', '=', False)]",
        check_company=True,
        default=lambda self: self.env.user if not self.env.user.share else False,
    )
    team_id = fields.Many2one(
        "crm.team", tracking=True, index=True, check_company=True, default=lambda self: self._default_team()
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    stage_id = fields.Many2one(
        "crm.complaint.stage",
        tracking=True,
        index=True,
        copy=False,
        ondelete="restrict",
        group_expand="_read_group_stage_ids",
        default=lambda self: self.env["crm.complaint.stage"].search([], limit=1),
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, index=True)
    color = fields.Integer(groups="base.group_user")
    # after the facts: what was done, why it happened, and the review of serious cases
    # (no tracking: Odoo cannot track Html fields; a change posts a note instead, see write)
    resolution = fields.Html()
    root_cause = fields.Text("Root cause", groups="base.group_user")
    action_type = fields.Selection(
        [("corrective", "Corrective"), ("preventive", "Preventive")], "Action", groups="base.group_user"
    )
    review_required = fields.Boolean(
        "Review required",
        compute="_compute_review_required",
        search="_search_review_required",
        help="Serious complaints are closed only once a complaints manager approved their resolution.",
        groups="base.group_user",
    )
    review_state = fields.Selection(
        REVIEW_SELECTION, "Review", default="none", readonly=True, tracking=True, copy=False, groups="base.group_user"
    )
    review_note = fields.Text("Review note", readonly=True, copy=False, groups="base.group_user")
    reviewer_id = fields.Many2one("res.users", "Reviewed by", readonly=True, copy=False, groups="base.group_user")
    # service level
    sla_id = fields.Many2one(
        "crm.complaint.sla",
        "SLA",
        compute="_compute_sla_id",
        store=True,
        readonly=False,
        check_company=True,
        groups="base.group_user",
    )
    response_deadline = fields.Datetime(
        "Respond by", compute="_compute_sla_deadlines", store=True, groups="base.group_user"
    )
    resolution_deadline = fields.Datetime(
        "Resolve by", compute="_compute_sla_deadlines", store=True, groups="base.group_user"
    )
    response_at_risk_date = fields.Datetime(
        "Response at risk from", compute="_compute_sla_deadlines", store=True, groups="base.group_user"
    )
    resolution_at_risk_date = fields.Datetime(
        "Resolution at risk from", compute="_compute_sla_deadlines", store=True, groups="base.group_user"
    )
    first_response_date = fields.Datetime("First response", readonly=True, copy=False)
    resolved_date = fields.Datetime("Resolved on", readonly=True, copy=False, index=True)
    sla_status = fields.Selection(
        SLA_STATUS_SELECTION,
        "SLA status",
        readonly=True,
        copy=False,
        index=True,
        help="Met: closed within the SLA's targets, after a recorded first response. A complaint closed without "
        "any recorded first response (a message to the customer, Answered by phone, or a stage that counts as "
        "a response) is breached.",
        groups="base.group_user",
    )
    sla_next_check = fields.Datetime("Next SLA check", readonly=True, copy=False, index=True, groups="base.group_user")
    sla_warned = fields.Boolean("SLA warning sent", readonly=True, copy=False, groups="base.group_user")
    sla_escalated = fields.Boolean("Escalated", readonly=True, copy=False, groups="base.group_user")
    response_hours = fields.Float(
        "Hours to first response",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="In working hours.",
        groups="base.group_user",
    )
    resolution_hours = fields.Float(
        "Hours to resolution",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="In working hours.",
        groups="base.group_user",
    )
    sla_success = fields.Float(
        "SLA met (%)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="100 when closed within its SLA, else 0.",
        groups="base.group_user",
    )
    follow_up_date = fields.Date(
        "Follow up on",
        readonly=True,
        copy=False,
        index=True,
        help="When to check back with the customer.",
        groups="base.group_user",
    )

    _sql_constraints = [
        ("name_unique", "UNIQUE(company_id, name)", "A complaint reference must be unique per company."),
    ]

    # ------------------------------------------------------------------ defaults, computes
    @api.model
    def _default_team(self, company=None):
        """The team a new complaint goes to: the user's first complaint team in the company, else the
        company's first complaint team (the portal's and the e-mail's customers have no team)."""
        company = company or self.env.company
        teams = self.env.user.crm_team_ids.filtered(lambda t: t.use_complaints and t.company_id in (company, False))
        # (the company in the domain also holds under sudo, which skips the teams' company rule)
        return teams[:1] or self.env["crm.team"].search(
            [("use_complaints", "=", True), ("company_id", "in", [company.id, False])], limit=1
        )

    @api.model
    def _choose_owner(self, team, partner, company=None):
        """Who owns a complaint that arrived by itself (portal, e-mail): the team's default owner, else
        the customer's salesperson, else the team leader; each only when an active internal user of the
        complaint's company. Nobody when none is."""
        company = company or team.company_id or self.env.company
        candidates = (team.complaint_default_user_id, partner.commercial_partner_id.user_id, team.user_id)
        return next(
            (user for user in candidates if user.active and not user.share and company in user.company_ids),
            self.env["res.users"],
        )

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([])

    @api.depends("severity")
    def _compute_review_required(self):
        for complaint in self:
            complaint.review_required = complaint.severity in REVIEWED_SEVERITIES

    def _search_review_required(self, operator, value):
        if operator not in ("=", "!="):
            raise NotImplementedError(f"Unsupported search on review_required: {operator}")
        wanted = (operator == "=") == bool(value)
        return [("severity", "in" if wanted else "not in", REVIEWED_SEVERITIES)]

    @api.depends("partner_id")
    def _compute_partner_contact(self):
        for complaint in self:
            if complaint.partner_id:
                complaint.email_from = complaint.partner_id.email or complaint.email_from
                complaint.partner_phone = complaint.partner_id.phone or complaint.partner_id.mobile

    @api.depends("team_id", "complaint_type", "category", "severity", "company_id")
    def _compute_sla_id(self):
        policies = self.env["crm.complaint.sla"].search([])
        for complaint in self:
            complaint.sla_id = next((sla for sla in policies if sla._matches(complaint)), False)

    @api.depends("sla_id", "request_date")
    def _compute_sla_deadlines(self):
        for complaint in self:
            sla, start = complaint.sla_id, complaint.request_date
            if not sla or not start:
                complaint.update(
                    {
                        "response_deadline": False,
                        "resolution_deadline": False,
                        "response_at_risk_date": False,
                        "resolution_at_risk_date": False,
                    }
                )
                continue
            plan = sla.calendar_id.plan_hours
            share = sla.at_risk_percent / 100
            complaint.update(
                {
                    "response_deadline": plan(sla.response_hours, start, compute_leaves=True),
                    "resolution_deadline": plan(sla.resolution_hours, start, compute_leaves=True),
                    "response_at_risk_date": plan(sla.response_hours * share, start, compute_leaves=True),
                    "resolution_at_risk_date": plan(sla.resolution_hours * share, start, compute_leaves=True),
                }
            )

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for complaint in self:
            complaint.access_url = f"/my/complaints/{complaint.id}"
        return result

    # ------------------------------------------------------------------ constraints
    @api.constrains("partner_id", "sale_order_id", "invoice_id")
    def _check_documents_belong_to_the_customer(self):
        for complaint in self:
            customer = complaint.commercial_partner_id
            order, invoice = complaint.sale_order_id, complaint.invoice_id
            if order and order.partner_id.commercial_partner_id != customer:
                raise ValidationError(
                    _(
                        "The sale order %(order)s is not %(customer)s's: link one of this customer's orders.",
                        order=order.name,
                        customer=customer.display_name or _("this customer"),
                    )
                )
            if invoice and (
                invoice.commercial_partner_id != customer or invoice.move_type not in ("out_invoice", "out_refund")
            ):
                raise ValidationError(
                    _(
                        "The invoice %(invoice)s is not %(customer)s's: link one of this customer's invoices.",
                        invoice=invoice.name,
                        customer=customer.display_name or _("this customer"),
                    )
                )

    @api.constrains("stage_id", "resolution", "review_state", "severity")
    def _check_closing(self):
        for complaint in self.filtered("is_closed"):
            if not complaint._has_resolution():
                raise ValidationError(
                    _("Write the resolution of %(name)s before closing it: what was done for the customer.",
                      name=complaint.name)
                )  # fmt: skip
            if complaint.review_required and complaint.review_state != "approved":
                raise ValidationError(
                    _(
                        "%(name)s is a %(severity)s complaint: a complaints manager must approve its resolution"
                        " before it is closed (Request review).",
                        name=complaint.name,
                        severity=dict(self._fields["severity"]._description_selection(self.env))[complaint.severity],
                    )
                )

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        defaults = self.default_get(["review_state", *REVIEW_FIELDS])
        for vals in vals_list:
            self._check_review_values({**defaults, **vals})
            self._check_recorded_values(vals)
            if vals.get("name", _("New")) == _("New"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code("crm.complaint") or _("New")
        complaints = super().create(vals_list)
        for complaint in complaints.filtered("partner_id"):
            complaint.message_subscribe(partner_ids=complaint.partner_id.ids)
        complaints._sla_refresh()
        complaints.filtered("stage_id.is_response")._mark_responded(fields.Datetime.now())
        complaints.filtered("is_closed")._on_closed()
        complaints._refresh_customer_lifecycle()
        return complaints

    def write(self, vals):
        self._check_review_values(vals)
        self._check_recorded_values(vals)
        stage = self.env["crm.complaint.stage"].browse(vals.get("stage_id"))
        closing = self.filtered(lambda c: not c.is_closed) if stage.is_closed else self.browse()
        reopening = self.filtered("is_closed") if "stage_id" in vals and not stage.is_closed else self.browse()
        customers = self.commercial_partner_id
        resolutions = {complaint.id: complaint.resolution for complaint in self} if "resolution" in vals else {}
        result = super().write(vals)
        if "partner_id" in vals:
            for complaint in self.filtered("partner_id"):
                complaint.message_subscribe(partner_ids=complaint.partner_id.ids)
        if resolutions:
            self._log_resolution_changes(resolutions)
        if stage.is_response:
            # before closing: a stage may be both an answer and the end
            self._mark_responded(fields.Datetime.now())
        closing._on_closed()
        if reopening:
            with RECORDED_GUARD.allow():
                reopening.write({"resolved_date": False, "sla_success": 0.0, "follow_up_date": False})
        if reopening or SLA_INPUTS & vals.keys():
            self._sla_refresh()
        if closing or reopening or "partner_id" in vals:
            (self.commercial_partner_id | customers)._lifecycle_recompute_later()
        return result

    def _check_review_values(self, vals):
        """Approving or sending back a resolution is the review wizard's, run by a complaints manager
        (it writes in sudo): refused in any other write or create, whatever else the values hold."""
        if self.env.su:
            return
        if vals.get("review_state") in REVIEW_DECISIONS or any(vals.get(fname) for fname in REVIEW_FIELDS):
            raise AccessError(
                _(
                    "Only a complaints manager approves or sends back a resolution, with Review on the complaint:"
                    " ask for it with Request review."
                )
            )

    def _check_recorded_values(self, vals):
        recorded = sorted(RECORDED_FIELDS & vals.keys())
        if recorded and not RECORDED_GUARD.allowed(self.env.su):
            names = ", ".join(self._fields[fname]._description_string(self.env) for fname in recorded)
            raise AccessError(
                _(
                    "%(fields)s are recorded as the complaint goes on (answering the customer, closing it, the SLA"
                    " check, asking for a review): they cannot be typed in.",
                    fields=names,
                )
            )

    def _log_resolution_changes(self, before):
        """A note in the chatter for each changed resolution (Html fields cannot be tracked)."""
        bodies = {}
        for complaint in self:
            text = html2plaintext(complaint.resolution or "").strip()
            if text == html2plaintext(before[complaint.id] or "").strip():
                continue
            if text:
                quoted = textwrap.shorten(text, RESOLUTION_NOTE_LENGTH, placeholder=" …")
                body = _("Resolution updated: %(resolution)s", resolution=quoted)
            else:
                body = _("Resolution removed.")
            bodies[complaint.id] = Markup("<p>%s</p>") % body
        if bodies:
            self._message_log_batch(bodies=bodies)

    @api.model
    def _action_new(self, defaults):
        """A new complaint, opened from a customer, a sale order or an invoice."""
        return {
            "type": "ir.actions.act_window",
            "name": _("New complaint"),
            "res_model": "crm.complaint",
            "view_mode": "form",
            "target": "current",
            "context": dict(defaults, default_channel="phone"),
        }

    @api.model
    def _action_view(self, domain, context):
        """The complaints list, opened from a customer, a team, a sale order or an invoice."""
        action = self.env["ir.actions.actions"]._for_xml_id("crm_lifecycle.crm_complaint_action")
        action.update(domain=domain, context=context)
        return action

    @api.model
    def _count_by(self, field, records, domain=()):
        """{record: number of complaints} for the values of a many2one, in one query."""
        return dict(self._read_group([(field, "in", records.ids), *domain], [field], ["__count"]))

    @api.model
    def _rating_avg_by(self, field, records):
        """{record: average satisfaction of its rated complaints} for the values of a many2one."""
        return dict(
            self._read_group(
                [(field, "in", records.ids), ("rating_last_value", ">", 0)], [field], ["rating_last_value:avg"]
            )
        )

    def _refresh_customer_lifecycle(self):
        """Open complaints keep a customer below supporter: their customers' rungs change."""
        self.commercial_partner_id._lifecycle_recompute_later()

    # ------------------------------------------------------------------ SLA
    def _sla_state_at(self, now):
        """(status, next check) of an open complaint at `now`; closed ones are met or breached for good."""
        self.ensure_one()
        if not self.sla_id:
            return False, False
        responded = self.first_response_date
        if self.is_closed:
            # never met without a recorded first response
            on_time = bool(
                responded
                and responded <= self.response_deadline
                and self.resolved_date
                and self.resolved_date <= self.resolution_deadline
            )
            return ("met" if on_time else "breached"), False
        waiting_response = not responded
        if (waiting_response and now >= self.response_deadline) or now >= self.resolution_deadline:
            return "breached", False
        if (waiting_response and now >= self.response_at_risk_date) or now >= self.resolution_at_risk_date:
            deadlines = [self.resolution_deadline] + ([self.response_deadline] if waiting_response else [])
            return "at_risk", min(deadlines)
        checks = [self.resolution_at_risk_date] + ([self.response_at_risk_date] if waiting_response else [])
        return "on_track", min(checks)

    def _sla_refresh(self, now=None):
        """Store each complaint's SLA status and when it may next change (what the cron looks for).

        One UPDATE for the whole recordset: the next check differs per complaint, so grouped ORM
        writes would cost one query each. Returns {(status, next check): complaints}.
        """
        now = now or fields.Datetime.now()
        by_state, rows = {}, []
        for complaint in self:
            status, next_check = state = complaint._sla_state_at(now)
            by_state[state] = by_state.get(state, self.browse()) | complaint
            if (complaint.sla_status, complaint.sla_next_check) != (status or False, next_check or False):
                rows.append(SQL("(%s, %s, %s::timestamp)", complaint.id, status or None, next_check or None))
        if rows:
            self.env.cr.execute(
                SQL(
                    "UPDATE crm_complaint AS c SET sla_status = v.status, sla_next_check = v.next_check"
                    " FROM (VALUES %s) AS v(id, status, next_check) WHERE c.id = v.id",
                    SQL(", ").join(rows),
                )
            )
            self.invalidate_recordset(["sla_status", "sla_next_check"])
            self.modified(["sla_status", "sla_next_check"])
        return by_state

    @api.model
    def _cron_check_sla(self, batch_size=1000):
        """Warn the owner of complaints at risk, escalate breached ones to the team leader: once each.

        Only complaints whose status may have changed are read (sla_next_check has passed), in
        batches; the flags sla_warned and sla_escalated make a re-run do nothing twice.
        """
        now = fields.Datetime.now()
        domain = [
            ("is_closed", "=", False),
            "|",
            "|",
            "&",
            ("sla_next_check", "!=", False),
            ("sla_next_check", "<=", now),
            # at risk or breached already when last computed (created late, imported...), not acted on yet
            "&",
            ("sla_status", "=", "at_risk"),
            ("sla_warned", "=", False),
            "&",
            ("sla_status", "=", "breached"),
            ("sla_escalated", "=", False),
        ]
        complaints = self.search(domain, limit=batch_size, order="sla_next_check, id")
        by_state = complaints._sla_refresh(now)
        at_risk = self.browse().union(*(c for (status, _n), c in by_state.items() if status == "at_risk"))
        breached = self.browse().union(*(c for (status, _n), c in by_state.items() if status == "breached"))
        at_risk.filtered(lambda c: not c.sla_warned)._sla_warn()
        breached.filtered(lambda c: not c.sla_escalated)._sla_escalate()
        remaining = self.search_count(domain) if len(complaints) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(complaints), remaining=remaining)
        return remaining

    def _sla_translator(self):
        """env._ in each reader's language: cron runs have no language of their own, and a
        notice meant for a Chinese-speaking owner or leader should read in Chinese."""
        envs = {}

        def translate(user, lazy):
            lang = user.lang or self.env.lang or "en_US"
            if lang not in envs:
                envs[lang] = self.with_context(lang=lang).env
            return envs[lang]._(lazy)

        return translate

    def _sla_warn(self):
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("crm.complaint")
        translate = self._sla_translator()
        activities = []
        for complaint in self.filtered("user_id"):
            deadline = (
                complaint.response_deadline if not complaint.first_response_date else complaint.resolution_deadline
            )
            activities.append(
                {
                    "res_model_id": model_id,
                    "res_id": complaint.id,
                    "activity_type_id": todo.id,
                    "user_id": complaint.user_id.id,
                    "summary": translate(complaint.user_id, _lt("SLA at risk: %(name)s", name=complaint.name)),
                    "date_deadline": deadline.date(),
                }
            )
        # the activity is the notice: no e-mail per activity from an automatic warning
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(activities)
        self._sla_set_flag("sla_warned")

    def _sla_escalate(self):
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("crm.complaint")
        today = fields.Date.context_today(self)
        translate = self._sla_translator()
        activities, bodies = [], {}
        for complaint in self:
            leader = complaint.team_id.user_id
            if leader:
                activities.append(
                    {
                        "res_model_id": model_id,
                        "res_id": complaint.id,
                        "activity_type_id": todo.id,
                        "user_id": leader.id,
                        "summary": translate(leader, _lt("SLA breached: %(name)s", name=complaint.name)),
                        "date_deadline": today,
                    }
                )
            reader = leader or complaint.user_id
            escalated_to = leader.name or translate(reader, _lt("the team (no team leader set)"))
            bodies[complaint.id] = translate(
                reader,
                _lt(
                    "The SLA %(sla)s is breached: escalated to %(leader)s.",
                    sla=complaint.sla_id.name,
                    leader=escalated_to,
                ),
            )
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(activities)
        self._message_log_batch(bodies={k: Markup("<p>%s</p>") % v for k, v in bodies.items()})
        # (to a leader who works in the complaint's company: another would be refused as its owner)
        reassign = self.filtered(
            lambda c: c.team_id.complaint_escalation_reassign and c.company_id in c.team_id.user_id.company_ids
        )
        for team, complaints in reassign.grouped("team_id").items():
            complaints.write({"user_id": team.user_id.id})
        self._sla_set_flag("sla_escalated")

    def _sla_set_flag(self, fname):
        """One UPDATE for the batch: an ORM write of a flag on 1,000 complaints flushes 10 queries."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE crm_complaint SET %s = true, write_uid = %s, write_date = %s WHERE id IN %s",
                SQL.identifier(fname),
                self.env.uid,
                self.env.cr.now(),
                tuple(self.ids),
            )
        )
        self.invalidate_recordset([fname, "write_uid", "write_date"])
        self.modified([fname])

    # ------------------------------------------------------------------ closing, review, response
    def _on_closed(self):
        now = fields.Datetime.now()
        for complaint in self:
            values = {"resolved_date": now}
            if complaint.sla_id:
                values["resolution_hours"] = complaint._working_hours_until(now)
            follow_up_days = complaint.team_id.complaint_follow_up_days
            if follow_up_days:
                values["follow_up_date"] = (now + timedelta(days=follow_up_days)).date()
            with RECORDED_GUARD.allow():
                complaint.write(values)
        self._sla_refresh(now)
        with RECORDED_GUARD.allow():
            for complaint in self.filtered("sla_id"):
                complaint.sla_success = 100.0 if complaint.sla_status == "met" else 0.0
        unanswered = self.filtered(lambda c: c.sla_id and not c.first_response_date)
        if unanswered:
            reason = Markup("<p>%s</p>") % _(
                "SLA breached: the complaint was closed without any recorded first response (a message to the"
                " customer, Answered by phone, or a stage that counts as a response)."
            )
            unanswered._message_log_batch(bodies=dict.fromkeys(unanswered.ids, reason))
        for complaint in self.filtered(lambda c: c.stage_id.rating_template_id and c.partner_id):
            complaint.rating_send_request(
                complaint.stage_id.rating_template_id, lang=complaint.partner_id.lang, force_send=False
            )

    def _working_hours_until(self, when):
        """Working hours of the SLA's calendar from the complaint's receipt to `when`."""
        self.ensure_one()
        return round(self.sla_id.calendar_id.get_work_hours_count(self.request_date, when), 2)

    def _has_resolution(self):
        self.ensure_one()
        return bool(html2plaintext(self.resolution or "").strip())

    def _mark_responded(self, when):
        for complaint in self.filtered(lambda c: not c.first_response_date):
            values = {"first_response_date": when}
            if complaint.sla_id:
                values["response_hours"] = complaint._working_hours_until(when)
            with RECORDED_GUARD.allow():
                complaint.write(values)
        self._sla_refresh()

    def action_mark_responded(self):
        """The customer was answered by phone or in person."""
        self._mark_responded(fields.Datetime.now())
        return True

    def _message_post_after_hook(self, message, msg_vals):
        # the first message an employee sends to the customer is the first response (notes are not)
        author = message.author_id
        if (
            message.message_type in ("comment", "email")
            and message.subtype_id == self.env.ref("mail.mt_comment")
            and author
            and author.user_ids
            and not author.user_ids[0].share
        ):
            self.sudo()._mark_responded(message.date or fields.Datetime.now())
        return super()._message_post_after_hook(message, msg_vals)

    def action_request_review(self):
        for complaint in self:
            if not complaint._has_resolution():
                raise UserError(
                    _("Write the resolution of %(name)s before asking for its review.", name=complaint.name)
                )
        with RECORDED_GUARD.allow():
            self.write({"review_state": "to_review"})
        managers = self.env.ref(COMPLAINT_MANAGER).users.filtered(lambda u: not u.share)
        reviewer = self.team_id.user_id.filtered(lambda u: u in managers)[:1] or managers[:1]
        for complaint in self:
            complaint.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Review the resolution of %(name)s", name=complaint.name),
                user_id=reviewer.id,
            )
        return True

    def _check_reviewer(self):
        if not self.env.user.has_group(COMPLAINT_MANAGER):
            raise AccessError(_("Only complaints managers can review a resolution."))

    def action_open_review(self):
        self._check_reviewer()
        return {
            "type": "ir.actions.act_window",
            "name": _("Review the resolution"),
            "res_model": "crm.complaint.review",
            "view_mode": "form",
            "target": "new",
            "context": {"default_complaint_id": self.id},
        }

    # ------------------------------------------------------------------ mail
    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An e-mail to a team's complaint alias opens a complaint; the sender's partner if known, the owner
        chosen as for the portal's complaints (_choose_owner)."""
        _strip_nul(msg_dict)
        body = msg_dict.get("body") or ""
        if len(body) > MAX_DESCRIPTION:
            body = body[:MAX_DESCRIPTION]
        defaults = {
            # the reference from the sequence (mail.thread would name the record after the subject)
            "name": _("New"),
            "subject": msg_dict.get("subject") or _("No subject"),
            "email_from": msg_dict.get("from"),
            "partner_id": msg_dict.get("author_id") or False,
            "channel": "email",
            "description": body,
        }
        defaults.update(custom_values or {})
        company = self.env["res.company"].browse(defaults.get("company_id")) or self.env.company
        partner = self.env["res.partner"].browse(defaults["partner_id"])
        if partner.company_id and partner.company_id != company:
            # a contact of another company cannot be this complaint's customer: the sender's address stays
            partner = self.env["res.partner"]
            defaults["partner_id"] = False
        if "user_id" not in defaults:
            team = self.env["crm.team"].browse(defaults.get("team_id")) or self._default_team(company)
            defaults.update(team_id=team.id, user_id=self._choose_owner(team, partner, company).id)
        return super(CrmComplaint, self.with_context(default_user_id=False)).message_new(msg_dict, defaults)

    def message_update(self, msg_dict, update_vals=None):
        _strip_nul(msg_dict)
        return super().message_update(msg_dict, update_vals=update_vals)

    def _message_get_suggested_recipients(self):
        recipients = super()._message_get_suggested_recipients()
        if self.partner_id:
            self._message_add_suggested_recipient(recipients, partner=self.partner_id, reason=_("Complainant"))
        elif self.email_from:
            self._message_add_suggested_recipient(recipients, email=self.email_from, reason=_("Customer e-mail"))
        return recipients

    def _rating_get_parent_field_name(self):
        return "team_id"
