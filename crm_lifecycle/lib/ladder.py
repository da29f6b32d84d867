"""Pure classification of a customer from their figures: no database access.

The engine (models/lifecycle_engine.py) reads the books into `Figures`; the functions here turn them
into a rung, a value tier, a relationship type and a lifecycle stage, each with the facts that
explain it. Explanations are stored as data (codes and parameters) and rendered in the reader's
language by lib/reasons.py at display time.

How refunds count (one rule, here): a purchase is a confirmed sale order or an invoice that did not
come from an order. It is refunded when everything invoiced for it was credited (one credit note or
several partial ones; "reverse and create invoice" invoices it again, so it stays a purchase). A
refunded purchase does not count: not in the number of orders or of purchase days, not in the
last 12 months (counted by the purchase's own date, not the credit note's), not for the tenure
(which starts with the first purchase that was kept), and a referral counts only once the referred
customer has a purchase they kept. A credit note lowers the revenue of the period it is dated in;
it gives the cost back only for goods returned at the price they were invoiced, not for a price
reduction (see account.move._lifecycle_store_cost).
"""

from bisect import bisect_left, bisect_right
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta

# Payne's relationship ladder, lowest rung first; the customer pyramid, lowest tier first.
LADDER_SELECTION = [
    ("prospect", "Prospect"),
    ("customer", "Customer"),
    ("client", "Client"),
    ("supporter", "Supporter"),
    ("advocate", "Advocate"),
    ("partner", "Partner"),
]
# The pyramid's lowest tier is "lead" (the metal) in Zeithaml's pyramid; the key stays, but its label
# says what it means, so that nobody reads it as a CRM lead.
TIER_SELECTION = [("lead", "No margin"), ("iron", "Iron"), ("gold", "Gold"), ("platinum", "Platinum")]
RELATIONSHIP_SELECTION = [("relationship", "Relationship"), ("transactional", "Transactional")]
LIFECYCLE_SELECTION = [
    ("target", "Target"),
    ("potential", "Potential"),
    ("opportunity", "Opportunity"),
    ("signed", "Signed"),
]
LADDER = [key for key, _label in LADDER_SELECTION]

# Percentile resolution of the company-wide rankings (top-X% revenue, margin tiers).
CUT_FRACTIONS = [i / 1000 for i in range(1, 1000)]


@dataclass(slots=True)
class Figures:
    """What the books say about one commercial partner, as of `today`."""

    order_count: int = 0  # purchases: confirmed sale orders + posted invoices not coming from an order
    order_count_12m: int = 0  # purchases dated in the last 12 months
    order_days: int = 0  # distinct days with a purchase that was kept
    refund_count: int = 0  # purchases fully credited
    refund_count_12m: int = 0  # of those, purchases dated in the last 12 months
    first_order: date | None = None  # first purchase that was kept: the tenure starts here
    last_order: date | None = None  # last purchase that was kept
    first_any: date | None = None  # first purchase, refunded or not
    invoiced: bool = False  # has posted customer invoices
    revenue: float = 0.0  # untaxed, net of credit notes, company currency
    revenue_12m: float = 0.0
    cost: float = 0.0
    cost_12m: float = 0.0
    credit_count_12m: int = 0  # credit notes dated in the last 12 months
    overdue_amount: float = 0.0  # instalments unpaid beyond the grace days
    referral_count: int = 0  # partners this one referred
    referral_customer_count: int = 0  # of those, who have a purchase they kept
    contact_count: int = 0  # distinct contacts of the company who bought (kept purchases)
    open_lead_count: int = 0  # open leads past the target stage
    targeted_lead_count: int = 0  # open leads marked as targets, no interaction yet
    open_opportunity_count: int = 0
    quotation_count: int = 0
    revenue_6m: float = 0.0  # the last 6 months, and the 6 before: the trend of the churn risk
    revenue_prev_6m: float = 0.0
    last_contact: date | None = None  # the last message or activity done by someone of the company
    last_churn: date | None = None  # the latest time a gap between kept purchases ran past the churn period
    last_return: date | None = None  # ... and the purchase that ended it
    # --- from other sources than the books (the engine's _read_extra_figures) ---
    open_complaint_count: int = 0
    serious_complaint_count: int = 0  # high or critical, received in the last 12 months
    rating_avg: float | None = None  # the satisfaction of the complaints rated in the last 12 months
    reason_counts: dict = field(default_factory=dict)  # {"service": n, ...}: what the last 12 months complained of

    @property
    def margin(self):
        return self.revenue - self.cost

    @property
    def margin_12m(self):
        return self.revenue_12m - self.cost_12m

    @property
    def net_orders(self):
        return self.order_count - self.refund_count

    @property
    def net_orders_12m(self):
        return self.order_count_12m - self.refund_count_12m

    @property
    def is_customer(self):
        """At least one purchase that was kept: the customer rung, and signed."""
        return self.net_orders >= 1

    @property
    def avg_order_interval(self):
        """Mean days between the days of kept purchases (0 with fewer than two)."""
        if self.order_days < 2 or not self.first_order:
            return 0.0
        return (self.last_order - self.first_order).days / (self.order_days - 1)


