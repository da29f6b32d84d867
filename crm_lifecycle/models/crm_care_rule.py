import ast
import logging
from collections import defaultdict
from datetime import timedelta

from psycopg2.extensions import TransactionRollbackError

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from ..lib import care
from ..lib.ladder import LADDER, LADDER_SELECTION, TIER_SELECTION
from ..lib.validation import ensure_finite

_logger = logging.getLogger(__name__)
# A batch that met another run's claims runs again after this
RETRY_AFTER = timedelta(seconds=10)

TRIGGER_SELECTION = [
    ("birthday", "Birthday"),
    ("first_purchase_anniversary", "First purchase anniversary"),
    ("holiday", "Public holiday or occasion"),
    ("inactivity", "No order for a while (win-back)"),
    ("rung_up", "Moved up the ladder"),
    ("complaint_closed", "After a complaint was closed"),
    ("manual", "One-to-one care"),
]
CHANNELS = ("email", "sms", "activity")
TIERS = [key for key, _label in TIER_SELECTION]


class CrmCareRule(models.Model):
    """When to care for which customers, and how: an occasion (a trigger), an audience, and the
    messages and tasks it gives, with a control group that tells whether it worked.

    The daily run (`_cron_run_care`) and the preview find the due customers with the same method,
    `_due`; `crm.care.log` decides what each of them gets and sends it, once per occurrence.
    """

    _name = "crm.care.rule"
    _description = "Care rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10, help="Rules earlier in the list come first for the cap.")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    trigger = fields.Selection(TRIGGER_SELECTION, required=True, default="birthday", tracking=True)
    # --- when
    days_ahead = fields.Integer(
        "Days ahead", default=0, help="Send this many days before the occasion (0: on the day)."
    )
    holiday_country_id = fields.Many2one("res.country", "Holiday of")
    holiday_id = fields.Many2one(
        "crm.care.holiday",
        "Public holiday",
        domain="[('country_id', '=', holiday_country_id)]",
        help="Celebrated for the customers of that country (of its states that have it, for a regional holiday), "
        "on its date of each year.",
    )
    occasion_ids = fields.One2many("crm.care.occasion", "rule_id", "Dated occasions", copy=True)
    inactivity_days = fields.Integer(
        "No order for (days)", default=90, help="0: only the customer's own rhythm counts (below)."
    )
    inactivity_factor = fields.Float(
        "Or this many times their usual interval",
        default=0.0,
        help="A customer who orders every 20 days is inactive after 3 x 20 = 60 days with 3. When both are set, "
        "the longer wait applies. 0: only the number of days counts.",
    )
    rung = fields.Selection(LADDER_SELECTION, "Rung reached", default="client")
    delay_days = fields.Integer("Days after", default=7, help="Days after the complaint was closed.")
    grace_days = fields.Integer(
        "Catch up (days)",
        default=7,
        help="A run that comes late (the server was down) still acts on occasions this many days old, and no older.",
    )
    # --- who
    audience_domain = fields.Char(
        "Audience", default="[]", help="Which customers and contacts this rule cares for (empty: all)."
    )
    audience_min_rung = fields.Selection(LADDER_SELECTION, "From rung", help="This rung or higher.")
    audience_min_tier = fields.Selection(TIER_SELECTION, "From value tier", help="This tier or higher.")
    audience_country_ids = fields.Many2many("res.country", string="Countries")
    audience_state_ids = fields.Many2many("res.country.state", string="States")
    # --- how
    mail_template_id = fields.Many2one(
        "mail.template", "Email", domain=[("model", "=", "res.partner")], help="Sent in the customer's language."
    )
    sms_template_id = fields.Many2one(
        "sms.template", "SMS", domain=[("model", "=", "res.partner")], help="Sent in the customer's language."
    )
    activity_type_id = fields.Many2one("mail.activity.type", "Activity")
    activity_summary = fields.Char("Activity summary")
    activity_user = fields.Selection(
        [("salesperson", "The customer's salesperson"), ("user", "A chosen user")],
        "Activity for",
        default="salesperson",
    )
    activity_user_id = fields.Many2one("res.users", "Assigned to", domain=[("share", "=", False)])
    activity_deadline_days = fields.Integer("Due after (days)", default=2)
    control_percent = fields.Float(
        "Control group (%)",
        default=0.0,
        help="This share of the customers due is held out at random, each occasion: they get nothing, and the "
        "orders of both groups afterwards tell whether the care made a difference.",
    )
    effect_days = fields.Integer(
        "Effect measured over (days)", default=30, help="An order within this many days after the occasion counts."
    )
    # --- what it did
    log_ids = fields.One2many("crm.care.log", "rule_id", "Care log")
    sent_count = fields.Integer("Sent", compute="_compute_counts")
    held_out_count = fields.Integer("Held out", compute="_compute_counts")
    skipped_count = fields.Integer("Skipped", compute="_compute_counts")
    failed_count = fields.Integer("Failed", compute="_compute_counts")
    effect_sent = fields.Integer("Customers sent care", compute="_compute_effect")
    effect_sent_ordered = fields.Integer("Sent care, then ordered", compute="_compute_effect")
    effect_held_out = fields.Integer("Customers held out", compute="_compute_effect")
    effect_held_out_ordered = fields.Integer("Held out, then ordered", compute="_compute_effect")
    effect_sent_rate = fields.Float("Ordered after care (%)", compute="_compute_effect", digits=(16, 1))
    effect_held_out_rate = fields.Float("Ordered when held out (%)", compute="_compute_effect", digits=(16, 1))
    effect_difference = fields.Float("Difference (points)", compute="_compute_effect", digits=(16, 1))
    effect_p_value = fields.Float("p-value", compute="_compute_effect", digits=(16, 3))
    effect_verdict = fields.Selection(care.EFFECT_VERDICT_SELECTION, "Effect", compute="_compute_effect")

    # ------------------------------------------------------------------ checks
    @api.constrains(
        "days_ahead", "inactivity_days", "inactivity_factor", "delay_days", "grace_days", "control_percent",
        "effect_days", "activity_deadline_days", "trigger", "holiday_id", "occasion_ids", "rung",
        "mail_template_id", "sms_template_id", "activity_type_id", "activity_user", "activity_user_id", "active",
    )  # fmt: skip
    def _check_rule(self):
        ensure_finite(self, ["inactivity_factor", "control_percent"])
        for rule in self:
            for fname in ("days_ahead", "inactivity_days", "delay_days", "grace_days", "effect_days",
                          "activity_deadline_days"):  # fmt: skip
                if rule[fname] < 0:
                    raise ValidationError(
                        _("“%(field)s” cannot be negative.", field=rule._fields[fname]._description_string(self.env))
                    )
            if rule.inactivity_factor < 0:
                raise ValidationError(_("The number of usual intervals cannot be negative."))
            if not 0 <= rule.control_percent < 100:
                raise ValidationError(_("The control group must be a share from 0 up to (not including) 100%."))
            if rule.effect_days < 1:
                raise ValidationError(_("The effect is measured over 1 day or more."))
            if rule.trigger == "holiday" and not (rule.holiday_id or rule.occasion_ids):
                raise ValidationError(_("Choose the public holiday of the rule, or add its dated occasions."))
            if rule.trigger == "inactivity" and not (rule.inactivity_days or rule.inactivity_factor):
                raise ValidationError(
                    _("Say after how many days, or how many usual intervals, a customer is inactive.")
                )
            if rule.trigger == "rung_up" and not rule.rung:
                raise ValidationError(_("Choose the rung that starts the care."))
            if rule.active and rule.trigger != "manual" and not rule._channels():
                raise ValidationError(_("Choose what the rule does: an e-mail, an SMS or an activity."))
            if rule.activity_type_id and rule.activity_user == "user" and not rule.activity_user_id:
                raise ValidationError(_("Choose the user who gets the activity."))

    @api.constrains("audience_domain")
    def _check_audience_domain(self):
        for rule in self:
            try:
                rule._audience_domain()
            except (ValueError, SyntaxError, KeyError, TypeError) as error:
                raise ValidationError(
                    _("The audience of “%(rule)s” is not a valid filter: %(error)s", rule=rule.name, error=error)
                ) from error

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

    # ------------------------------------------------------------------ audience
    def _audience_domain(self):
        """The partners the rule cares for, as a domain: the rule's filter and its quick filters."""
        self.ensure_one()
        domain = ast.literal_eval(self.audience_domain or "[]")
        if not isinstance(domain, list):
            raise ValueError(self.env._("a filter is a list of conditions"))
        Partner = self.env["res.partner"]
        expression.expression(domain, Partner)  # unknown fields and operators raise here
        quick = []
        if self.audience_min_rung:
            quick.append([("ladder_stage", "in", LADDER[LADDER.index(self.audience_min_rung) :])])
        if self.audience_min_tier:
            quick.append([("value_tier", "in", TIERS[TIERS.index(self.audience_min_tier) :])])
        if self.audience_country_ids:
            quick.append([("country_id", "in", self.audience_country_ids.ids)])
        if self.audience_state_ids:
            quick.append([("state_id", "in", self.audience_state_ids.ids)])
        return expression.AND([domain, *quick])

    # ------------------------------------------------------------------ who is due
    def _due(self, today):
        """{partner id: occurrence date} of the customers (or contacts) due for this rule on `today`,
        before the audience, the control group and the limits. Set-based: one or two queries."""
        self.ensure_one()
        method = getattr(self, f"_due_{self.trigger}", None)
        due = method(today) if method else {}
        if not due:
            return {}
        domain = expression.AND(
            [[("id", "in", list(due)), ("company_id", "in", [self.company_id.id, False])], self._audience_domain()]
        )
        return {pid: due[pid] for pid in self.env["res.partner"].sudo().search(domain).ids}

    def _yearly_due(self, column, today, where):
        """Partners whose `column` (a date) comes round in the window: one query on month and day (the
        expression index of res.partner.init), then the year's own date (29 February) in Python."""
        pairs = care.month_days(today, self.days_ahead)
        self.env.cr.execute(
            SQL(
                "SELECT id, %(column)s FROM res_partner WHERE active AND %(where)s AND %(column)s IS NOT NULL"
                " AND (company_id IS NULL OR company_id = %(company)s)"
                " AND (EXTRACT(MONTH FROM %(column)s)::int, EXTRACT(DAY FROM %(column)s)::int) IN %(pairs)s",
                column=SQL.identifier(column),
                where=where,
                company=self.company_id.id,
                pairs=tuple(pairs),
            )
        )
        result = {}
        for pid, origin in self.env.cr.fetchall():
            occurrence = care.yearly_due(origin, today, self.days_ahead)
            if occurrence:
                result[pid] = occurrence
        return result

    def _due_birthday(self, today):
        return self._yearly_due("birthdate_date", today, SQL("true"))

    def _due_first_purchase_anniversary(self, today):
        # the anniversary of the relationship: the first purchase the customer kept
        return self._yearly_due("lifecycle_first_order_date", today, SQL("(is_company OR parent_id IS NULL)"))

    def _due_holiday(self, today):
        occasions = [
            care.DatedOccasion(
                date=o.date,
                name=o.name,
                countries=frozenset(o.country_ids.mapped("code")),
                states=frozenset((s.country_id.code, s.code) for s in o.state_ids),
            )
            for o in self.occasion_ids
        ]
        if not self._holiday_in_window(today, occasions):
            return {}  # nobody's day, whatever their country and state: the partners are not read
        countries = self.holiday_country_id if self.holiday_id else self.env["res.country"]
        if occasions:
            countries |= self.occasion_ids.country_ids | self.occasion_ids.state_ids.country_id
        # the customers by country and state: whether the day is theirs depends on no more
        self.env.cr.execute(
            SQL(
                "SELECT p.country_id, p.state_id, array_agg(p.id) FROM res_partner p WHERE p.active AND %s"
                " GROUP BY p.country_id, p.state_id",
                SQL("p.country_id = ANY(%s)", countries.ids)
                if countries and not any(not o.countries and not o.states for o in occasions)
                else SQL("true"),
            )
        )
        result = {}
        for country_id, state_id, ids in self.env.cr.fetchall():
            country = self.env["res.country"].browse(country_id)
            state = self.env["res.country.state"].browse(state_id)
            days = []
            if self.holiday_id and country == self.holiday_country_id:
                subdivision = care.subdivision(country.code, state.code, state.name) if state else None
                day = care.holiday_due(self.holiday_id.key, country.code, today, self.days_ahead, subdivision)
                if day:
                    days.append(day)
            days += [
                o.date for o in care.dated_occasions_due(occasions, today, self.days_ahead, country.code, state.code)
            ]
            if days:
                result.update(dict.fromkeys(ids, min(days)))
        return result

    def _holiday_in_window(self, today, occasions):
        """Whether the rule's holiday (in its country or in one of the country's regions) or one of its
        dated occasions falls in the window at all: when none does, no customer is due."""
        if any(care.in_window(o.date, today, self.days_ahead) for o in occasions):
            return True
        if not self.holiday_id:
            return False
        code = self.holiday_country_id.code
        return any(
            care.holiday_due(self.holiday_id.key, code, today, self.days_ahead, subdivision)
            for subdivision in (None, *care.subdivisions(code))
        )

    def _due_inactivity(self, today):
        """Customers whose last order is old: the day they became inactive (one per episode)."""
        # care.inactivity_due decides. The query keeps the customers whose day may fall in the grace
        # days, with a day more on each side: their wait is the fixed days or the factor times the
        # usual interval rounded up, as here (care rounds to 6 places first: at most a day less).
        # Without it, every customer quiet for long was read (and with the JIT off: PostgreSQL
        # compiled the scan of res_partner anew each time, 0.1 s of its 1 s at 100,000 partners).
        wait = SQL(
            "GREATEST(%s, CEIL(%s * COALESCE(p.lifecycle_order_interval, 0)))::int",
            self.inactivity_days,
            self.inactivity_factor,
        )
        _names, rows = self.env["crm.lifecycle.engine"]._execute_without_jit(
            SQL(
                "SELECT p.id, p.lifecycle_last_order_date, p.lifecycle_order_interval,"
                " (SELECT max(l.occurrence) FROM crm_care_log l WHERE l.rule_id = %(rule)s AND l.partner_id = p.id)"
                " FROM res_partner p WHERE p.active AND (p.is_company OR p.parent_id IS NULL)"
                " AND p.lifecycle_last_order_date <= %(latest)s"
                " AND p.lifecycle_last_order_date BETWEEN %(first)s - %(wait)s AND %(last)s - %(wait)s",
                rule=self.id,
                # the shortest wait any customer may have: the fixed days (with a factor only, one day)
                latest=today - timedelta(days=max(self.inactivity_days, 1)),
                first=today - timedelta(days=self.grace_days + 1),
                last=today + timedelta(days=1),
                wait=wait,
            )
        )
        result = {}
        factor = self.inactivity_factor
        for pid, last_order, interval, last_occurrence in rows:
            occurrence = care.inactivity_due(
                last_order, today, self.inactivity_days, factor, interval or 0.0, self.grace_days, last_occurrence
            )
            if occurrence:
                result[pid] = occurrence
        return result

    def _due_rung_up(self, today):
        since = today - timedelta(days=self.grace_days)
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, max(date)::date FROM crm_ladder_history WHERE to_stage = %s AND direction = 'up'"
                " AND date >= %s AND date < %s AND company_id = %s GROUP BY partner_id",
                self.rung,
                since,
                today + timedelta(days=1),
                self.company_id.id,
            )
        )
        return {
            pid: occurrence
            for pid, day in self.env.cr.fetchall()
            if (occurrence := care.event_due(day, today, 0, self.grace_days))
        }

    def _due_complaint_closed(self, today):
        first = today - timedelta(days=self.delay_days + self.grace_days)
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, max(resolved_date)::date FROM crm_complaint"
                " WHERE is_closed AND partner_id IS NOT NULL AND resolved_date >= %s AND resolved_date < %s"
                " AND company_id = %s GROUP BY partner_id",
                first,
                today + timedelta(days=1),
                self.company_id.id,
            )
        )
        return {
            pid: occurrence
            for pid, day in self.env.cr.fetchall()
            if (occurrence := care.event_due(day, today, self.delay_days, self.grace_days))
        }

    @api.depends("name", "trigger")
    @api.depends_context("lang")
    def _compute_display_name(self):
        result = super()._compute_display_name()
        for rule in self.filtered(lambda rule: rule.trigger == "manual"):
            # created once, in the language of the first sender: named in the reader's (care log, filters)
            rule.display_name = self.env._("One-to-one care")
        return result

    # ------------------------------------------------------------------ what it did
    def _compute_counts(self):
        counts = defaultdict(int)
        for rule, state, count in self.env["crm.care.log"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id", "state"], ["__count"]
        ):
            counts[rule.id, state] = count
        for rule in self:
            rule.sent_count = counts[rule.id, "sent"]
            rule.held_out_count = counts[rule.id, "held_out"]
            rule.skipped_count = counts[rule.id, "skipped"]
            rule.failed_count = counts[rule.id, "failed"]

    @api.depends_context("lang")
    def _compute_effect(self):
        figures = self.env["crm.care.log"]._effect_figures(self) if self.ids else {}
        for rule in self:
            sent, sent_ordered, held, held_ordered = figures.get(rule.id, (0, 0, 0, 0))
            effect = care.measure_effect(sent, sent_ordered, held, held_ordered)
            rule.effect_sent, rule.effect_sent_ordered = sent, sent_ordered
            rule.effect_held_out, rule.effect_held_out_ordered = held, held_ordered
            rule.effect_sent_rate = effect.sent_rate * 100 if effect.sent_rate is not None else 0.0
            rule.effect_held_out_rate = effect.held_out_rate * 100 if effect.held_out_rate is not None else 0.0
            rule.effect_difference = effect.difference * 100 if effect.difference is not None else 0.0
            rule.effect_p_value = effect.p_value if effect.p_value is not None else 0.0
            rule.effect_verdict = effect.verdict

    # ------------------------------------------------------------------ actions
    def action_view_log(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("crm_lifecycle.crm_care_log_action")
        action.update(domain=[("rule_id", "=", self.id)], context={"search_default_group_state": 1})
        return action

    def action_preview(self):
        self.ensure_one()
        return self.env["crm.care.preview"].create({"rule_id": self.id})._action_open()

    def action_run_now(self):
        """Run this rule for today now (what the daily run would do), in this request."""
        self.ensure_one()
        if not self.active:
            raise UserError(_("Activate the rule before running it."))
        done = self.env["crm.care.log"]._run(self, fields.Date.context_today(self))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%(count)s occasions handled: see the care log.", count=done)
                if done != 1
                else _("1 occasion handled: see the care log."),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _manual_rule(self, company):
        """The company's one-to-one care (sent by hand from customer lists): a rule of its own, so that
        its messages go through the same log, limits and cap."""
        rule = (
            self.sudo()
            .with_context(active_test=False)
            .search([("trigger", "=", "manual"), ("company_id", "=", company.id)], limit=1)
        )
        return rule or self.sudo().create(
            {"name": self.env._("One-to-one care"), "trigger": "manual", "company_id": company.id, "active": False}
        )

    @api.model
    def _cron_run_care(self, batch_size=500):
        """One batch of today's care; the cron runner commits and calls again while some remain.

        The log is the run's only state: each occasion is claimed by a log row (unique per rule,
        partner, occurrence and channel) before anything is sent, in the transaction that sends it,
        so a re-run, a crash or a second run at the same time never sends twice nor skips the rest.
        """
        today = fields.Date.context_today(self)
        rules = self.sudo().search([("trigger", "!=", "manual")])
        try:
            with self.env.cr.savepoint():
                done, remaining = self.env["crm.care.log"]._run(rules, today, limit=batch_size, count_remaining=True)
        except TransactionRollbackError:
            # another run claimed some of the same occasions and committed after this transaction began:
            # its rows are outside this snapshot, so the claim cannot go on here (nothing was sent); a
            # new transaction sees them and leaves them out
            _logger.info("care: a concurrent run claimed part of this batch, running again in a moment")
            self.env.ref("crm_lifecycle.ir_cron_care_run")._trigger(fields.Datetime.now() + RETRY_AFTER)
            done, remaining = 0, 1
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return remaining
