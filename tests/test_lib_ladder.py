"""The ladder's rules and their explanations, table by table: no database."""

from datetime import date

import pytest

from odoo.addons.crm_lifecycle.lib.ladder import (
    Figures,
    Thresholds,
    classify,
    lifecycle_stage,
    months_between,
    rank_share,
)
from odoo.addons.crm_lifecycle.lib.reasons import (
    Renderer,
    render_ladder_reason,
    render_relationship_reason,
    render_tier_reason,
)

TODAY = date(2027, 6, 15)
LABELS = {
    "prospect": "Prospect",
    "customer": "Customer",
    "client": "Client",
    "supporter": "Supporter",
    "advocate": "Advocate",
    "partner": "Partner",
}
# 1,000 cut points of a ranking where revenue and margin are spread evenly from 1 to 1,000
CUTS = {
    "revenue_12m": [float(i) for i in range(1, 1000)],
    "margin_12m": [float(i) for i in range(1, 1000)],
    "partner_revenue_min": 950.0,
    "platinum_margin_min": 950.0,
    "gold_margin_min": 800.0,
}


def fig(**values):
    return Figures(**values)


def loyal(**values):
    """Five kept purchases over 15 months, three in the last 12, paid on time."""
    base = {
        "order_count": 5,
        "order_count_12m": 3,
        "order_days": 5,
        "first_order": date(2026, 3, 1),
        "last_order": date(2027, 6, 1),
        "first_any": date(2026, 3, 1),
        "invoiced": True,
        "revenue": 500.0,
        "revenue_12m": 300.0,
        "cost": 200.0,
        "cost_12m": 120.0,
    }
    return Figures(**dict(base, **values))


RUNG_CASES = [
    # (figures, strategic, expected rung, a reason code that must be among the facts)
    (fig(), False, "prospect", "no_sale"),
    (fig(order_count=1, order_days=1, first_order=TODAY, last_order=TODAY, first_any=TODAY), False, "customer",
     "order_one"),
    # everything bought was refunded: back to prospect
    (fig(order_count=2, refund_count=2, first_any=date(2027, 1, 1)), False, "prospect", "all_refunded"),
    # a confirmed order not invoiced yet, after a full refund: a sale
    (fig(order_count=2, refund_count=1, order_days=1, first_order=TODAY, last_order=TODAY,
         first_any=date(2027, 1, 1), invoiced=True, revenue=-10.0), False, "customer", "refunded"),
    # two kept purchase days of three orders (one refunded): a client
    (fig(order_count=3, refund_count=1, order_days=2, first_order=date(2027, 5, 1), last_order=date(2027, 6, 1),
         first_any=date(2027, 5, 1)), False, "client", "refunded"),
    (loyal(), False, "supporter", "paid_on_time"),
    (loyal(overdue_amount=10.0), False, "client", "overdue"),
    (loyal(open_complaint_count=1), False, "client", "complaints"),
    # a refund of an old order dated now does not touch the last 12 months
    (loyal(order_count=6, refund_count=1, refund_count_12m=0), False, "supporter", "refunded"),
    (loyal(referral_count=1, referral_customer_count=1), False, "advocate", "referrals"),
    # a referral whose purchases were all refunded does not count
    (loyal(referral_count=1, referral_customer_count=0), False, "supporter", "referrals_waiting"),
    (loyal(revenue_12m=960.0), False, "partner", "top_revenue"),
    (loyal(), True, "partner", "strategic"),
    # the tenure starts with the first purchase kept
    (loyal(first_order=date(2026, 9, 1), first_any=date(2026, 3, 1)), False, "client", "since_kept"),
]  # fmt: skip


@pytest.mark.parametrize(("figures", "strategic", "rung", "fact"), RUNG_CASES)
def test_rungs(figures, strategic, rung, fact):
    placement = classify(figures, Thresholds(), TODAY, CUTS, strategic=strategic)
    assert placement.ladder_stage == rung
    assert fact in [code for code, _params in placement.reason["facts"]]


TIER_CASES = [
    # (12-month revenue, cost, cuts, tier, reason code)
    (0.0, 0.0, CUTS, "lead", "tier_no_margin"),
    (100.0, 150.0, CUTS, "lead", "tier_no_margin"),
    (500.0, 100.0, CUTS, "iron", "tier_margin"),
    (900.0, 50.0, CUTS, "gold", "tier_margin"),
    (990.0, 10.0, CUTS, "platinum", "tier_margin"),
    # a positive margin is never "no margin", even before the first ranking
    (500.0, 100.0, {}, "iron", "tier_margin_unranked"),
]