@dataclass
class Thresholds:
    """The company's configurable rules (res.company fields of the same names, prefixed)."""

    client_min_orders: int = 2
    supporter_tenure_months: int = 12
    supporter_min_orders_12m: int = 3
    overdue_grace_days: int = 30
    supporter_max_open_complaints: int = 0
    advocate_min_referrals: int = 1
    partner_top_percent: float = 5.0  # shown in explanations; the ranking itself is in `cuts`
    relationship_min_tenure_months: int = 12
    relationship_min_orders_per_year: float = 4.0
    relationship_min_contacts: int = 2


@dataclass
class Placement:
    ladder_stage: str
    reason: dict = field(default_factory=dict)  # {"facts": [...], "next": {...}, "tier": [...], ...}
    value_tier: str = "lead"
    relationship_type: str | bool = False
    lifecycle_stage: str | bool = False


def months_between(start, end):
    """Whole months from `start` to `end`, as relativedelta counts them (a month from Jan 31 is
    Feb 28/29), without building a relativedelta: this runs for every partner of every batch."""
    if end < start:
        delta = relativedelta(end, start)
        return delta.years * 12 + delta.months
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and end.day < monthrange(end.year, end.month)[1]:
        months -= 1
    return months


def top_percent(value, cuts):
    """Rank of `value` among the company's customers as "top X%", None if unranked.

    `cuts` hold the value at each 0.1% of the distribution (see CUT_FRACTIONS): the share of
    customers strictly below `value` tells how many are at least as good.
    """
    if not cuts or value is None or value <= 0:
        return None
    below = bisect_left(cuts, value)
    return max(round(100 - below / 10, 1), 0.1)


def rank_share(value, cuts):
    """{"top": X} for the better half of the ranking, {"bottom": Y} for the other: "top 100%" says
    nothing, "bottom 5%" does. None if unranked."""
    top = top_percent(value, cuts)
    if top is None:
        return None
    if top <= 50:
        return {"top": _fmt_percent(top)}
    # the share of customers at most as good (the cut points at or below the value)
    return {"bottom": _fmt_percent(max(round(bisect_right(cuts, value) / 10, 1), 0.1))}


def lifecycle_stage(signed, opportunity, potential, target):
    """The customer lifecycle, target -> potential -> opportunity -> signed: the furthest stage
    reached (False outside the funnel). One rule for leads (crm.lead) and customers (res.partner)."""
    for stage, reached in (("signed", signed), ("opportunity", opportunity), ("potential", potential)):
        if reached:
            return stage
    return "target" if target else False


def _reaches(value, minimum):
    return minimum is not None and value > 0 and value >= minimum


def _fmt_percent(value):
    return int(value) if float(value).is_integer() else value


