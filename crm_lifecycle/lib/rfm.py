"""RFM: recency, frequency and monetary scores 1-5 by quintile within a company, and the segment they
put a customer in. numpy only, no database.

Scores: a customer's rank among the company's scored customers, ties at the lowest rank (1 + the number
of customers with a strictly worse value), gives score = ceil(5 * rank / n). Equal values get equal
scores, the best customer gets 5 and, for n >= 5, the worst gets 1; a tied group is scored where it
starts, so 60% of customers tied at one order all get the lowest frequency score. Customers without a
purchase get no score (0) and do not count in n.
"""

import numpy as np

SEGMENT_SELECTION = [
    ("champions", "Champions"),
    ("loyal_customers", "Loyal Customers"),
    ("potential_loyalists", "Potential Loyalists"),
    ("new_customers", "New Customers"),
    ("promising", "Promising"),
    ("need_attention", "Need Attention"),
    ("about_to_sleep", "About to Sleep"),
    ("at_risk", "At Risk"),
    ("cant_lose_them", "Can't Lose Them"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]

# The usual RFM segment map on the recency score R and the frequency-monetary score FM (the mean of F
# and M, halves rounded up): one row per R, most recent first; the five columns are FM = 1 to 5.
SEGMENT_MAP = {
    5: ("new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal_customers", "loyal_customers"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal_customers", "loyal_customers"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    1: ("lost", "lost", "at_risk", "at_risk", "cant_lose_them"),
}


def quintile_scores(values, *, higher_is_better=True, scored=None):
    """Score 1-5 of each value among the scored ones (see the module's docstring); 0 where `scored` is
    false (default: where the value is NaN)."""
    values = np.asarray(values, dtype=float)
    scored = ~np.isnan(values) if scored is None else np.asarray(scored, dtype=bool)
    if values.ndim != 1 or scored.shape != values.shape:
        raise ValueError("the values and the scored flags must be one-dimensional arrays of one length.")
    kept = values[scored] if higher_is_better else -values[scored]
    if not np.isfinite(kept).all():
        position = int(np.flatnonzero(scored)[np.flatnonzero(~np.isfinite(kept))[0]])
        raise ValueError(f"a scored value must be a finite number (position {position} holds {values[position]}).")
    scores = np.zeros(values.shape, dtype=np.int64)
    n = kept.size
    if n:
        rank = np.searchsorted(np.sort(kept), kept, side="left") + 1
        scores[scored] = (5 * rank + n - 1) // n  # ceil(5 * rank / n) in integers
    return scores


def rfm_scores(recency, frequency, monetary):
    """(R, F, M) scores of the customers of one company: `recency` the time since their last purchase
    (the shorter the better), `frequency` their number of purchases, `monetary` their value (total or
    average, the caller's choice). A customer whose frequency is 0 gets (0, 0, 0); their recency and
    monetary values are ignored (NaN is fine there)."""
    frequency = np.asarray(frequency, dtype=float)
    if frequency.ndim != 1 or not np.isfinite(frequency).all() or (frequency < 0).any():
        raise ValueError("frequency must be a one-dimensional array of finite numbers >= 0.")
    buyers = frequency > 0
    recency = np.asarray(recency, dtype=float)
    if recency.shape != frequency.shape or (recency[buyers] < 0).any():
        raise ValueError("recency must have one value per customer, >= 0 for those who bought.")
    return (
        quintile_scores(recency, higher_is_better=False, scored=buyers),
        quintile_scores(frequency, scored=buyers),
        quintile_scores(monetary, scored=buyers),
    )


def segment(r_score, f_score, m_score):
    """The segment key of one customer's scores, None when they have no score."""
    if not all(score in range(6) for score in (r_score, f_score, m_score)):
        raise ValueError(f"scores are whole numbers from 0 (none) to 5, not {(r_score, f_score, m_score)}.")
    if not (r_score and f_score and m_score):
        return None
    return SEGMENT_MAP[r_score][(f_score + m_score + 1) // 2 - 1]


def segments(r_scores, f_scores, m_scores):
    """The segment keys of many customers (lists or arrays of scores), None for those without a score."""
    return [segment(int(r), int(f), int(m)) for r, f, m in zip(r_scores, f_scores, m_scores, strict=True)]


def quintile_thresholds(values, *, higher_is_better=True):
    """The four values a score is read against, so that one customer is scored without the others:
    score(w) = 1 + the number of thresholds w is better than, the same as `quintile_scores` gives w
    among `values` (the company's scored customers). [] when there are none."""
    kept = np.sort(np.asarray(values, dtype=float) * (1 if higher_is_better else -1))
    n = kept.size
    if not n:
        return []
    # score >= s  <=>  rank >= floor((s - 1) n / 5) + 1  <=>  value > kept[floor((s - 1) n / 5) - 1]
    thresholds = []
    for s in range(2, 6):
        k = (s - 1) * n // 5
        thresholds.append(float(kept[k - 1]) if k >= 1 else float("-inf"))
    return thresholds if higher_is_better else [-t for t in thresholds]


def score_from_thresholds(value, thresholds, *, higher_is_better=True):
    """The 1-5 score of `value` against `quintile_thresholds` (0 without thresholds)."""
    if not thresholds:
        return 0
    if higher_is_better:
        return 1 + sum(value > t for t in thresholds)
    return 1 + sum(value < t for t in thresholds)
