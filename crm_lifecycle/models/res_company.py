from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.ladder import Thresholds

RANKING_FIELDS = {"lifecycle_partner_top_percent", "lifecycle_tier_platinum_percent", "lifecycle_tier_gold_percent"}


class ResCompany(models.Model):
    _inherit = "res.company"

    # Relationship ladder thresholds (defaults: domain.md, Payne's ladder)
    lifecycle_client_min_orders = fields.Integer(
        "Client: minimum orders",
        default=2,
        help="A client is a repeat buyer: at least this many orders, on different days.",
    )
    lifecycle_supporter_tenure_months = fields.Integer(
        "Supporter: minimum tenure (months)", default=12, help="Months since the first order."
    )
    lifecycle_supporter_min_orders_12m = fields.Integer("Supporter: minimum orders in 12 months", default=3)
    lifecycle_overdue_grace_days = fields.Integer(
        "Overdue after (days)",
        default=30,
        help="An invoice unpaid this many days after its due date keeps a customer below supporter.",
    )
    lifecycle_supporter_max_open_complaints = fields.Integer("Supporter: maximum open complaints", default=0)
    lifecycle_advocate_min_referrals = fields.Integer(
        "Advocate: minimum referrals", default=1, help="Referred partners who became customers."
    )
    lifecycle_partner_top_percent = fields.Float(
        "Partner: top revenue (%)",
        default=5.0,
        help="A supporter whose revenue over the last 12 months is in this top share of customers is a partner.",
    )
    # Customer pyramid (value tiers), by margin over the last 12 months
    lifecycle_tier_platinum_percent = fields.Float("Platinum: top margin (%)", default=5.0)
    lifecycle_tier_gold_percent = fields.Float("Gold: next (%)", default=15.0)
    # Relationship versus transactional customers
    lifecycle_relationship_min_tenure_months = fields.Integer("Relationship: minimum tenure (months)", default=12)
    lifecycle_relationship_min_orders_per_year = fields.Float("Relationship: minimum orders a year", default=4.0)
    lifecycle_relationship_min_contacts = fields.Integer("Relationship: minimum contacts engaged", default=2)

    # The company-wide rankings (top-X% revenue and margin), refreshed at the start of each nightly run
    lifecycle_cutpoints = fields.Json("Lifecycle rankings", copy=False)
    lifecycle_cutpoints_date = fields.Datetime("Rankings computed on", copy=False)

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
    )
    def _check_lifecycle_thresholds(self):
        for company in self:
            numbers = {
                fname: company[fname]
                for fname in self._fields
                if fname.startswith("lifecycle_") and self._fields[fname].type in ("integer", "float")
            }
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

    def _lifecycle_cutpoints(self):
        """The stored rankings; computed now if the nightly run has not made them yet."""
        self.ensure_one()
        if not self.lifecycle_cutpoints_date:
            self._lifecycle_refresh_cutpoints()
        return self.lifecycle_cutpoints or {}

    def _lifecycle_refresh_cutpoints(self):
        """Rank the customers of each company by 12-month revenue and margin: one query per company."""
        today = fields.Date.context_today(self)
        engine = self.env["crm.lifecycle.engine"]
        for company in self.sudo():
            self.env.flush_all()
            _names, rows = engine._execute_without_jit(engine._cutpoints_query(company, today - timedelta(days=365)))
            revenue, margin, partner_min, platinum_min, gold_min = rows[0]
            company.write(
                {
                    "lifecycle_cutpoints": {
                        "revenue_12m": revenue or [],
                        "margin_12m": margin or [],
                        "partner_revenue_min": partner_min,
                        "platinum_margin_min": platinum_min,
                        "gold_margin_min": gold_min,
                    },
                    "lifecycle_cutpoints_date": fields.Datetime.now(),
                }
            )

    def write(self, vals):
        result = super().write(vals)
        if RANKING_FIELDS & vals.keys():
            # the qualifying values depend on the shares: rank again at the next computation
            self.sudo().write({"lifecycle_cutpoints_date": False})
        return result