def classify(fig, th, today, cuts=None, strategic=False, targeted=False):
    """Place one customer.

    `cuts` is the company's ranking (res.company._lifecycle_cutpoints): the revenue and margin
    distributions, and the minimum revenue for the partner rung and margins for platinum and gold.
    """
    cuts = cuts or {}
    facts, needs = [], []
    tenure = months_between(fig.first_order, today) if fig.first_order else 0
    revenue_top = top_percent(fig.revenue_12m, cuts.get("revenue_12m"))

    is_customer = fig.is_customer
    is_client = is_customer and fig.net_orders >= th.client_min_orders and fig.order_days >= 2
    tenure_ok = tenure >= th.supporter_tenure_months
    recent_ok = fig.net_orders_12m >= th.supporter_min_orders_12m
    paid_ok = fig.overdue_amount <= 0
    complaints_ok = fig.open_complaint_count <= th.supporter_max_open_complaints
    is_supporter = is_client and tenure_ok and recent_ok and paid_ok and complaints_ok
    is_advocate = is_supporter and fig.referral_customer_count >= th.advocate_min_referrals
    top_ok = _reaches(fig.revenue_12m, cuts.get("partner_revenue_min"))
    is_partner = is_supporter and (strategic or top_ok)

    # --- facts: what the books say ---
    if fig.order_count == 0:
        facts.append(["no_sale", {}])
    elif not is_customer:
        facts.append(["all_refunded", {"count": fig.refund_count}])
    else:
        if fig.net_orders == 1:
            facts.append(["order_one", {"date": fig.first_order.isoformat()}])
        else:
            span = months_between(fig.first_order, fig.last_order)
            if span >= 1:
                facts.append(["orders_months", {"count": fig.net_orders, "months": span}])
            else:
                facts.append(
                    ["orders_days", {"count": fig.net_orders, "days": (fig.last_order - fig.first_order).days}]
                )
        if fig.refund_count:
            facts.append(["refunded", {"count": fig.refund_count}])
        if fig.first_any and fig.first_any < fig.first_order:
            facts.append(["since_kept", {"date": fig.first_order.isoformat()}])
        if fig.net_orders > 1:
            facts.append(["orders_12m", {"count": fig.net_orders_12m}])
        if fig.referral_customer_count:
            facts.append(["referrals", {"count": fig.referral_customer_count}])
        if fig.referral_count > fig.referral_customer_count:
            facts.append(["referrals_waiting", {"count": fig.referral_count - fig.referral_customer_count}])
        if fig.open_complaint_count:
            facts.append(["complaints", {"count": fig.open_complaint_count}])
        if fig.overdue_amount > 0:
            facts.append(["overdue", {"amount": fig.overdue_amount, "days": th.overdue_grace_days}])
        elif fig.invoiced:
            facts.append(["paid_on_time", {}])
        if is_partner and strategic:
            facts.append(["strategic", {}])
        if revenue_top is not None and (top_ok or revenue_top <= 25):
            facts.append(["top_revenue", {"top": _fmt_percent(revenue_top)}])

    # --- the rung, and what the next one needs ---
    if is_partner:
        stage = "partner"
    elif is_advocate:
        stage = "advocate"
        needs.append(_top_revenue_need(th, fig.revenue_12m, cuts))
    elif is_supporter:
        stage = "supporter"
        if fig.referral_customer_count < th.advocate_min_referrals:
            needs.append(
                [
                    "need_referrals",
                    {"count": th.advocate_min_referrals, "now": fig.referral_customer_count},
                ]
            )
    elif is_client:
        stage = "client"
        if not tenure_ok:
            needs.append(["need_tenure", {"months": th.supporter_tenure_months, "now": tenure}])
        if not recent_ok:
            needs.append(["need_orders_12m", {"count": th.supporter_min_orders_12m, "now": fig.net_orders_12m}])
        if not paid_ok:
            needs.append(["need_no_overdue", {"days": th.overdue_grace_days, "amount": fig.overdue_amount}])
        if not complaints_ok:
            needs.append(["need_no_complaints", {"now": fig.open_complaint_count}])
    elif is_customer:
        stage = "customer"
        needs.append(["need_orders", {"count": th.client_min_orders, "now": fig.net_orders}])
    else:
        stage = "prospect"
        needs.append(["need_sale", {}])
    next_stage = None if stage == "partner" else LADDER[LADDER.index(stage) + 1]
    reason = {"facts": facts, "next": {"stage": next_stage, "needs": needs} if next_stage else None}

    # --- value tier: the customer pyramid, by 12-month margin ---
    # a positive margin is never "no margin", even before the first ranking places it
    params = {"amount": fig.margin_12m, "credits": fig.credit_count_12m}
    if fig.margin_12m <= 0:
        tier = "lead"
        reason["tier"] = ["tier_no_margin", params]
    else:
        if _reaches(fig.margin_12m, cuts.get("platinum_margin_min")):
            tier = "platinum"
        elif _reaches(fig.margin_12m, cuts.get("gold_margin_min")):
            tier = "gold"
        else:
            tier = "iron"
        rank = rank_share(fig.margin_12m, cuts.get("margin_12m"))
        if rank is None:
            reason["tier"] = ["tier_margin_unranked", params]
        else:
            reason["tier"] = ["tier_margin", dict(params, **rank)]

    # --- relationship or transactional: two of three signs of an ongoing relationship ---
    relationship = False
    if is_customer:
        per_year = round(fig.net_orders / max(tenure, 1) * 12, 1) if tenure >= 1 else float(fig.net_orders)
        checks = [
            ["rel_tenure", {"months": tenure, "min": th.relationship_min_tenure_months},
             tenure >= th.relationship_min_tenure_months],
            ["rel_rate", {"rate": per_year, "min": th.relationship_min_orders_per_year},
             per_year >= th.relationship_min_orders_per_year],
            ["rel_contacts", {"count": fig.contact_count, "min": th.relationship_min_contacts},
             fig.contact_count >= th.relationship_min_contacts],
        ]  # fmt: skip
        relationship = "relationship" if sum(ok for *_, ok in checks) >= 2 else "transactional"
        reason["relationship"] = checks

    lifecycle = lifecycle_stage(
        signed=is_customer,
        opportunity=fig.open_opportunity_count or fig.quotation_count,
        potential=fig.open_lead_count,
        target=targeted or fig.targeted_lead_count,
    )
    return Placement(stage, reason, tier, relationship, lifecycle)


def _top_revenue_need(th, revenue_12m, cuts):
    now = rank_share(revenue_12m, cuts.get("revenue_12m"))
    return ["need_top_revenue", {"percent": _fmt_percent(th.partner_top_percent), "now": now}]
