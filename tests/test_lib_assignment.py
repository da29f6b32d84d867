"""Who gets the next lead, when a lead is stale, which region an address is in (lib/assignment.py).
No database."""

from datetime import datetime, timedelta

import pytest

from odoo.addons.crm_lifecycle.lib.assignment import (
    Allocator,
    Seat,
    is_stale,
    last_touch,
    match_region,
    may_reassign,
)


def run(allocator, leads, eligible=None):
    """The keys that take `leads` items in turn (eligible: {item: set of keys} when not everybody)."""
    return [allocator.pick(None if eligible is None else eligible[item]) for item in range(leads)]


def counts(picks):
    result = {}
    for key in picks:
        result[key] = result.get(key, 0) + 1
    return result


@pytest.mark.parametrize(
    ("strategy", "seats", "leads", "expected"),
    [
        # round robin: in turn, who waited longest first; never served members by their order
        ("round_robin", [Seat(1), Seat(2), Seat(3)], 5, [1, 2, 3, 1, 2]),
        ("round_robin", [Seat(1, turn=7), Seat(2, turn=5), Seat(3, turn=6)], 4, [2, 3, 1, 2]),
        # a member with no quota left is skipped, the others keep their order
        ("round_robin", [Seat(1, quota=1), Seat(2, quota=3), Seat(3, quota=0)], 4, [1, 2, 2, 2]),
        # least loaded: fewest open leads first, then who waited longest
        ("least_loaded", [Seat(1, load=4), Seat(2, load=1), Seat(3, load=2)], 5, [2, 3, 2, 3, 2]),
        ("least_loaded", [Seat(1, load=2, turn=3), Seat(2, load=2, turn=1)], 2, [2, 1]),
        # weighted (handovers, stale leads): most capacity left this month first
        ("weighted", [Seat(1, capacity=2), Seat(2, capacity=4)], 4, [2, 2, 1, 2]),
    ],
)
def test_strategies_pick_in_their_order(strategy, seats, leads, expected):
    assert run(Allocator(strategy, seats), leads) == expected


def test_nobody_eligible_or_no_quota_left_gives_nothing():
    allocator = Allocator("round_robin", [Seat(1, quota=1), Seat(2, quota=0)])
    assert allocator.pick({2}) is None
    assert allocator.pick() == 1
    assert allocator.pick() is None


def test_only_eligible_members_take_an_item():
    allocator = Allocator("round_robin", [Seat(1), Seat(2), Seat(3)])
    eligible = {0: {2, 3}, 1: {1}, 2: {2, 3}, 3: {2, 3}}
    assert run(allocator, 4, eligible) == [2, 1, 3, 2]


@pytest.mark.parametrize("members", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("per_run", [1, 2, 3, 5, 8, 13])
def test_round_robin_is_fair_over_many_runs(members, per_run):
    """Equal capacity: no member ever holds more than one lead more than another, however many
    leads each run brings, as long as the rotation is stored between runs."""
    turns = dict.fromkeys(range(1, members + 1), 0)
    total = dict.fromkeys(turns, 0)
    for _run in range(20):
        allocator = Allocator("round_robin", [Seat(key, quota=per_run, turn=turn) for key, turn in turns.items()])
        for key in run(allocator, per_run):
            total[key] += 1
            assert max(total.values()) - min(total.values()) <= 1, total
        turns = allocator.turns()


def test_odoo_order_favoured_the_oldest_members_without_a_stored_rotation():
    """What the stored rotation fixes (odoo/odoo#259775): starting each run from the member order, the
    first members take the odd leads every time."""
    total = {1: 0, 2: 0, 3: 0}
    for _run in range(10):
        for key in run(Allocator("round_robin", [Seat(1), Seat(2), Seat(3)]), 2):
            total[key] += 1
    assert total == {1: 10, 2: 10, 3: 0}


def test_a_bundle_counts_for_its_size():
    allocator = Allocator("least_loaded", [Seat(1, load=0), Seat(2, load=1)])
    assert allocator.pick(size=3) == 1
    assert allocator.seats[1].load == 3
    assert allocator.pick() == 2


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown assignment strategy"):
        Allocator("random", [])


NOW = datetime(2026, 3, 20, 9, 0)


@pytest.mark.parametrize(
    ("touched", "days", "stale"),
    [
        (NOW - timedelta(days=14), 14, True),
        (NOW - timedelta(days=13, hours=23), 14, False),
        (NOW - timedelta(days=40), 0, False),  # the team does not reassign
        (None, 14, False),
    ],
)
def test_stale_after_the_team_days(touched, days, stale):
    assert is_stale(touched, NOW, days) is stale


def test_the_last_touch_counts():
    assigned, message = NOW - timedelta(days=30), NOW - timedelta(days=2)
    assert last_touch(assigned, None, message) == message
    assert not is_stale(last_touch(assigned, message), NOW, 14)
    assert last_touch(None, None) is None


@pytest.mark.parametrize(("count", "maximum", "allowed"), [(0, 2, True), (1, 2, True), (2, 2, False), (0, 0, False)])
def test_reassignments_are_limited(count, maximum, allowed):
    assert may_reassign(count, maximum) is allowed


REGIONS = [
    (10, frozenset({1}), frozenset()),
    (20, frozenset(), frozenset({101, 102})),
    (30, frozenset({1, 2}), frozenset()),
]


@pytest.mark.parametrize(
    ("country", "state", "region"),
    [
        (1, 101, 20),  # the state's region comes before the country's
        (1, 103, 10),  # a state in no region: the first region of the country
        (2, None, 30),
        (3, None, None),
        (None, None, None),
    ],
)
def test_region_of_an_address(country, state, region):
    assert match_region(country, state, REGIONS) == region
