from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..lib.ladder import LADDER_SELECTION, LIFECYCLE_SELECTION, RELATIONSHIP_SELECTION, TIER_SELECTION
from ..lib.reasons import render_ladder_reason, render_relationship_reason, render_tier_reason
from .lifecycle_engine import COMMERCIAL_DOMAIN

MANAGER_GROUP = "crm_lifecycle.crm_lifecycle_group_manager"
# Only managers set these on a commercial partner (the engine writes them in SQL, as superuser).
MANAGER_FIELDS = {"ladder_stage", "ladder_locked", "ladder_strategic"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    referred_by_id = fields.Many2one(
        "res.partner",
        string="Referred by",
        index="btree_not_null",
        tracking=True,
        domain=COMMERCIAL_DOMAIN,
        help="The customer who recommended this one. Referred partners who become customers lift their referrer "
        "to the advocate rung.",
    )
    referral_ids = fields.One2many("res.partner", "referred_by_id", string="Referrals")

    # --- the relationship ladder ---
    ladder_stage = fields.Selection(
        LADDER_SELECTION,
        string="Rung",
        default="prospect",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        group_expand=True,
        help="Where the customer stands on the relationship ladder, computed from orders, invoices, payments, "
        "referrals and complaints. Contacts show their company's rung.",
    )
    ladder_locked = fields.Boolean(
        "Rung set by hand",
        copy=False,
        tracking=True,
        help="A manager set the rung; the automatic computation leaves it alone until it is unlocked.",
    )
    ladder_strategic = fields.Boolean(
        "Strategic partner",
        copy=False,
        tracking=True,
        help="Set by a manager: a loyal customer (supporter conditions) with this flag is a partner.",
    )
    ladder_since = fields.Datetime("In this rung since", copy=False)
    ladder_days_in_stage = fields.Integer("Days in this rung", compute="_compute_ladder_days_in_stage")
    ladder_reason_data = fields.Json(copy=False)
    ladder_reason = fields.Text("Why this rung", compute="_compute_lifecycle_reasons")
    ladder_history_ids = fields.One2many("crm.ladder.history", "partner_id", string="Rung history")

    # value_tier, relationship_type and lifecycle_stage are not indexed: a handful of values over
    # every partner, which the nightly run rewrites in bulk (an index is one more write per row)
    value_tier = fields.Selection(
        TIER_SELECTION,
        string="Value tier",
        default="lead",
        copy=False,
        help="The customer pyramid: platinum, gold and iron by margin over the last 12 months; lead when the "
        "margin is zero or negative.",
    )
    value_tier_reason = fields.Text("Why this tier", compute="_compute_lifecycle_reasons")
    relationship_type = fields.Selection(
        RELATIONSHIP_SELECTION,
        string="Relationship type",
        copy=False,
        help="Relationship customers have a long tenure, buy often or engage several contacts; transactional ones "
        "buy now and then.",
    )
    relationship_reason = fields.Text("Why this type", compute="_compute_lifecycle_reasons")
    lifecycle_stage = fields.Selection(
        LIFECYCLE_SELECTION,
        string="Lifecycle stage",
        copy=False,
        help="Target (marked, no interaction yet), potential (has leads), opportunity (open opportunity or "
        "quotation), signed (confirmed sale).",
    )
    lifecycle_targeted = fields.Boolean("Targeted", copy=False, help="Marked as a target of prospection.")

    # --- the figures behind it (company currency of the partner's company) ---
    lifecycle_currency_id = fields.Many2one("res.currency", string="Lifecycle currency", copy=False)
    lifecycle_first_order_date = fields.Date("First order", copy=False)
    lifecycle_last_order_date = fields.Date("Last order", copy=False)
    lifecycle_order_count = fields.Integer("Orders", copy=False, help="Confirmed orders and direct invoices.")
    lifecycle_order_count_12m = fields.Integer("Orders (12 months)", copy=False)
    lifecycle_refund_count = fields.Integer("Refunded orders", copy=False)
    lifecycle_revenue = fields.Monetary("Revenue", currency_field="lifecycle_currency_id", copy=False)
    lifecycle_revenue_12m = fields.Monetary("Revenue (12 months)", currency_field="lifecycle_currency_id", copy=False)
    lifecycle_margin = fields.Monetary("Margin", currency_field="lifecycle_currency_id", copy=False)
    lifecycle_margin_12m = fields.Monetary("Margin (12 months)", currency_field="lifecycle_currency_id", copy=False)
    lifecycle_overdue_amount = fields.Monetary(
        "Overdue", currency_field="lifecycle_currency_id", copy=False, help="Unpaid past the grace days."
    )
    lifecycle_order_interval = fields.Float("Days between orders", digits=(16, 1), copy=False)
    lifecycle_referral_count = fields.Integer("Referrals made", copy=False)
    lifecycle_referral_customer_count = fields.Integer("Referrals who bought", copy=False)
    lifecycle_contact_count = fields.Integer("Contacts engaged", copy=False)
    lifecycle_open_complaint_count = fields.Integer(
        "Open complaints", copy=False, help="A customer with open complaints is not yet a supporter."
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

    @api.model
    def _commercial_fields(self):
        # contacts show their company's rung, tier and stage (kept in sync like the VAT number)
        return [*super()._commercial_fields(), "ladder_stage", "value_tier", "relationship_type", "lifecycle_stage"]

    # ------------------------------------------------------------------ computes
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
            data, currency = partner.ladder_reason_data, partner.lifecycle_currency_id
            partner.ladder_reason = render_ladder_reason(self.env, data, currency, labels)
            partner.value_tier_reason = render_tier_reason(self.env, data, currency)
            partner.relationship_reason = render_relationship_reason(self.env, data)

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

    # ------------------------------------------------------------------ guard
    def _is_lifecycle_manager(self):
        return self.env.su or self.env.user.has_group(MANAGER_GROUP)

    def _raise_not_lifecycle_manager(self, partners):
        raise AccessError(
            _(
                "Only Customer Lifecycle managers can set a rung, lock it or mark a strategic partner (%(partners)s).",
                partners=partners,
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            sets_rung = vals.get("ladder_stage", "prospect") != "prospect" and not vals.get("parent_id")
            if (sets_rung or vals.get("ladder_locked") or vals.get("ladder_strategic")) and not (
                self._is_lifecycle_manager()
            ):
                self._raise_not_lifecycle_manager(vals.get("name") or _("new partner"))
        return super().create(vals_list)

    def write(self, vals):
        if MANAGER_FIELDS & vals.keys() and not self._is_lifecycle_manager():
            # contacts receive their company's rung through Odoo's commercial-field sync: not a change of rung
            changed = self.filtered(
                lambda p: p == p.commercial_partner_id and any(p[f] != vals[f] for f in MANAGER_FIELDS & vals.keys())
            )
            if changed:
                self._raise_not_lifecycle_manager(", ".join(changed.mapped("display_name")))
        return super().write(vals)

    # ------------------------------------------------------------------ actions
    def _lifecycle_recompute(self):
        """The single entry point: recompute these partners' lifecycle (their companies')."""
        return self.env["crm.lifecycle.engine"]._recompute(self)

    def action_lifecycle_recompute(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Customer Lifecycle managers can recompute the lifecycle by hand."))
        changed = self._lifecycle_recompute()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "Lifecycle recomputed for %(count)s customers, %(changed)s changed.",
                    count=len(self.commercial_partner_id),
                    changed=changed,
                ),
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
