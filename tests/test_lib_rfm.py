"""RFM scores and segments (lib/rfm.py) on a hand-computed company. No database: plain pytest functions."""

import itertools

import numpy as np
import pytest

from odoo.addons.crm_lifecycle.lib.rfm import (
    SEGMENT_MAP,
    SEGMENT_SELECTION,
    quintile_scores,
    quintile_thresholds,
    rfm_scores,
    score_from_thresholds,
    segment,
    segments,
)

# Twelve buyers and two contacts who never bought (the last two). Days since the last purchase, orders,
# revenue; recency has ties at 3 and 9 days, frequency seven customers at 1 order, monetary two at 80.
RECENCY = [5, 3, 3, 8, 1, 9, 9, 9, 2, 7, 4, 6, np.nan, np.nan]
FREQUENCY = [1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 5, 8, 0, 0]
MONETARY = [120, 80, 80, 300, 15, 45, 60, 500, 250, 90, 1000, 2000, 0, 0]


def test_quintiles_by_hand_with_ties():
    """n = 12, rank = 1 + the number of strictly lower values, score = ceil(5 rank / 12):
    1 -> rank 1 -> 1; 2 -> rank 2 -> 1; 3, 3 -> rank 3 -> 2; 4 -> 5 -> 3; 5 -> 6 -> 3; 6 -> 7 -> 3;
    7 -> 8 -> 4; 8 -> 9 -> 4; 9, 9, 9 -> rank 10 -> 5."""
    values = [5, 3, 3, 8, 1, 9, 9, 9, 2, 7, 4, 6]
    assert quintile_scores(values).tolist() == [3, 2, 2, 4, 1, 5, 5, 5, 1, 4, 3, 3]
    # lower is better: the three at 9 share the lowest rank (1), the two at 3 rank 9 -> 4
    assert quintile_scores(values, higher_is_better=False).tolist() == [3, 4, 4, 2, 5, 1, 1, 1, 5, 3, 4, 3]


def test_rfm_scores_of_a_company():
    r, f, m = rfm_scores(RECENCY, FREQUENCY, MONETARY)
    assert r.tolist() == [3, 4, 4, 2, 5, 1, 1, 1, 5, 3, 4, 3, 0, 0]
    # seven one-order customers tie at rank 1 (the lowest score); 2 orders rank 8 of 12 -> ceil(40/12) = 4
    assert f.tolist() == [1, 1, 1, 1, 1, 1, 1, 4, 4, 5, 5, 5, 0, 0]
    assert m.tolist() == [3, 2, 2, 4, 1, 1, 2, 5, 4, 3, 5, 5, 0, 0]


def test_segments_of_a_company():
    """FM = ceil((F + M) / 2), then the map's row R, column FM; no purchase, no segment."""
    assert segments(*rfm_scores(RECENCY, FREQUENCY, MONETARY)) == [
        "about_to_sleep",  # R3 F1 M3: FM 2
        "potential_loyalists",  # R4 F1 M2: FM 2
        "potential_loyalists",
        "at_risk",  # R2 F1 M4: FM 3
        "new_customers",  # R5 F1 M1
        "lost",  # R1 F1 M1
        "lost",  # R1 F1 M2: FM 2
        "cant_lose_them",  # R1 F4 M5: FM 5
        "champions",  # R5 F4 M4
        "loyal_customers",  # R3 F5 M3: FM 4
        "loyal_customers",  # R4 F5 M5
        "loyal_customers",  # R3 F5 M5
        None,
        None,
    ]


def test_every_segment_is_reachable_and_the_map_is_complete():
    keys = [key for key, _label in SEGMENT_SELECTION]
    assert len(set(keys)) == len(keys) == 11
    assert all(label and label[0].isupper() for _key, label in SEGMENT_SELECTION)
    assert sorted(SEGMENT_MAP) == [1, 2, 3, 4, 5]
    assert all(len(row) == 5 and set(row) <= set(keys) for row in SEGMENT_MAP.values())
    reached = {segment(r, f, m) for r, f, m in itertools.product(range(1, 6), repeat=3)}
    assert reached == set(keys)
    assert (segment(5, 5, 5), segment(1, 1, 1), segment(5, 1, 1), segment(1, 5, 5), segment(3, 3, 3)) == (
        "champions",
        "lost",
        "new_customers",
        "cant_lose_them",
        "need_attention",
    )


def test_equal_values_get_equal_scores():
    assert quintile_scores([7.0] * 8).tolist() == [1] * 8  # everyone at the lowest rank
    assert quintile_scores([42.0]).tolist() == [5]  # a lone customer is the best one
    rng = np.random.default_rng(5)
    values = rng.integers(0, 6, 500).astype(float)  # many ties
    scores = quintile_scores(values)
    for value in np.unique(values):
        assert len(set(scores[values == value])) == 1
    assert np.all(np.diff(scores[np.argsort(values)]) >= 0)  # never a better score for a worse value
    assert sorted(set(quintile_scores(np.arange(1000.0)))) == [1, 2, 3, 4, 5]
    assert np.bincount(quintile_scores(np.arange(1000.0)))[1:].tolist() == [200] * 5


def test_no_purchase_no_score_and_not_counted():
    r, f, m = rfm_scores([np.nan, 10, 20, np.nan], [0, 1, 2, 0], [np.nan, 5.0, 9.0, 0.0])
    assert (r.tolist(), f.tolist(), m.tolist()) == ([0, 5, 3, 0], [0, 3, 5, 0], [0, 3, 5, 0])
    assert segment(0, 3, 5) is None


def test_refusals():
    with pytest.raises(ValueError, match="finite number"):
        rfm_scores([1, 2, 3], [1, 1, 1], [5.0, np.inf, 3.0])
    with pytest.raises(ValueError, match="finite number"):
        rfm_scores([1, np.nan, 3], [1, 1, 1], [5.0, 4.0, 3.0])  # a buyer without a last purchase
    with pytest.raises(ValueError, match="frequency"):
        rfm_scores([1, 2], [1, -1], [5.0, 4.0])
    with pytest.raises(ValueError, match="recency"):
        rfm_scores([1, -2], [1, 1], [5.0, 4.0])
    with pytest.raises(ValueError, match=r"from 0 \(none\) to 5"):
        segment(6, 1, 1)


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_one_customer_scored_on_the_thresholds_as_among_all(higher_is_better):
    """The engine scores each customer against the company's four stored thresholds: the same score
    as ranking them among all the company's customers, ties and small companies included."""
    rng = np.random.default_rng(7)
    for n in [1, 2, 3, 4, 5, 6, 7, 11, 50, 333]:
        values = rng.integers(0, max(2, n // 3), size=n).astype(float)  # many ties
        thresholds = quintile_thresholds(values, higher_is_better=higher_is_better)
        expected = quintile_scores(values, higher_is_better=higher_is_better)
        got = [score_from_thresholds(v, thresholds, higher_is_better=higher_is_better) for v in values]
        assert got == expected.tolist(), f"{n} customers"
    assert quintile_thresholds([]) == []
    assert score_from_thresholds(3.0, []) == 0
