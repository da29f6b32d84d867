from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib.assignment import COMPANY_SIZE_SELECTION
from ..lib.churn import CHURN_REASON_SELECTION, RISK_LEVEL_SELECTION
from ..lib.ladder import LADDER_SELECTION, LIFECYCLE_SELECTION, RELATIONSHIP_SELECTION, TIER_SELECTION
from ..lib.reasons import (
    EnvRenderer,
    render_churn_reason,
    render_ladder_reason,
    render_relationship_reason,
    render_tier_reason,
)
from ..lib.rfm import SEGMENT_SELECTION
from ..lib.sql import ordered_groupby
from .lifecycle_engine import COMMERCIAL_DOMAIN, ENGINE_COLUMNS, SYNCED_COLUMNS, engine_writes_allowed

MANAGER_GROUP = "crm_lifecycle.crm_lifecycle_group_manager"
# A manager's decisions about a customer (the rung itself is set through the override wizard)
MANAGER_FIELDS = frozenset({"ladder_locked", "ladder_strategic"})
# Written by people, and read by the computation: a change recomputes the customer at once
RECOMPUTE_ON = frozenset(
    {"ladder_strategic", "lifecycle_targeted", "referred_by_id", "active", "churn_reason", "user_id"}
)
# The seller's internal view of a customer: never shown to portal users, even their own company's
INTERNAL = "base.group_user"
CREATE_DEFAULTS = {"ladder_stage": "prospect", "value_tier": "lead"}
# derived from other fields, never typed: the engine's columns, and the birthday's month and day
GUARDED = ENGINE_COLUMNS | {"birthday_month", "birthday_day"}
# grouped in their own order in reports (see lib.sql.ordered_groupby)
RANKED_SELECTIONS = {
    "ladder_stage": [key for key, _label in LADDER_SELECTION],
    "value_tier": [key for key, _label in TIER_SELECTION],
    "lifecycle_stage": [key for key, _label in LIFECYCLE_SELECTION],
    "churn_risk_level": [key for key, _label in RISK_LEVEL_SELECTION],
    "rfm_segment": [key for key, _label in SEGMENT_SELECTION],
    "churn_reason": [key for key, _label in CHURN_REASON_SELECTION],
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    referred_by_id = fields.Many2one(
        "res.partner",
        string="Referred by",
        index="btree_not_null",
        tracking=True,
        domain=COMMERCIAL_DOMAIN,
        groups=INTERNAL,
        help="The customer who recommended this one. A referred partner who keeps a purchase lifts the referrer to "
        "the advocate rung; one whose purchases were all refunded does not count.",
    )
    referral_ids = fields.One2many("res.partner", "referred_by_id", string="Referrals", groups=INTERNAL)

    # --- the relationship ladder: how close the relationship is ---
    ladder_stage = fields.Selection(
        LADDER_SELECTION,
        string="Rung",
        default="prospect",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        copy=False,
        group_expand=True,
        groups=INTERNAL,
        help="Payne's relationship ladder: how close the relationship is, from prospect to partner, computed from "
        "orders, invoices, refunds, payments, referrals and complaints (or set by a manager, with a reason). "
        "Contacts show their company's rung.",
    )
    ladder_locked = fields.Boolean(
        "Rung set by hand",
        copy=False,
        tracking=True,
        groups=INTERNAL,
        help="A manager set the rung; the automatic computation leaves it alone until it is unlocked.",
    )
    ladder_strategic = fields.Boolean(
        "Strategic partner",
        copy=False,
        tracking=True,
        groups=INTERNAL,
        help="Set by a manager: a loyal customer (supporter conditions) with this flag is a partner.",
    )
    ladder_since = fields.Datetime("In this rung since", copy=False, readonly=True, groups=INTERNAL)
    ladder_days_in_stage = fields.Integer("Days in this rung", compute="_compute_ladder_days_in_stage", groups=INTERNAL)
    ladder_reason_data = fields.Json("Rung explanation data", copy=False, readonly=True, groups=INTERNAL)
    ladder_reason = fields.Text("Why this rung", compute="_compute_lifecycle_reasons", groups=INTERNAL)
    ladder_history_ids = fields.One2many(
        "crm.ladder.history", "partner_id", string="Rung history", readonly=True, groups=INTERNAL
    )

    # value_tier, relationship_type and lifecycle_stage are not indexed: a handful of values over
    # every partner, which the nightly run rewrites in bulk (an index is one more write per row)
    value_tier = fields.Selection(
        TIER_SELECTION,
        string="Value tier",
        default="lead",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="The customer pyramid, by margin over the last 12 months: platinum for the top share of customers, "
        "gold for the next share (both set in the lifecycle rules), iron for the other customers with a positive "
        "margin, no margin when it is zero or negative.",
    )
    value_tier_reason = fields.Text("Why this tier", compute="_compute_lifecycle_reasons", groups=INTERNAL)
    relationship_type = fields.Selection(
        RELATIONSHIP_SELECTION,
        string="Relationship type",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="Relationship customers have a long tenure, buy often or engage several contacts; transactional ones "
        "buy now and then.",
    )
    relationship_reason = fields.Text("Why this type", compute="_compute_lifecycle_reasons", groups=INTERNAL)
    lifecycle_stage = fields.Selection(
        LIFECYCLE_SELECTION,
        string="Lifecycle stage",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="How far the sale went (the rung says how close the relationship is): target (marked, no interaction "
        "yet), potential (an open lead), opportunity (an open opportunity or a quotation), signed (a purchase "
        "that was kept).",
    )
    lifecycle_targeted = fields.Boolean(
        "Targeted", copy=False, groups=INTERNAL, help="Marked as a target of prospection."
    )

    # --- the figures behind it (company currency of the partner's company) ---
    lifecycle_currency_id = fields.Many2one(
        "res.currency", string="Currency of the figures", copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_first_order_date = fields.Date(
        "First order", copy=False, readonly=True, groups=INTERNAL, help="The first purchase that was not refunded."
    )
    lifecycle_last_order_date = fields.Date("Last order", copy=False, readonly=True, groups=INTERNAL)
    lifecycle_order_count = fields.Integer(
        "Orders", copy=False, readonly=True, groups=INTERNAL, help="Confirmed orders and direct invoices."
    )
    lifecycle_order_count_12m = fields.Integer("Orders (12 months)", copy=False, readonly=True, groups=INTERNAL)
    lifecycle_refund_count = fields.Integer(
        "Refunded orders",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="Orders and invoices whose whole amount was credited; they no longer count as purchases.",
    )
    lifecycle_revenue = fields.Monetary(
        "Revenue", currency_field="lifecycle_currency_id", copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_revenue_12m = fields.Monetary(
        "Revenue (12 months)", currency_field="lifecycle_currency_id", copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_margin = fields.Monetary(
        "Margin", currency_field="lifecycle_currency_id", copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_margin_12m = fields.Monetary(
        "Margin (12 months)", currency_field="lifecycle_currency_id", copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_overdue_amount = fields.Monetary(
        "Overdue",
        currency_field="lifecycle_currency_id",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="Instalments unpaid past their due date and the grace days.",
    )
    lifecycle_order_interval = fields.Float(
        "Days between orders", digits=(16, 1), copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_referral_count = fields.Integer("Referrals made", copy=False, readonly=True, groups=INTERNAL)
    lifecycle_referral_customer_count = fields.Integer(
        "Referrals who bought", copy=False, readonly=True, groups=INTERNAL
    )
    lifecycle_contact_count = fields.Integer("Contacts engaged", copy=False, readonly=True, groups=INTERNAL)
    lifecycle_open_complaint_count = fields.Integer(
        "Open complaints",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="A customer with open complaints is not yet a supporter.",
    )

    # --- retention: churn risk, churn, RFM, lifetime value (computed by the engine) ---
    lifecycle_purchase_days = fields.Integer(
        "Purchase days", copy=False, readonly=True, groups=INTERNAL, help="Days with a purchase that was kept."
    )
    churn_risk = fields.Integer(
        "Churn risk",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        aggregator="avg",
        help="0 to 100: the sum of the points of what points to the customer leaving (see why). The weights are "
        "the lifecycle rules'.",
    )
    churn_risk_level = fields.Selection(
        RISK_LEVEL_SELECTION, "Churn risk level", copy=False, readonly=True, groups=INTERNAL
    )
    churn_risk_data = fields.Json("Churn risk explanation data", copy=False, readonly=True, groups=INTERNAL)
    churn_risk_reason = fields.Text("Why this risk", compute="_compute_churn_risk_reason", groups=INTERNAL)
    churn_warned = fields.Boolean("Warned of the churn risk", copy=False, readonly=True, groups=INTERNAL)
    churn_date = fields.Date(
        "Churned on",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="The day the customer had gone a whole churn period without an order (a year, or three of their usual "
        "intervals if longer). Kept after they come back, for the reports.",
    )
    churned = fields.Boolean(copy=False, readonly=True, groups=INTERNAL, help="No order for a whole churn period, now.")
    won_back_date = fields.Date(
        "Won back on", copy=False, readonly=True, groups=INTERNAL, help="The order that brought them back."
    )
    churn_reason = fields.Selection(
        CHURN_REASON_SELECTION,
        "Churn reason",
        copy=False,
        tracking=True,
        groups=INTERNAL,
        help="Why the customer left: proposed from their complaints and lost opportunities of the last 12 months; "
        "a person's choice is kept.",
    )
    churn_reason_manual = fields.Boolean("Churn reason set by hand", copy=False, groups=INTERNAL)
    rfm_recency_score = fields.Integer(
        "Recency score", copy=False, readonly=True, groups=INTERNAL, help="1 to 5 among the company's customers."
    )
    rfm_frequency_score = fields.Integer(
        "Frequency score", copy=False, readonly=True, groups=INTERNAL, help="1 to 5 among the company's customers."
    )
    rfm_monetary_score = fields.Integer(
        "Monetary score", copy=False, readonly=True, groups=INTERNAL, help="1 to 5 among the company's customers."
    )
    rfm_segment = fields.Selection(SEGMENT_SELECTION, "RFM segment", copy=False, readonly=True, groups=INTERNAL)
    probability_alive = fields.Float(
        "Probability still active",
        digits=(16, 2),
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="The BG/NBD model's probability that the customer still buys, fitted on the company's customers.",
    )
    expected_orders_12m = fields.Float(
        "Expected orders (12 months)", digits=(16, 2), copy=False, readonly=True, groups=INTERNAL
    )
    projected_margin_12m = fields.Monetary(
        "Projected margin (12 months)",
        currency_field="lifecycle_currency_id",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="Expected orders times the expected margin per order (Gamma-Gamma model, else their own average).",
    )
    lifetime_value = fields.Monetary(
        "Lifetime value",
        currency_field="lifecycle_currency_id",
        copy=False,
        readonly=True,
        groups=INTERNAL,
        help="The margin so far plus the projected margin of the next 12 months.",
    )

    # --- care ---
    # the name and type OCA's partner_contact_birthdate gives it, so that both addons install together
    birthdate_date = fields.Date("Birthdate")
    birthday_month = fields.Integer(
        "Birthday month", compute="_compute_birthday", store=True, index="btree_not_null", groups=INTERNAL
    )
    birthday_day = fields.Integer("Birthday day", compute="_compute_birthday", store=True, groups=INTERNAL)
    care_opt_out = fields.Boolean(
        "No care messages",
        groups=INTERNAL,
        tracking=True,
        help="The customer asked not to receive greetings and care messages (e-mail or SMS), from any rule.",
    )
    care_log_ids = fields.One2many(
        "crm.care.log", "partner_id", "Care", groups="crm_lifecycle.crm_lifecycle_group_user", readonly=True
    )

    # --- complaints (for complaint users) ---
    complaint_count = fields.Integer(
        "Complaints", compute="_compute_complaint_stats", groups="crm_lifecycle.crm_lifecycle_group_complaint_user"
    )
    complaint_rating_avg = fields.Float(
        "Complaint satisfaction",
        compute="_compute_complaint_stats",
        digits=(16, 2),
        groups="crm_lifecycle.crm_lifecycle_group_complaint_user",
    )

    # --- lead assignment ---
    company_size = fields.Selection(
        COMPANY_SIZE_SELECTION,
        "Company size",
        groups=INTERNAL,
        help="Employees of the company; its contacts show their company's. Assignment rules of sales teams can use it.",
    )

    @api.model
    def _commercial_fields(self):
        # contacts show their company's rung, tier and stage (kept in sync like the VAT number; Odoo
        # syncs them as superuser, the engine in SQL), and its size like its industry
        return [*super()._commercial_fields(), *SYNCED_COLUMNS, "company_size"]

    @api.model
    def _read_group_orderby(self, order, groupby_terms, query):
        def default(part):
            return super(ResPartner, self)._read_group_orderby(part, groupby_terms, query)

        ranked = ordered_groupby(order, groupby_terms, RANKED_SELECTIONS, default)
        return super()._read_group_orderby(order, groupby_terms, query) if ranked is None else ranked

    def init(self):
        result = super().init()
        # the care rules find birthdays and first-purchase anniversaries by month and day
        for column in ("birthdate_date", "lifecycle_first_order_date"):
            self.env.cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON res_partner ((EXTRACT(MONTH FROM %s)::int),"
                    " (EXTRACT(DAY FROM %s)::int)) WHERE %s IS NOT NULL",
                    SQL.identifier(f"res_partner_{column}_month_day_index"),
                    SQL.identifier(column),
                    SQL.identifier(column),
                    SQL.identifier(column),
                )
            )
        return result

    # ------------------------------------------------------------------ computes
    @api.depends("birthdate_date")
    def _compute_birthday(self):
        for partner in self:
            day = partner.birthdate_date
            partner.birthday_month, partner.birthday_day = (day.month, day.day) if day else (0, 0)

    @api.depends("ladder_since")
    def _compute_ladder_days_in_stage(self):
        now = fields.Datetime.now()
        for partner in self:
            since = partner.commercial_partner_id.ladder_since
            partner.ladder_days_in_stage = (now - since).days if since else 0

    @api.depends("ladder_reason_data", "lifecycle_currency_id")
    @api.depends_context("lang")
    def _compute_lifecycle_reasons(self):
        labels = dict(self._fields["ladder_stage"]._description_selection(self.env))
        for partner in self:
            data = partner.ladder_reason_data
            renderer = EnvRenderer(self.env, partner.lifecycle_currency_id)
            partner.ladder_reason = render_ladder_reason(renderer, data, labels)
            partner.value_tier_reason = render_tier_reason(renderer, data)
            partner.relationship_reason = render_relationship_reason(renderer, data)

    @api.depends("churn_risk_data", "lifecycle_currency_id")
    @api.depends_context("lang")
    def _compute_churn_risk_reason(self):
        for partner in self:
            renderer = EnvRenderer(self.env, partner.lifecycle_currency_id)
            partner.churn_risk_reason = (
                render_churn_reason(renderer, partner.churn_risk_data) if partner.churn_risk_level else False
            )

    def _compute_complaint_stats(self):
        Complaint = self.env["crm.complaint"]
        customers = self.commercial_partner_id
        counts = Complaint._count_by("commercial_partner_id", customers)
        ratings = Complaint._rating_avg_by("commercial_partner_id", customers)
        for partner in self:
            partner.complaint_count = counts.get(partner.commercial_partner_id, 0)
            partner.complaint_rating_avg = ratings.get(partner.commercial_partner_id, 0.0)

    def action_view_complaints(self):
        return self.env["crm.complaint"]._action_view(
            [("commercial_partner_id", "=", self.commercial_partner_id.id)], {"default_partner_id": self.id}
        )

    def action_new_complaint(self):
        return self.env["crm.complaint"]._action_new({"default_partner_id": self.id})

    def action_send_care(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Send care message"),
            "res_model": "crm.care.send",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.ids},
        }

    # ------------------------------------------------------------------ guard
    def _is_lifecycle_manager(self):
        return self.env.su or self.env.user.has_group(MANAGER_GROUP)

    @api.model
    def _check_lifecycle_values(self, vals, creating=False):
        """The rung, tier, stage and figures are the computation's alone; the lock and the strategic
        flag are a manager's. Refused whatever else the values hold and in whatever order."""
        if engine_writes_allowed(self.env):
            return
        engine = GUARDED & vals.keys()
        managed = MANAGER_FIELDS & vals.keys()
        if creating:
            # a new partner may say what the defaults say (prospect, no margin, no figures, not locked)
            engine = {f for f in engine if vals[f] and vals[f] != CREATE_DEFAULTS.get(f)}
            managed = {f for f in managed if vals[f]}
        if engine:
            raise AccessError(
                _(
                    "The rung, value tier, lifecycle stage and figures of a customer are computed from the books "
                    "(%(fields)s): a manager sets a rung with “Set rung”.",
                    fields=", ".join(sorted(self._fields[f]._description_string(self.env) for f in engine)),
                )
            )
        if managed and not self._is_lifecycle_manager():
            raise AccessError(_("Only Customer Lifecycle managers can lock a rung or mark a strategic partner."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_lifecycle_values(vals, creating=True)
        # defaults from the context (a kanban column grouped by rung...) are no way to set a rung either
        context = {
            key: value
            for key, value in self.env.context.items()
            if not (key.startswith("default_") and key[8:] in GUARDED | MANAGER_FIELDS)
        }
        # (a context without some keys: with_context(**kwargs) can only add them)
        partners = super(ResPartner, self.with_context(context)).create(vals_list)  # pylint: disable=context-overridden
        # a new referral changes the referrer's figures
        partners.referred_by_id._lifecycle_recompute_later()
        return partners.with_env(self.env)

    def write(self, vals):
        if "churn_reason" in vals and not engine_writes_allowed(self.env):
            # a person's reason is kept; clearing it gives the proposal back
            vals = dict(vals, churn_reason_manual=bool(vals["churn_reason"]))
        if GUARDED & vals.keys() or MANAGER_FIELDS & vals.keys():
            # contacts receive their company's values through Odoo's sync, as superuser
            self._check_lifecycle_values(vals)
        touched = self.browse()
        if RECOMPUTE_ON & vals.keys() or {"parent_id", "is_company"} & vals.keys():
            # before and after: a referral or a contact that leaves one customer for another changes both
            touched = self.commercial_partner_id | self.referred_by_id
        result = super().write(vals)
        if touched:
            (touched | self.commercial_partner_id | self.referred_by_id)._lifecycle_recompute_later()
        return result

    # ------------------------------------------------------------------ actions
    def _lifecycle_recompute(self):
        """Recompute these partners' lifecycle (their companies') now."""
        return self.env["crm.lifecycle.engine"]._recompute(self)

    def _lifecycle_recompute_later(self):
        """Recompute these partners' lifecycle when the transaction commits (the prompt updates)."""
        return self.env["crm.lifecycle.engine"]._recompute_later(self)

    def action_lifecycle_recompute(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Customer Lifecycle managers can recompute the lifecycle by hand."))
        customers = self.commercial_partner_id
        changed = self.env["crm.lifecycle.engine"]._recompute_now(customers)
        if len(customers) == 1:
            message = _("Lifecycle recomputed for 1 customer, %(changed)s changed.", changed=changed)
        else:
            message = _(
                "Lifecycle recomputed for %(count)s customers, %(changed)s changed.",
                count=len(customers),
                changed=changed,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_ladder_unlock(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Customer Lifecycle managers can unlock a rung."))
        partners = self.commercial_partner_id.filtered("ladder_locked")
        partners.write({"ladder_locked": False})
        partners._lifecycle_recompute()
        return True

    def action_open_ladder_override(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Set the rung by hand"),
            "res_model": "crm.ladder.override",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.commercial_partner_id.ids},
        }

    @api.model
    def _cron_recompute_lifecycle(self, batch_size=2000):
        return self.env["crm.lifecycle.engine"]._cron_recompute(batch_size=batch_size)
