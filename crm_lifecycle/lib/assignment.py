"""Lead assignment: who gets the next lead, when a lead is stale, which region it is in (domain.md
section 3). Pure rules, no database access.

The models read the members (their quota for the run, their place in the rotation, their open leads,
their capacity left this month) into `Seat`s and hand them to an `Allocator`; the allocator answers
with the member that gets each lead (or each customer of a portfolio handed over) and keeps the
rotation, which the models store back so that it carries over to the next run.

Fairness of the round robin: the members take their turns in the order they last received a lead,
so among members who may all take every lead and have the same quota, each lead goes to the one who
waited longest. Their counts never differ by more than one, in a run and summed over runs (the
rotation is stored); the member order breaks ties only between members who never received a lead.
"""

from dataclasses import dataclass
from datetime import timedelta

STRATEGY_SELECTION = [
    ("weighted", "Weighted (Odoo)"),
    ("round_robin", "Round robin"),
    ("least_loaded", "Least loaded"),
]
MODE_SELECTION = [("auto", "Automatic"), ("manual", "Manual")]
COMPANY_SIZE_SELECTION = [
    ("1_10", "1-10"),
    ("11_50", "11-50"),
    ("51_200", "51-200"),
    ("201_1000", "201-1000"),
    ("1000_plus", "1000+"),
]
# why a member gets nothing today (crm.team.member._lifecycle_off_today)
OFF_SELECTION = [
    ("not_working", "not a working day"),
    ("time_off", "time off"),
    ("holiday", "public holiday"),
]


@dataclass(slots=True)
class Seat:
    """One member as the allocator sees them."""

    key: int  # the team member's id
    quota: int | None = None  # items they may still receive in this run; None: no limit
    turn: int = 0  # the turn they last received an item (0: never): their place in the rotation
    load: int = 0  # open leads they hold
    capacity: int = 0  # leads left to receive this month (monthly capacity minus leads received)
    received: int = 0  # items received in this run


class Allocator:
    """Picks the member for each item by the team's strategy:

    - round_robin: the member who waited longest (the oldest last turn);
    - least_loaded: the member with the fewest open leads, then the one who waited longest;
    - weighted: the member with the most capacity left this month, then the one who waited longest
      (Odoo's own assignment of new leads does not come here: it stays Odoo's, see crm.team).
    Only members with quota left, and among `eligible` when given, are considered.
    """

    def __init__(self, strategy, seats):
        if strategy not in dict(STRATEGY_SELECTION):
            raise ValueError(f"unknown assignment strategy {strategy!r}")
        self.strategy = strategy
        self.seats = {seat.key: seat for seat in seats}
        self.last_turn = max((seat.turn for seat in seats), default=0)

    def _rank(self, seat):
        if self.strategy == "round_robin":
            return (seat.turn, seat.key)
        if self.strategy == "least_loaded":
            return (seat.load, seat.turn, seat.key)
        return (-seat.capacity, seat.turn, seat.key)

    def candidates(self, eligible=None):
        """The members who may take an item now, best first."""
        seats = [
            seat
            for seat in self.seats.values()
            if (seat.quota is None or seat.quota > 0) and (eligible is None or seat.key in eligible)
        ]
        return sorted(seats, key=self._rank)

    def pick(self, eligible=None, size=1):
        """Give the next item (of `size` leads: a customer with several leads counts for all) to the
        best member; returns their key, or None when nobody may take it."""
        seats = self.candidates(eligible)
        if not seats:
            return None
        seat = seats[0]
        self.last_turn += 1
        seat.turn = self.last_turn
        seat.received += size
        seat.load += size
        seat.capacity -= size
        if seat.quota is not None:
            seat.quota -= size
        return seat.key

    def turns(self):
        """{key: turn} of every member, to store."""
        return {key: seat.turn for key, seat in self.seats.items()}


def last_touch(*moments):
    """The latest of the moments that show someone followed the lead up (None ignored)."""
    present = [moment for moment in moments if moment]
    return max(present) if present else None


def is_stale(touched, now, stale_days):
    """A lead nobody followed up for `stale_days` days (0: the team does not reassign stale leads)."""
    return bool(stale_days and stale_days > 0 and touched and touched <= now - timedelta(days=stale_days))


def may_reassign(reassigned, max_reassign):
    """Whether a stale lead may be moved once more: at most `max_reassign` times in all."""
    return (reassigned or 0) < (max_reassign or 0)


def match_region(country_id, state_id, regions):
    """The region of an address: the first region (in the order given) listing its state, else the
    first listing its country, else None. `regions` holds (region_id, country_ids, state_ids)."""
    if state_id:
        for region_id, _countries, states in regions:
            if state_id in states:
                return region_id
    if country_id:
        for region_id, countries, _states in regions:
            if country_id in countries:
                return region_id
    return None
