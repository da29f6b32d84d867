from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..lib.churn import FACTORS
from ..lib.ladder import Thresholds
from ..lib.validation import ensure_finite

RANKING_FIELDS = {"lifecycle_partner_top_percent", "lifecycle_tier_platinum_percent", "lifecycle_tier_gold_percent"}
MANAGER_GROUP = "crm_lifecycle.crm_lifecycle_group_manager"
# A ranking older than this is made again before it is used
RANKING_MAX_AGE = timedelta(days=1)


class ResCompany(models.Model):
    _inherit = "res.company"

    # Relationship ladder thresholds (defaults: domain.md, Payne's ladder)
    lifecycle_client_min_orders = fields.Integer(
        "Client: minimum orders",
        default=2,
        help="A client is a repeat buyer: at least this many orders, on different days.",
        groups="base.group_user",
    )
    lifecycle_supporter_tenure_months = fields.Integer(
        "Supporter: minimum tenure (months)", default=12, help="Months since the first order.", groups="base.group_user"
    )
    lifecycle_supporter_min_orders_12m = fields.Integer(
        "Supporter: minimum orders in 12 months", default=3, groups="base.group_user"
    )
    lifecycle_overdue_grace_days = fields.Integer(
        "Overdue after (days)",
        default=30,
        help="An invoice unpaid this many days after its due date keeps a customer below supporter.",
        groups="base.group_user",
    )
    lifecycle_supporter_max_open_complaints = fields.Integer(
        "Supporter: maximum open complaints", default=0, groups="base.group_user"
    )
    lifecycle_advocate_min_referrals = fields.Integer(
        "Advocate: minimum referrals",
        default=1,
        help="Referred partners who became customers.",
        groups="base.group_user",
    )
    lifecycle_partner_top_percent = fields.Float(
        "Partner: top revenue (%)",
        default=5.0,
        help="A supporter whose revenue over the last 12 months is in this top share of customers is a partner.",
        groups="base.group_user",
    )
    # Customer pyramid (value tiers), by margin over the last 12 months
    lifecycle_tier_platinum_percent = fields.Float("Platinum: top margin (%)", default=5.0, groups="base.group_user")
    lifecycle_tier_gold_percent = fields.Float("Gold: next (%)", default=15.0, groups="base.group_user")
    # Relationship versus transactional customers
    lifecycle_relationship_min_tenure_months = fields.Integer(
        "Relationship: minimum tenure (months)", default=12, groups="base.group_user"
    )
    lifecycle_relationship_min_orders_per_year = fields.Float(
        "Relationship: minimum orders a year", default=4.0, groups="base.group_user"
    )
    lifecycle_relationship_min_contacts = fields.Integer(
        "Relationship: minimum contacts engaged", default=2, groups="base.group_user"
    )

    # Care: at most one care message per N days to a customer, across all rules
    lifecycle_care_cap_days = fields.Integer(
        "Care: at most one message every (days)",
        default=7,
        help="A customer gets at most one care e-mail or SMS in this many days, whatever the rules (0: no limit).",
        groups="base.group_user",
    )

    # Churn risk: the points of each factor, when a factor counts fully, the levels and the churn period
    lifecycle_churn_weight_recency = fields.Float(
        "Churn risk: no order for long",
        default=35.0,
        groups="base.group_user",
        help="Points when the customer has not ordered for the full number of their usual intervals.",
    )
    lifecycle_churn_weight_trend = fields.Float(
        "Churn risk: falling revenue",
        default=15.0,
        groups="base.group_user",
        help="Points when the last 6 months brought nothing, compared with the 6 months before.",
    )
    lifecycle_churn_weight_overdue = fields.Float(
        "Churn risk: overdue invoices", default=10.0, groups="base.group_user"
    )
    lifecycle_churn_weight_complaints = fields.Float(
        "Churn risk: complaints",
        default=15.0,
        groups="base.group_user",
        help="Points for two open complaints, or one open and one serious in 12 months.",
    )
    lifecycle_churn_weight_rating = fields.Float("Churn risk: low satisfaction", default=10.0, groups="base.group_user")
    lifecycle_churn_weight_no_contact = fields.Float(
        "Churn risk: nobody in touch", default=15.0, groups="base.group_user"
    )
    # the sum of the six weights, shown as they are typed (the constraint asks for 100 on save)
    lifecycle_churn_weight_total = fields.Float(
        "Churn risk: points in all", compute="_compute_lifecycle_churn_weight_total", groups="base.group_user"
    )
    lifecycle_churn_recency_full_ratio = fields.Float(
        "Churn risk: usual intervals without an order for the full points", default=3.0, groups="base.group_user"
    )
    lifecycle_churn_default_interval_days = fields.Integer(
        "Churn risk: usual interval of a one-time buyer (days)", default=90, groups="base.group_user"
    )
    lifecycle_churn_no_contact_days = fields.Integer(
        "Churn risk: days without contact for the full points", default=90, groups="base.group_user"
    )
    lifecycle_churn_low_rating = fields.Float(
        "Churn risk: satisfaction for the full points (of 5)", default=2.5, groups="base.group_user"
    )
    lifecycle_churn_medium_from = fields.Integer("Churn risk: medium from", default=35, groups="base.group_user")
    lifecycle_churn_high_from = fields.Integer("Churn risk: high from", default=65, groups="base.group_user")
    lifecycle_churn_period_days = fields.Integer(
        "Churned after (days without an order)",
        default=365,
        groups="base.group_user",
        help="Or three of the customer's usual intervals between orders, when that is longer.",
    )
    # the company-wide statistics of the retention figures (RFM thresholds, BG/NBD, Gamma-Gamma)
    lifecycle_models = fields.Json("Lifecycle models", copy=False, groups=MANAGER_GROUP)
    lifecycle_models_date = fields.Datetime("Models fitted on", copy=False, groups=MANAGER_GROUP)

    # The company-wide rankings (top-X% revenue and margin), refreshed at the start of each nightly run
    lifecycle_cutpoints = fields.Json("Lifecycle rankings", copy=False, groups=MANAGER_GROUP)
    lifecycle_cutpoints_date = fields.Datetime("Rankings computed on", copy=False, groups=MANAGER_GROUP)

    @api.depends(*(f"lifecycle_churn_weight_{factor}" for factor in FACTORS))
    def _compute_lifecycle_churn_weight_total(self):
        for company in self:
            company.lifecycle_churn_weight_total = round(
                sum(company[f"lifecycle_churn_weight_{factor}"] for factor in FACTORS), 2
            )

    @api.constrains(
        "lifecycle_client_min_orders",
        "lifecycle_supporter_tenure_months",
        "lifecycle_supporter_min_orders_12m",
        "lifecycle_overdue_grace_days",
        "lifecycle_supporter_max_open_complaints",
        "lifecycle_advocate_min_referrals",
        "lifecycle_partner_top_percent",
        "lifecycle_tier_platinum_percent",
        "lifecycle_tier_gold_percent",
        "lifecycle_relationship_min_tenure_months",
        "lifecycle_relationship_min_orders_per_year",
        "lifecycle_relationship_min_contacts",
        "lifecycle_care_cap_days",
        "lifecycle_churn_weight_recency",
        "lifecycle_churn_weight_trend",
        "lifecycle_churn_weight_overdue",
        "lifecycle_churn_weight_complaints",
        "lifecycle_churn_weight_rating",
        "lifecycle_churn_weight_no_contact",
        "lifecycle_churn_recency_full_ratio",
        "lifecycle_churn_default_interval_days",
        "lifecycle_churn_no_contact_days",
        "lifecycle_churn_low_rating",
        "lifecycle_churn_medium_from",
        "lifecycle_churn_high_from",
        "lifecycle_churn_period_days",
    )
    def _check_lifecycle_thresholds(self):
        ensure_finite(self, self._lifecycle_rule_fields())
        for company in self:
            numbers = {fname: company[fname] for fname in self._lifecycle_rule_fields()}
            for fname, value in numbers.items():
                if value < 0:
                    raise ValidationError(
                        _(
                            "%(setting)s cannot be negative (it is %(value)s).",
                            setting=self._fields[fname]._description_string(self.env),
                            value=value,
                        )
                    )
            if company.lifecycle_client_min_orders < 2:
                raise ValidationError(_("A client is a repeat buyer: the client rung needs at least 2 orders."))
            if company.lifecycle_supporter_min_orders_12m < company.lifecycle_client_min_orders:
                raise ValidationError(
                    _(
                        "A supporter needs at least as many orders in 12 months (%(supporter)s) as a client"
                        " needs in all (%(client)s).",
                        supporter=company.lifecycle_supporter_min_orders_12m,
                        client=company.lifecycle_client_min_orders,
                    )
                )
            if company.lifecycle_advocate_min_referrals < 1:
                raise ValidationError(_("An advocate has referred at least 1 customer: set 1 or more."))
            if not 0 < company.lifecycle_partner_top_percent <= 100:
                raise ValidationError(_("The partner rung's top revenue share must be between 0 and 100%."))
            if company.lifecycle_tier_platinum_percent <= 0:
                raise ValidationError(_("The platinum tier needs a share above 0%."))
            if company.lifecycle_tier_platinum_percent + company.lifecycle_tier_gold_percent > 100:
                raise ValidationError(
                    _(
                        "Platinum (%(platinum)s%%) and gold (%(gold)s%%) together cannot exceed 100%% of customers.",
                        platinum=company.lifecycle_tier_platinum_percent,
                        gold=company.lifecycle_tier_gold_percent,
                    )
                )
            if company.lifecycle_relationship_min_contacts < 1:
                raise ValidationError(_("A relationship customer needs at least 1 contact engaged."))
            company._check_churn_rules()

    def _check_churn_rules(self):
        total = sum(self[f"lifecycle_churn_weight_{factor}"] for factor in FACTORS)
        if round(total, 2) != 100:
            shown = f"{total:g}"  # 135, not 135.0 (outside _(): Babel reads f-strings in its calls)
            raise ValidationError(
                _(
                    "The points of the churn risk factors add up to 100 (now %(total)s): a customer"
                    " for whom every factor holds fully has a risk of 100.",
                    total=shown,
                )
            )
        if self.lifecycle_churn_recency_full_ratio <= 1:
            raise ValidationError(_("The full points of a long silence come after more than 1 usual interval."))
        if min(self.lifecycle_churn_default_interval_days, self.lifecycle_churn_no_contact_days) < 1:
            raise ValidationError(_("The usual interval and the days without contact are 1 day or more."))
        if not 1 <= self.lifecycle_churn_low_rating < 4:
            raise ValidationError(_("The low satisfaction of the churn risk is from 1 to less than 4 (of 5)."))
        if not 0 < self.lifecycle_churn_medium_from < self.lifecycle_churn_high_from <= 100:
            raise ValidationError(
                _(
                    "The churn risk levels must rise: medium from above 0, high from above medium, at most 100"
                    " (now %(medium)s and %(high)s).",
                    medium=self.lifecycle_churn_medium_from,
                    high=self.lifecycle_churn_high_from,
                )
            )
        if self.lifecycle_churn_period_days < 30:
            raise ValidationError(_("The churn period is at least 30 days without an order."))

    def _lifecycle_thresholds(self):
        self.ensure_one()
        return Thresholds(
            client_min_orders=self.lifecycle_client_min_orders,
            supporter_tenure_months=self.lifecycle_supporter_tenure_months,
            supporter_min_orders_12m=self.lifecycle_supporter_min_orders_12m,
            overdue_grace_days=self.lifecycle_overdue_grace_days,
            supporter_max_open_complaints=self.lifecycle_supporter_max_open_complaints,
            advocate_min_referrals=self.lifecycle_advocate_min_referrals,
            partner_top_percent=self.lifecycle_partner_top_percent,
            relationship_min_tenure_months=self.lifecycle_relationship_min_tenure_months,
            relationship_min_orders_per_year=self.lifecycle_relationship_min_orders_per_year,
            relationship_min_contacts=self.lifecycle_relationship_min_contacts,
        )

    @api.model
    def _lifecycle_rule_fields(self):
        """The numbers of the lifecycle rules (what a lifecycle manager may change)."""
        return [
            fname
            for fname, field in self._fields.items()
            if fname.startswith("lifecycle_") and field.type in ("integer", "float") and field.store
        ]

    def _lifecycle_cutpoints(self, has_revenue=False):
        """The stored ranking, made again first when it is missing, more than a day old, or was made on a
        book without revenue while `has_revenue` says some customer now has some."""
        self.ensure_one()
        date = self.lifecycle_cutpoints_date
        stale = not date or date < fields.Datetime.now() - RANKING_MAX_AGE
        if stale or (has_revenue and not (self.lifecycle_cutpoints or {}).get("revenue_12m")):
            self._lifecycle_refresh_cutpoints()
        return self.lifecycle_cutpoints or {}

    def _lifecycle_rank(self, today):
        """Rank the company's customers by 12-month revenue and margin as of `today`: one query."""
        self.ensure_one()
        engine = self.env["crm.lifecycle.engine"]
        self.env.flush_all()
        _names, rows = engine._execute_without_jit(engine._cutpoints_query(self.sudo(), today))
        revenue, margin, partner_min, platinum_min, gold_min = rows[0]
        return {
            "revenue_12m": revenue or [],
            "margin_12m": margin or [],
            "partner_revenue_min": partner_min,
            "platinum_margin_min": platinum_min,
            "gold_margin_min": gold_min,
        }

    def _lifecycle_refresh_cutpoints(self):
        """Rank the customers of each company again and store it: one query per company."""
        today = fields.Date.context_today(self)
        for company in self.sudo():
            company.write(
                {
                    "lifecycle_cutpoints": company._lifecycle_rank(today),
                    "lifecycle_cutpoints_date": fields.Datetime.now(),
                }
            )

    def action_open_lifecycle_rules(self):
        """The current company's lifecycle rules, for lifecycle managers."""
        company = self or self.env.company
        return {
            "type": "ir.actions.act_window",
            "name": _("Lifecycle rules"),
            "res_model": "res.company",
            "res_id": company.id,
            "view_mode": "form",
            "views": [(self.env.ref("crm_lifecycle.res_company_view_form_lifecycle").id, "form")],
            "target": "current",
        }

    def write(self, vals):
        target = self
        if (
            vals
            and vals.keys() <= set(self._lifecycle_rule_fields())
            and not self.env.su
            and (self.env.user.has_group(MANAGER_GROUP))
        ):
            # lifecycle managers set the rules of their own companies (and nothing else of a company)
            if self - self.env.user.company_ids:
                raise AccessError(_("You can only change the lifecycle rules of your own companies."))
            target = self.sudo()
        result = super(ResCompany, target).write(vals)
        if RANKING_FIELDS & vals.keys():
            # the qualifying values depend on the shares: rank again at the next computation
            target.sudo().write({"lifecycle_cutpoints_date": False})
        return result
