"""Churn risk, churn dates and proposed reasons (lib/churn.py), worked by hand. No database."""

from datetime import date

import pytest

from odoo.addons.crm_lifecycle.lib.churn import (
    ChurnSettings,
    Signals,
    apportion,
    churn_date,
    churn_period,
    churn_risk,
    proposed_reason,
    risk_level,
)
from odoo.addons.crm_lifecycle.lib.reasons import Renderer, render_churn_reason

TODAY = date(2026, 12, 1)
S = ChurnSettings()  # 35 recency, 15 trend, 10 overdue, 15 complaints, 10 rating, 15 no contact


def signals(**values):
    # in touch yesterday unless said otherwise: the no-contact factor stays out of the other cases
    return Signals(**{"last_contact": date(2026, 11, 30), **values})


@pytest.mark.parametrize(
    ("case", "values", "risk", "factors"),
    [
        ("never bought", {"last_order": None}, 0, {}),
        ("within the usual interval", {"last_order": date(2026, 11, 1), "usual_interval": 60}, 0, {}),
        # 120 days at a 60-day interval: ratio 2, half-way from 1 to 3 intervals
        ("two intervals silent", {"last_order": date(2026, 8, 3), "usual_interval": 60}, 18,
         {"recency": 18}),
        ("three intervals: the full points", {"last_order": date(2026, 6, 4), "usual_interval": 60}, 35,
         {"recency": 35}),
        # one order only: the company's default interval of 90 days; 270 days is 3 of them
        ("one order, default interval", {"last_order": date(2026, 3, 6)}, 35, {"recency": 35}),
        ("revenue halved", {"last_order": date(2026, 11, 20), "usual_interval": 30, "revenue_recent": 500,
                            "revenue_before": 1000}, 8, {"trend": 8}),
        ("revenue gone", {"last_order": date(2026, 11, 20), "usual_interval": 30, "revenue_recent": 0,
                          "revenue_before": 1000}, 15, {"trend": 15}),
        ("revenue up: no points", {"last_order": date(2026, 11, 20), "usual_interval": 30,
                                   "revenue_recent": 2000, "revenue_before": 1000}, 0, {}),
        ("overdue", {"last_order": date(2026, 11, 20), "usual_interval": 30, "overdue_amount": 1.0}, 10,
         {"overdue": 10}),
        ("one open complaint", {"last_order": date(2026, 11, 20), "usual_interval": 30, "open_complaints": 1}, 8,
         {"complaints": 8}),
        ("open and serious", {"last_order": date(2026, 11, 20), "usual_interval": 30, "open_complaints": 1,
                              "serious_complaints": 1}, 15, {"complaints": 15}),
        # full points at 2.5, none at 4: 3.25 is half-way
        ("rating 3.25", {"last_order": date(2026, 11, 20), "usual_interval": 30, "rating": 3.25}, 5,
         {"rating": 5}),
        ("rating 4.5: no points", {"last_order": date(2026, 11, 20), "usual_interval": 30, "rating": 4.5}, 0, {}),
        ("nobody in touch ever", {"last_order": date(2026, 11, 20), "usual_interval": 30, "last_contact": None},
         15, {"no_contact": 15}),
        # 45 of 90 days: half the points; under 30 days (a third) the factor is left out
        ("silent 45 days", {"last_order": date(2026, 11, 20), "usual_interval": 30,
                            "last_contact": date(2026, 10, 17)}, 8, {"no_contact": 8}),
        ("everything at once", {"last_order": date(2025, 1, 1), "usual_interval": 30, "revenue_recent": 0,
                                "revenue_before": 10, "overdue_amount": 5, "open_complaints": 2, "rating": 1,
                                "last_contact": None}, 100,
         {"recency": 35, "trend": 15, "overdue": 10, "complaints": 15, "rating": 10, "no_contact": 15}),
    ],
)  # fmt: skip
def test_risk_by_hand(case, values, risk, factors):
    got_risk, level, explained = churn_risk(signals(**values), S, TODAY)
    assert got_risk == risk, case
    assert {code: params["points"] for code, params in explained} == factors, case
    assert sum(params["points"] for _code, params in explained) == got_risk, "the points add up to the risk"
    assert level == (False if values.get("last_order", 1) is None else risk_level(risk, S))


def test_the_points_shown_add_up_when_each_share_rounds_down():
    # three factors of 10.4 points each: 31.2 in all, shown as 31 = 11 + 10 + 10, not 10 + 10 + 10
    assert apportion([10.4, 10.4, 10.4], 31) == [11, 10, 10]
    assert apportion([0.3, 0.3], 1) == [1, 0]
    assert apportion([0.2], 0) == [0]
    assert apportion([], 0) == []
    # weights chosen so that every factor holds by a third
    settings = ChurnSettings(weight_recency=20, weight_trend=20, weight_overdue=0, weight_complaints=20,
                             weight_rating=20, weight_no_contact=20)  # fmt: skip
    values = signals(last_order=date(2026, 10, 2), usual_interval=45, revenue_recent=2, revenue_before=3,
                     open_complaints=0, serious_complaints=0, rating=3.5, last_contact=date(2026, 10, 2))  # fmt: skip
    risk, _level, explained = churn_risk(values, settings, TODAY)
    assert sum(params["points"] for _code, params in explained) == risk


@pytest.mark.parametrize(
    ("risk", "level"), [(0, "low"), (34, "low"), (35, "medium"), (64, "medium"), (65, "high"), (100, "high")]
)
def test_levels(risk, level):
    assert risk_level(risk, S) == level


def test_churn_period_and_date():
    assert churn_period(0, S) == 365
    assert churn_period(60, S) == 365, "three intervals of 60 days are shorter than the company's year"
    assert churn_period(200, S) == 600, "a customer who buys every 200 days is lost after three intervals"
    assert churn_date(None, 0, S, TODAY) is None
    assert churn_date(date(2025, 12, 1), 0, S, TODAY) == date(2026, 12, 1), "the last day of the period"
    assert churn_date(date(2025, 12, 2), 0, S, TODAY) is None
    assert churn_date(date(2025, 6, 1), 200, S, TODAY) is None, "548 days: the 600 have not passed"
    assert churn_date(date(2025, 1, 1), 200, S, TODAY) == date(2026, 8, 24)


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        ({}, "other"),
        ({"price": 0}, "other"),
        ({"price": 2, "service": 1}, "price"),
        ({"price": 1, "service": 1}, "service"),
        ({"product": 3, "price": 3}, "price"),
    ],
)
def test_proposed_reason(counts, reason):
    assert proposed_reason(counts) == reason


def test_the_explanation_says_1_point_and_speaks_of_our_contact():
    """Seen on a customer's form: "(1 points)", "nobody of ours in touch yet"."""
    data = {"factors": [["trend", {"drop": 8, "points": 1}], ["no_contact", {"days": None, "points": 15}]]}
    assert render_churn_reason(Renderer(), data) == (
        "Revenue down 8% on the 6 months before (1 point), no contact from us yet (15 points)."
    )
    data = {"factors": [["no_contact", {"days": 120, "points": 15}]]}
    assert render_churn_reason(Renderer(), data) == "No contact from us for 120 days (15 points)."
