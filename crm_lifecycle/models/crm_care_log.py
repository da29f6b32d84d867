import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import care

_logger = logging.getLogger(__name__)

STATE_SELECTION = [("sent", "Sent"), ("held_out", "Held out"), ("skipped", "Skipped"), ("failed", "Failed")]
CHANNEL_SELECTION = [("email", "Email"), ("sms", "SMS"), ("activity", "Activity")]
REASON_SELECTION = [
    ("control", "In the control group"),
    ("opted_out", "Asked for no care messages"),
    ("capped", "Already had care recently"),
    ("no_email", "No e-mail address"),
    ("email_blacklisted", "Email address blacklisted"),
    ("no_mobile", "No phone number"),
    ("phone_blacklisted", "Phone number blacklisted"),
    ("no_user", "No salesperson to give the activity to"),
    ("error", "Could not be sent"),
]
MESSAGES = ("email", "sms")  # what reaches the customer (and counts for the cap)


class CrmCareLog(models.Model):
    """One occasion of care for one customer on one channel: sent, held out (control group),
    skipped (with the reason) or failed. Unique per rule, partner, occurrence and channel: the row
    is the claim a run takes before it sends anything."""

    _name = "crm.care.log"
    _description = "Care log"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    rule_id = fields.Many2one("crm.care.rule", "Care rule", required=True, index=True, ondelete="cascade")
    trigger = fields.Selection(related="rule_id.trigger", string="Trigger")
    partner_id = fields.Many2one("res.partner", "Recipient", required=True, index=True, ondelete="cascade")
    commercial_partner_id = fields.Many2one(
        "res.partner", "Customer company", related="partner_id.commercial_partner_id", store=True, index=True
    )
    salesperson_id = fields.Many2one(
        "res.users", "Salesperson", related="partner_id.commercial_partner_id.user_id", store=True, index=True
    )
    company_id = fields.Many2one(related="rule_id.company_id", store=True, index=True, string="Company")
    occurrence = fields.Date("Occasion on", required=True, help="The day of the occasion: the birthday, the holiday...")
    date = fields.Date("Handled on", required=True, index=True, help="The day the care was sent, held out or skipped.")
    channel = fields.Selection(CHANNEL_SELECTION, required=True)
    state = fields.Selection(STATE_SELECTION, "Status", required=True, index=True)
    reason = fields.Selection(REASON_SELECTION)
    error = fields.Char(help="Why it could not be sent.")
    mail_id = fields.Many2one("mail.mail", "Email", ondelete="set null", index="btree_not_null")
    sms_id = fields.Many2one("sms.sms", "SMS", ondelete="set null", index="btree_not_null")
    activity_id = fields.Many2one("mail.activity", ondelete="set null", index="btree_not_null")
    user_id = fields.Many2one("res.users", "By", help="Who sent a one-to-one care message.")

    _sql_constraints = [
        (
            "occasion_unique",
            "UNIQUE(rule_id, partner_id, occurrence, channel)",
            "A customer gets each occasion of a rule once per channel.",
        )
    ]

    # ------------------------------------------------------------------ the run
    @api.model
    def _run(self, rules, today, limit=None, count_remaining=False):
        """Handle the occasions due on `today` for `rules` that no log holds yet: at most `limit` of
        them. Returns how many were handled (and, with `count_remaining`, how many are left)."""
        pending = []
        for rule in rules.sorted(lambda r: (r.sequence, r.id)):
            due = rule._due(today)
            if not due:
                continue
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT partner_id, occurrence FROM crm_care_log"
                    " WHERE rule_id = %s AND partner_id = ANY(%s)",
                    rule.id,
                    list(due),
                )
            )
            handled = set(self.env.cr.fetchall())
            pending += [(rule, pid, day) for pid, day in sorted(due.items()) if (pid, day) not in handled]
        batch = pending[:limit] if limit else pending
        if batch:
            self._handle(batch, today)
        return (len(batch), len(pending) - len(batch)) if count_remaining else len(batch)

    @api.model
    def _handle(self, occasions, today, actions=None, user=None):
        """Decide, claim and send the `occasions` [(rule, partner id, occurrence)]: `actions` (a rule,
        or the one-to-one wizard) says which e-mail, SMS and activity; by default each rule's own.
        Returns the log rows created (the ones another run had not claimed first)."""
        decisions = self._decide(occasions, today, actions)
        logs = self._claim(decisions, today, user)
        self._send(logs.filtered(lambda log: log.state == "sent"), today, actions)
        return logs

    def _decide(self, occasions, today, actions=None):
        """[(rule, partner id, occurrence, channel, state, reason)] for the occasions: nothing is
        written (the preview shows these)."""
        info = self._partner_info({pid for _rule, pid, _day in occasions})
        last_care = self._last_care(info, today)
        decided = []
        for rule, pid, day in occasions:
            partner = info.get(pid)
            if not partner:
                continue
            source = actions or rule
            channels = source._channels()
            cap = rule.company_id.lifecycle_care_cap_days
            if care.held_out(rule.id, pid, day, rule.control_percent):
                decided += [(rule, pid, day, channel, "held_out", "control") for channel in channels]
                last_care[pid] = today  # the control group is left alone by the other rules too
                continue
            if partner["opted_out"]:
                decided += [(rule, pid, day, channel, "skipped", "opted_out") for channel in channels]
                continue
            capped = any(c in MESSAGES for c in channels) and not care.cap_allows(last_care.get(pid), today, cap)
            messaged = False
            for channel in channels:
                reason = self._channel_problem(channel, partner, source) or (
                    capped and channel in MESSAGES and "capped"
                )
                decided.append((rule, pid, day, channel, "skipped" if reason else "sent", reason or False))
                messaged |= channel in MESSAGES and not reason
            if messaged:
                last_care[pid] = today
        return decided

    @staticmethod
    def _channel_problem(channel, partner, source):
        if channel == "email":
            if not partner["email"]:
                return "no_email"
            return "email_blacklisted" if partner["email_blacklisted"] else None
        if channel == "sms":
            if not partner["number"]:
                return "no_mobile"
            return "phone_blacklisted" if partner["phone_blacklisted"] else None
        if source.activity_user == "user":
            return None if source.activity_user_id else "no_user"
        return None if partner["salesperson"] else "no_user"

    def _partner_info(self, ids):
        """Who can be reached and how, for the partners `ids`: one query."""
        if not ids:
            return {}
        self.env["res.partner"].flush_model()
        self.env.cr.execute(
            SQL(
                """
SELECT p.id, p.email_normalized, bl.id IS NOT NULL, COALESCE(NULLIF(p.mobile, ''), NULLIF(p.phone, '')),
       p.phone_sanitized, pb.id IS NOT NULL, COALESCE(p.care_opt_out, false) OR COALESCE(c.care_opt_out, false),
       u.id, c.company_id
  FROM res_partner p
  JOIN res_partner c ON c.id = p.commercial_partner_id
  LEFT JOIN mail_blacklist bl ON bl.email = p.email_normalized AND bl.active
  LEFT JOIN phone_blacklist pb ON pb.number = p.phone_sanitized AND pb.active
  LEFT JOIN res_users u ON u.id = COALESCE(p.user_id, c.user_id) AND u.active AND NOT u.share
 WHERE p.id = ANY(%s)
                """,
                list(ids),
            )
        )
        keys = ("email", "email_blacklisted", "number", "sanitized", "phone_blacklisted", "opted_out", "salesperson",
                "company")  # fmt: skip
        return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in self.env.cr.fetchall()}

    def _last_care(self, info, today):
        """{partner id: the last day a care message reached them (or they were held out)}, over the
        longest cap of their companies: one query."""
        longest = max(self.env["res.company"].sudo().search([]).mapped("lifecycle_care_cap_days") or [0])
        if not info or not longest:
            return {}
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, max(date) FROM crm_care_log WHERE partner_id = ANY(%s) AND date > %s"
                " AND ((state = 'sent' AND channel IN ('email', 'sms')) OR state = 'held_out') GROUP BY partner_id",
                list(info),
                today - timedelta(days=longest),
            )
        )
        return dict(self.env.cr.fetchall())

    def _claim(self, decisions, today, user=None):
        """Insert the log rows, leaving out those another run has already inserted (the unique key):
        what comes back is this run's to send. One statement."""
        if not decisions:
            return self.browse()
        self.flush_model()
        rows = SQL(", ").join(
            SQL("(%s, %s, %s::date, %s, %s, %s)", rule.id, pid, day, channel, state, reason or None)
            for rule, pid, day, channel, state, reason in decisions
        )
        self.env.cr.execute(
            SQL(
                """
INSERT INTO crm_care_log (rule_id, partner_id, occurrence, channel, state, reason, date, user_id, company_id,
                          commercial_partner_id, salesperson_id, create_uid, create_date, write_uid, write_date)
SELECT v.rule_id, v.partner_id, v.occurrence, v.channel, v.state, v.reason, %(today)s, %(user)s, r.company_id,
       p.commercial_partner_id, c.user_id, %(uid)s, %(now)s, %(uid)s, %(now)s
  FROM (VALUES %(rows)s) AS v(rule_id, partner_id, occurrence, channel, state, reason)
  JOIN crm_care_rule r ON r.id = v.rule_id
  JOIN res_partner p ON p.id = v.partner_id
  JOIN res_partner c ON c.id = p.commercial_partner_id
ON CONFLICT (rule_id, partner_id, occurrence, channel) DO NOTHING
RETURNING id
                """,
                rows=rows,
                today=today,
                user=user.id if user else None,
                uid=self.env.uid,
                now=self.env.cr.now(),
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    # ------------------------------------------------------------------ sending
    def _send(self, logs, today, actions=None):
        """Queue what the claimed logs say: e-mails (mail.mail) and SMS (sms.sms) rendered in each
        customer's language, activities for the salesperson. One failing customer is logged
        `failed` and the others go on."""
        groups = defaultdict(lambda: self.browse())
        for log in logs:
            groups[(actions or log.rule_id), log.channel] |= log
        for (source, channel), group in groups.items():
            send = getattr(self, f"_send_{channel}")
            try:
                with self.env.cr.savepoint():
                    send(source, group, today)
            except Exception:
                _logger.info("care: %s of %s failed as a batch, sending one by one", channel, source.display_name)
                for log in group:
                    try:
                        with self.env.cr.savepoint():
                            send(source, log, today)
                    except Exception as error:
                        log.write({"state": "failed", "reason": "error", "error": str(error)[:250]})

    def _send_email(self, source, logs, today):
        template = source.mail_template_id.sudo()
        mails = template.send_mail_batch(logs.partner_id.ids, force_send=False)
        by_partner = {mail.res_id: mail for mail in mails}
        for log in logs:
            log.mail_id = by_partner.get(log.partner_id.id)

    def _send_sms(self, source, logs, today):
        template = source.sms_template_id.sudo()
        partners = logs.partner_id
        bodies = template._render_field("body", partners.ids, compute_lang=True)
        sms = (
            self.env["sms.sms"]
            .sudo()
            .create(
                [
                    {
                        "partner_id": partner.id,
                        "number": partner.phone_sanitized or partner.mobile or partner.phone,
                        "body": bodies[partner.id],
                        "state": "outgoing",
                    }
                    for partner in partners
                ]
            )
        )
        by_partner = dict(zip(partners.ids, sms, strict=True))
        for log in logs:
            log.sms_id = by_partner[log.partner_id.id]

    def _send_activity(self, source, logs, today):
        model_id = self.env["ir.model"]._get_id("res.partner")
        values = []
        for log in logs:
            partner = log.partner_id
            user = (
                source.activity_user_id
                if source.activity_user == "user"
                else (partner.user_id or partner.commercial_partner_id.user_id)
            )
            values.append(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": source.activity_type_id.id,
                    "summary": source.activity_summary or log.rule_id.name,
                    "user_id": user.id,
                    "date_deadline": today + timedelta(days=source.activity_deadline_days),
                }
            )
        activities = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(values)
        for log, activity in zip(logs, activities, strict=True):
            log.activity_id = activity

    # ------------------------------------------------------------------ effect
    @api.model
    def _effect_figures(self, rules):
        """{rule id: (sent, of them ordered, held out, of them ordered)}: per customer occasion whose
        measuring window has ended, whether the customer company bought within it (a confirmed order
        or an invoice without an order). One query."""
        today = fields.Date.context_today(self)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
WITH occasions AS (
    SELECT l.rule_id, l.commercial_partner_id AS pid, l.occurrence, r.effect_days,
           bool_or(l.state = 'sent') AS sent
      FROM crm_care_log l JOIN crm_care_rule r ON r.id = l.rule_id
     WHERE l.rule_id = ANY(%(rules)s) AND l.state IN ('sent', 'held_out')
       AND l.occurrence + r.effect_days <= %(today)s
     GROUP BY l.rule_id, l.commercial_partner_id, l.occurrence, r.effect_days
), answered AS (
    SELECT o.*, EXISTS (
               SELECT 1 FROM sale_order s JOIN res_partner c ON c.id = s.partner_id
                WHERE c.commercial_partner_id = o.pid AND s.state = 'sale'
                  AND s.date_order >= o.occurrence AND s.date_order < o.occurrence + o.effect_days)
           OR EXISTS (
               SELECT 1 FROM account_move m
                WHERE m.commercial_partner_id = o.pid AND m.state = 'posted' AND m.move_type = 'out_invoice'
                  AND NOT COALESCE(m.lifecycle_from_order, false)
                  AND m.invoice_date >= o.occurrence AND m.invoice_date < o.occurrence + o.effect_days) AS ordered
      FROM occasions o
)
SELECT rule_id,
       count(*) FILTER (WHERE sent), count(*) FILTER (WHERE sent AND ordered),
       count(*) FILTER (WHERE NOT sent), count(*) FILTER (WHERE NOT sent AND ordered)
  FROM answered GROUP BY rule_id
                """,
                rules=rules.ids,
                today=today,
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}