@pytest.mark.parametrize(("revenue", "cost", "cuts", "tier", "code"), TIER_CASES)
def test_tiers(revenue, cost, cuts, tier, code):
    figures = fig(order_count=1, order_days=1, first_order=TODAY, last_order=TODAY, revenue_12m=revenue, cost_12m=cost)
    placement = classify(figures, Thresholds(), TODAY, cuts)
    assert (placement.value_tier, placement.reason["tier"][0]) == (tier, code)


@pytest.mark.parametrize(
    ("signed", "opportunity", "potential", "target", "stage"),
    [
        (True, True, True, True, "signed"),
        (False, True, True, True, "opportunity"),
        (False, False, True, True, "potential"),
        (False, False, False, True, "target"),
        (False, False, False, False, False),
    ],
)
def test_lifecycle_stage_is_the_furthest_reached(signed, opportunity, potential, target, stage):
    assert lifecycle_stage(signed, opportunity, potential, target) == stage


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2027, 1, 31), date(2027, 2, 28), 1),
        (date(2028, 1, 31), date(2028, 2, 29), 1),
        (date(2027, 1, 15), date(2027, 2, 14), 0),
        (date(2026, 6, 15), date(2027, 6, 15), 12),
        (date(2027, 6, 15), date(2027, 1, 15), -5),
    ],
)
def test_months_between(start, end, months):
    assert months_between(start, end) == months


@pytest.mark.parametrize(
    ("value", "share"),
    [
        (999.0, {"top": 0.2}),
        (600.0, {"top": 40.1}),
        (400.0, {"bottom": 40}),
        (100.0, {"bottom": 10}),
        (1.0, {"bottom": 0.1}),
        (0.0, None),
    ],
)
def test_rank_share_says_bottom_for_the_lower_half(value, share):
    assert rank_share(value, CUTS["revenue_12m"]) == share


def _reason(figures, **kwargs):
    placement = classify(figures, Thresholds(), TODAY, CUTS, **kwargs)
    return placement, render_ladder_reason(Renderer(), placement.reason, LABELS)


WORDING_CASES = [
    # (figures, words the explanation must hold, words it must not)
    (fig(), ["Next rung, Customer: a confirmed sale or a posted invoice."], ["needs"]),
    (fig(order_count=13, order_days=13, first_order=date(2027, 5, 1), last_order=date(2027, 6, 5),
         first_any=date(2027, 5, 1)), ["13 orders in 1 month"], ["1 months"]),
    (fig(order_count=2, order_days=1, first_order=TODAY, last_order=TODAY, first_any=TODAY),
     ["2 orders on one day", "Next rung, Client: 2 orders on different days (now 2)."], ["0 days"]),
    (loyal(referral_count=2, referral_customer_count=1),
     ["1 referral who became a customer", "1 referral without a purchase kept yet"], ["referrals who"]),
    (loyal(revenue_12m=100.0), ["Next rung, Advocate"], []),
]  # fmt: skip


@pytest.mark.parametrize(("figures", "present", "absent"), WORDING_CASES)
def test_explanations_read_well(figures, present, absent):
    _placement, text = _reason(figures)
    for words in present:
        assert words in text
    for words in absent:
        assert words not in text


def test_partner_need_says_bottom_not_top_100():
    placement, text = _reason(loyal(referral_count=1, referral_customer_count=1, revenue_12m=2.0))
    assert placement.ladder_stage == "advocate"
    assert "top-5% revenue (now bottom 0.2%) or the strategic flag" in text
    assert "top 100" not in text


@pytest.mark.parametrize(
    ("margin", "expected"),
    [
        (999.0, "(top 0.2% of customers)"),
        (100.0, "(bottom 10% of customers)"),
        (-5.0, "No positive margin over the last 12 months (-5.00)."),
    ],
)
def test_tier_explanation_never_contradicts_the_figure(margin, expected):
    placement = classify(fig(revenue_12m=max(margin, 0.0), cost_12m=max(-margin, 0.0)), Thresholds(), TODAY, CUTS)
    text = render_tier_reason(Renderer(), placement.reason)
    assert expected in text
    assert ("No positive margin" in text) == (margin <= 0)


def test_relationship_explanation_has_singulars():
    placement = classify(loyal(contact_count=1), Thresholds(), TODAY, CUTS)
    text = render_relationship_reason(Renderer(), placement.reason)
    assert "1 contact engaged (needs 2)" in text
    assert "1 contacts" not in text
