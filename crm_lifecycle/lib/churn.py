"""Churn risk, churn and the reasons for it, from a customer's figures: pure Python, no database.

The risk is explainable by construction: a sum of points, each factor's points its weight times how
strongly the factor holds (0 to 1), so that the explanation lists each factor with its points and the
points add up to the risk. The weights add up to 100 (the company's rules check it), so the risk goes
from 0 to 100. Weights and thresholds are the company's (`ChurnSettings`, res.company
fields of the same names prefixed `lifecycle_churn_`).
"""

from dataclasses import dataclass
from datetime import date, timedelta

CHURN_REASON_SELECTION = [("service", "Service"), ("price", "Price"), ("product", "Product"), ("other", "Other")]
RISK_LEVEL_SELECTION = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
# complaint categories (lib.complaints.CATEGORY_SELECTION) as churn reasons: a late delivery is service
COMPLAINT_CATEGORY_REASON = {"service": "service", "delivery": "service", "price": "price", "product": "product"}
FACTORS = ("recency", "trend", "overdue", "complaints", "rating", "no_contact")


@dataclass
class ChurnSettings:
    """The company's churn rules (res.company fields lifecycle_churn_<name>)."""

    weight_recency: float = 35.0
    weight_trend: float = 15.0
    weight_overdue: float = 10.0
    weight_complaints: float = 15.0
    weight_rating: float = 10.0
    weight_no_contact: float = 15.0
    recency_full_ratio: float = 3.0  # this many usual intervals without an order: the full weight
    default_interval_days: int = 90  # the usual interval of a customer with fewer than two orders
    no_contact_days: int = 90  # no salesperson activity for this long: the full weight
    low_rating: float = 2.5  # an average satisfaction at or below this (1-5): the full weight
    medium_from: int = 35  # the risk (0-100) from which the level is medium
    high_from: int = 65  # ... and high
    period_days: int = 365  # churned after no order for this long (or 3 usual intervals if longer)


@dataclass(slots=True)
class Signals:
    """What the risk reads of one customer (plain values, from the engine's figures)."""

    last_order: date | None = None
    usual_interval: float = 0.0  # mean days between purchase days (0 with fewer than two)
    revenue_recent: float = 0.0  # the last 6 months
    revenue_before: float = 0.0  # the 6 months before
    overdue_amount: float = 0.0
    open_complaints: int = 0
    serious_complaints: int = 0  # high or critical, the last 12 months
    rating: float | None = None  # average satisfaction of the last 12 months (1-5), None if none rated
    last_contact: date | None = None  # the salesperson's last message or activity done


def _clip(value):
    return max(0.0, min(1.0, value))


def churn_risk(signals, settings, today):
    """(risk 0-100, level, [[factor, params], ...]) where each factor's params hold its `points`.

    A customer who never bought has no risk (they are prospects, not customers to keep): (0, False, []).
    """
    if signals.last_order is None:
        return 0, False, []
    factors = []
    interval = signals.usual_interval or settings.default_interval_days
    days = (today - signals.last_order).days
    ratio = days / interval if interval else 0.0
    # no risk while within the usual interval; full weight at recency_full_ratio intervals
    strength = _clip((ratio - 1) / max(settings.recency_full_ratio - 1, 0.01))
    factors.append(["recency", {"days": days, "usual": round(interval), "ratio": round(ratio, 1)}, strength])
    if signals.revenue_before > 0:
        drop = 1 - max(signals.revenue_recent, 0.0) / signals.revenue_before
        factors.append(["trend", {"drop": round(drop * 100)}, _clip(drop)])
    if signals.overdue_amount > 0:
        factors.append(["overdue", {"amount": signals.overdue_amount}, 1.0])
    if signals.open_complaints or signals.serious_complaints:
        strength = _clip(0.5 * signals.open_complaints + 0.5 * signals.serious_complaints)
        factors.append(
            ["complaints", {"open": signals.open_complaints, "serious": signals.serious_complaints}, strength]
        )
    if signals.rating is not None and signals.rating <= 4:
        # full weight at the company's low rating, none at 4 of 5 and above
        strength = _clip((4 - signals.rating) / max(4 - settings.low_rating, 0.01))
        factors.append(["rating", {"rating": round(signals.rating, 1)}, strength])
    silent = (today - signals.last_contact).days if signals.last_contact else None
    if silent is None or silent > settings.no_contact_days / 3:
        strength = 1.0 if silent is None else _clip(silent / settings.no_contact_days)
        factors.append(["no_contact", {"days": silent}, strength])
    raw = [getattr(settings, f"weight_{code}") * strength for code, _params, strength in factors]
    risk = max(0, min(100, round(sum(raw))))
    points = apportion(raw, risk)
    explained = [
        [code, dict(params, points=share)]
        for (code, params, _strength), share in zip(factors, points, strict=True)
        if share
    ]
    return risk, risk_level(risk, settings), explained


def apportion(raw, total):
    """Whole points for each raw share that add up to `total` (largest remainders): the explanation's
    points then sum to the risk shown, which rounding each share on its own does not promise."""
    if not raw:
        return []
    scale = total / sum(raw) if sum(raw) else 0.0
    exact = [value * scale for value in raw]
    points = [int(value) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (points[i] - exact[i], i))
    for i in by_remainder[: total - sum(points)]:
        points[i] += 1
    return points


def risk_level(risk, settings):
    if risk >= settings.high_from:
        return "high"
    return "medium" if risk >= settings.medium_from else "low"


def churn_period(usual_interval, settings):
    """Days without an order after which a customer is churned: the company's period, or three of the
    customer's usual intervals when that is longer (a customer who buys once a year is not lost after
    a year and a day)."""
    return max(settings.period_days, round(3 * usual_interval)) if usual_interval else settings.period_days


def churn_date(last_order, usual_interval, settings, today):
    """The day the customer churned (last order + the period), or None while they are within it."""
    if last_order is None:
        return None
    day = last_order + timedelta(days=churn_period(usual_interval, settings))
    return day if day <= today else None


def proposed_reason(counts):
    """The churn reason the customer's last 12 months point to: {"service": n, "price": n, ...} from
    complaint categories and the lost reasons of opportunities; the most frequent (service first on a
    tie: the reason customers most often leave for), "other" with no signal."""
    best = max(("service", "price", "product"), key=lambda reason: counts.get(reason, 0))
    return best if counts.get(best, 0) else "other"
