"""The care rules' pure computation (crm_lifecycle/lib/care.py), table by table, no database.

Dates are taken over 2027-2028 (2028 is a leap year); "daily runs" call a trigger for every day of
the two years as the nightly cron would and keep the first day each occurrence was due.
"""

import math
from datetime import date, timedelta

import pytest
from scipy import stats

from odoo.addons.crm_lifecycle.lib import care

ONE_DAY = timedelta(days=1)
START, END = date(2027, 1, 1), date(2028, 12, 31)
SPRING_FESTIVAL = "Chinese New Year (Spring Festival)"


def daily(due, start=START, end=END):
    """Call `due(today)` for every day from `start` to `end`; {occurrence: first day it was due}."""
    sent = {}
    today = start
    while today <= end:
        occurrence = due(today)
        if occurrence is not None:
            sent.setdefault(occurrence, today)
        today += ONE_DAY
    return sent


def days_of(year):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += ONE_DAY


# --- 1. Yearly occasions ------------------------------------------------------------------------

YEARLY_OCCURRENCE_CASES = [
    # origin, year, occurrence
    (date(1990, 5, 17), 2027, date(2027, 5, 17)),
    (date(1992, 2, 29), 2027, date(2027, 2, 28)),  # not a leap year: 28 February
    (date(1992, 2, 29), 2028, date(2028, 2, 29)),
    (date(2028, 2, 29), 2029, date(2029, 2, 28)),
    (date(2027, 3, 10), 2027, None),  # year 0: the first purchase itself
    (date(2027, 3, 10), 2026, None),
    (date(2027, 3, 10), 2028, date(2028, 3, 10)),
    (None, 2027, None),
]


@pytest.mark.parametrize(("origin", "year", "expected"), YEARLY_OCCURRENCE_CASES)
def test_yearly_occurrence(origin, year, expected):
    assert care.yearly_occurrence(origin, year) == expected


YEARLY_DUE_CASES = [
    # origin, today, days ahead, occurrence due
    (date(1985, 1, 2), date(2027, 12, 30), 3, date(2028, 1, 2)),  # across the new year
    (date(1985, 1, 2), date(2027, 12, 30), 2, None),
    (date(1985, 1, 2), date(2028, 1, 2), 0, date(2028, 1, 2)),
    (date(1985, 1, 2), date(2028, 1, 3), 0, None),  # passed
    (date(1992, 2, 29), date(2027, 2, 28), 0, date(2027, 2, 28)),
    (date(1992, 2, 29), date(2027, 2, 25), 3, date(2027, 2, 28)),
    (date(1992, 2, 29), date(2027, 3, 1), 0, None),
    (date(1992, 2, 29), date(2028, 2, 28), 0, None),  # leap year: on the 29th
    (date(1992, 2, 29), date(2028, 2, 26), 3, date(2028, 2, 29)),
    (date(1992, 2, 28), date(2028, 2, 28), 0, date(2028, 2, 28)),
    (date(2027, 3, 10), date(2027, 3, 10), 0, None),  # first purchase today: not an anniversary
    (date(2027, 3, 10), date(2028, 3, 7), 3, date(2028, 3, 10)),
    (date(2027, 12, 31), date(2027, 12, 31), 5, None),
    (date(1990, 6, 1), date(2027, 6, 2), 400, date(2028, 6, 1)),
    (None, date(2027, 6, 2), 3, None),
]


@pytest.mark.parametrize(("origin", "today", "days_ahead", "expected"), YEARLY_DUE_CASES)
def test_yearly_due(origin, today, days_ahead, expected):
    assert care.yearly_due(origin, today, days_ahead) == expected


@pytest.mark.parametrize("days_ahead", [-1, 1.5, None, True])
def test_days_ahead_must_be_whole_days(days_ahead):
    with pytest.raises(ValueError, match="days_ahead"):
        care.yearly_due(date(1990, 1, 1), START, days_ahead)


MONTH_DAYS_CASES = [
    # today, days ahead, the (month, day) pairs to look up
    (date(2027, 12, 30), 3, [(12, 30), (12, 31), (1, 1), (1, 2)]),
    (date(2027, 2, 27), 2, [(2, 27), (2, 28), (2, 29), (3, 1)]),
    (date(2027, 2, 28), 0, [(2, 28), (2, 29)]),
    (date(2028, 2, 27), 2, [(2, 27), (2, 28), (2, 29)]),
    (date(2028, 2, 28), 0, [(2, 28)]),
    (date(2028, 3, 1), 0, [(3, 1)]),
]


@pytest.mark.parametrize(("today", "days_ahead", "expected"), MONTH_DAYS_CASES)
def test_month_days(today, days_ahead, expected):
    assert care.month_days(today, days_ahead) == expected


def test_month_days_of_a_year_or_more_are_every_day():
    assert len(care.month_days(date(2027, 1, 1), 364)) == 366
    assert len(care.month_days(date(2027, 1, 1), 5000)) == 366


@pytest.mark.parametrize("days_ahead", [0, 3])
def test_month_days_select_exactly_the_due_birthdays_every_day(days_ahead):
    """The query on month and day misses no due birthday and brings no other, every day of two
    years, for a birthday on each day of the calendar."""
    births = list(days_of(1988))  # a leap year: 29 February too
    today = START
    while today <= END:
        pairs = set(care.month_days(today, days_ahead))
        selected = {b for b in births if (b.month, b.day) in pairs}
        due = {b for b in births if care.yearly_due(b, today, days_ahead)}
        assert selected == due, today
        today += ONE_DAY


@pytest.mark.parametrize("days_ahead", [0, 3])
def test_birthdays_daily_runs(days_ahead):
    """Each birthday of 2027 and 2028 (and early 2029, days ahead of the last run) is due on
    exactly one run, `days_ahead` days before it or on the first run."""
    for birth in days_of(1988):
        sent = daily(lambda today, b=birth: care.yearly_due(b, today, days_ahead))
        expected = {
            occurrence: max(occurrence - timedelta(days=days_ahead), START)
            for year in (2027, 2028, 2029)
            if (occurrence := care.yearly_occurrence(birth, year)) <= END + timedelta(days=days_ahead)
        }
        assert sent == expected, birth


def test_29_february_birthday_daily_runs():
    sent = daily(lambda today: care.yearly_due(date(1992, 2, 29), today, 3))
    assert sent == {date(2027, 2, 28): date(2027, 2, 25), date(2028, 2, 29): date(2028, 2, 26)}


def test_first_purchase_anniversary_daily_runs():
    """A first purchase in 2027 has its first anniversary in 2028; the purchase day is not one."""
    sent = daily(lambda today: care.yearly_due(date(2027, 6, 15), today, 7))
    assert sent == {date(2028, 6, 15): date(2028, 6, 8)}
    sent = daily(lambda today: care.yearly_due(date(2028, 2, 29), today, 0), end=date(2029, 12, 31))
    assert sent == {date(2029, 2, 28): date(2029, 2, 28)}


# --- 2. Public holidays ---------------------------------------------------------------------------

HOLIDAY_DATE_CASES = [
    # key, country, state, year, first day
    (SPRING_FESTIVAL, "CN", None, 2027, date(2027, 2, 6)),  # the first of three days
    (SPRING_FESTIVAL, "CN", None, 2028, date(2028, 1, 26)),
    (SPRING_FESTIVAL, "cn", "BJ", 2027, date(2027, 2, 6)),  # China has no regional holidays
    ("Mid-Autumn Festival", "CN", None, 2028, date(2028, 10, 3)),  # the same day as National Day
    ("National Day", "CN", None, 2028, date(2028, 10, 1)),
    ("Thanksgiving Day", "US", None, 2027, date(2027, 11, 25)),
    ("Thanksgiving Day", "US", "NY", 2028, date(2028, 11, 23)),
    ("Cesar Chavez Day", "US", "CA", 2027, date(2027, 3, 31)),
    ("Cesar Chavez Day", "US", "CA", 2028, date(2028, 3, 31)),
    ("Cesar Chavez Day", "US", "NY", 2027, None),  # California's, not New York's
    ("Cesar Chavez Day", "US", None, 2027, None),
    ("Cesar Chavez Day", "US", "XX", 2027, None),  # a state the library does not know
    ("Reformation Day", "DE", "BB", 2027, date(2027, 10, 31)),
    ("Reformation Day", "DE", "BY", 2027, None),
    ("Coming of Age Day", "JP", None, 2027, date(2027, 1, 11)),  # no subdivisions: state ignored
    ("Coming of Age Day", "JP", "13", 2028, date(2028, 1, 10)),
    ("Eid al-Fitr", "EG", None, 2027, date(2027, 3, 9)),  # an estimated date, same key
    ("The day preceding Korean New Year", "KR", None, 2027, date(2027, 2, 6)),  # a composed name
    ("Thanksgiving Day", "CN", None, 2027, None),
    ("No Such Day", "US", "CA", 2027, None),
    (SPRING_FESTIVAL, "XX", None, 2027, None),  # a country the library does not know
    (SPRING_FESTIVAL, None, None, 2027, None),
    (None, "CN", None, 2027, None),
]


@pytest.mark.parametrize(("key", "country", "state", "year", "expected"), HOLIDAY_DATE_CASES)
def test_holiday_date(key, country, state, year, expected):
    assert care.holiday_date(key, country, year, state) == expected


@pytest.mark.parametrize(
    ("year", "lang", "name"),
    [
        (2027, "zh_CN", "春节"),
        (2028, "zh_CN", "春节"),
        (2027, "en_US", SPRING_FESTIVAL),
        (2028, "en_GB", SPRING_FESTIVAL),
        (2028, None, "春节"),  # China's own language
    ],
)
def test_spring_festival_on_its_lunar_date_in_each_language(year, lang, name):
    days = [h for h in care.holidays_of_year("CN", year, lang=lang) if h.key == SPRING_FESTIVAL]
    first = {2027: date(2027, 2, 6), 2028: date(2028, 1, 26)}[year]
    # three days, without the observed days off (9 and 10 February 2027)
    assert [h.date for h in days] == [first, first + ONE_DAY, first + 2 * ONE_DAY]
    assert {h.name for h in days} == {name}


def test_spring_festival_daily_runs():
    sent = daily(lambda today: care.holiday_due(SPRING_FESTIVAL, "CN", today, 2))
    assert sent == {date(2027, 2, 6): date(2027, 2, 4), date(2028, 1, 26): date(2028, 1, 24)}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("CA", {date(2027, 3, 31): date(2027, 3, 31), date(2028, 3, 31): date(2028, 3, 31)}),
        ("NY", {}),
        (None, {}),
    ],
)
def test_state_holiday_daily_runs(state, expected):
    assert daily(lambda today: care.holiday_due("Cesar Chavez Day", "US", today, 0, state)) == expected


def test_thanksgiving_daily_runs():
    sent = daily(lambda today: care.holiday_due("Thanksgiving Day", "US", today, 1, "TX"))
    assert sent == {date(2027, 11, 25): date(2027, 11, 24), date(2028, 11, 23): date(2028, 11, 22)}


def test_holiday_due_across_the_new_year():
    assert care.holiday_due("New Year's Day", "CN", date(2027, 12, 30), 2) == date(2028, 1, 1)
    assert care.holiday_due("New Year's Day", "CN", date(2027, 12, 30), 1) is None


NAMES_OF_ONE_DAY_CASES = [
    # The library sorts the names of a day in each language: Spanish and English orders differ from
    # each other and from Haiti's own French, so pairing them by position would swap them.
    (
        "HT",
        date(2027, 1, 1),
        "es_ES",
        {"New Year's Day": "Año Nuevo", "National Independence Day": "Día de la Independencia Nacional"},
    ),
    ("CN", date(2028, 10, 3), "th_TH", {"Mid-Autumn Festival": "วันไหว้พระจันทร์", "National Day": "วันชาติจีน"}),
    ("CN", date(2028, 10, 3), "zh_CN", {"Mid-Autumn Festival": "中秋节", "National Day": "国庆节"}),
    # "%s 전날" % "설날": no translation of its own, named as the library's Thai calendar names it
    ("KR", date(2027, 2, 6), "th_TH", {"The day preceding Korean New Year": "วันก่อนเทศกาลซอลลัล"}),
    ("KR", date(2027, 2, 6), "ko_KR", {"The day preceding Korean New Year": "설날 전날"}),
]


@pytest.mark.parametrize(("country", "day", "lang", "expected"), NAMES_OF_ONE_DAY_CASES)
def test_names_of_one_day_are_paired_by_holiday_not_by_position(country, day, lang, expected):
    shared = care.holidays_of_year(country, day.year, lang=lang)
    assert {h.key: h.name for h in shared if h.date == day} == expected


def test_a_holiday_keeps_its_name_on_a_day_it_shares():
    """Jordan's Independence Day is alone in 2027, with the Islamic New Year on 25 May 2028."""
    alone = {h.key: h.name for h in care.holidays_of_year("JO", 2027, lang="en_US")}
    shared = [h for h in care.holidays_of_year("JO", 2028, lang="en_US") if h.date == date(2028, 5, 25)]
    assert {h.key: h.name for h in shared} == {k: alone[k] for k in ("Independence Day", "Islamic New Year")}
    assert {h.key: h.estimated for h in shared} == {"Independence Day": False, "Islamic New Year": True}


def test_working_day_swaps_are_not_holidays():
    keys = {h.key for h in care.holidays_of_year("CN", 2026, lang="zh_CN")}
    assert not [k for k in keys if k.startswith("Day off")]
    assert SPRING_FESTIVAL in keys


def test_estimated_dates_are_marked_not_named():
    eid = [h for h in care.holidays_of_year("EG", 2027, lang="en_US") if h.key == "Eid al-Fitr"]
    assert eid
    assert all(h.estimated and h.name == "Eid al-Fitr" for h in eid)


def test_holidays_of_a_year_are_cached():
    assert care.holidays_of_year("US", 2027, "CA", "en_US") is care.holidays_of_year("US", 2027, "CA", "en_US")
    assert care.holidays_of_year("XX", 2027) == ()


HOLIDAY_LANGUAGE_CASES = [
    # country, Odoo language, the library's language
    ("CN", "zh_CN", "zh_CN"),
    ("CN", "en_US", "en_US"),
    ("CN", "en_GB", "en_US"),
    ("CN", "zh_TW", "zh_TW"),
    ("CN", "zh_HK", "zh_TW"),
    ("CN", "fr_FR", "zh_CN"),  # no French: China's own language, never the server's locale
    ("CN", None, "zh_CN"),
    ("FR", "fr_FR", "fr"),
    ("FR", "fr_BE", "fr"),
    ("US", "zh_CN", "en_US"),
    ("GB", "en_US", "en_US"),
    ("NO", "nb_NO", "no"),
    ("JO", "ar_001", "ar"),
    ("RS", "sr@latin", "sr"),
    ("IE", "zh_CN", None),  # no translations: names in English
    ("XX", "zh_CN", None),
]


@pytest.mark.parametrize(("country", "lang", "expected"), HOLIDAY_LANGUAGE_CASES)
def test_holiday_language(country, lang, expected):
    assert care.holiday_language(country, lang) == expected


SUBDIVISION_CASES = [
    # country, Odoo state code, state name, the library's subdivision
    ("US", "CA", None, "CA"),
    ("us", "ca", None, "CA"),
    ("US", None, "California", "CA"),
    ("US", "ZZ", "California", "CA"),
    ("US", "ZZ", None, None),
    ("FR", "GP", None, "971"),  # an alias of the library's code
    ("CN", "BJ", "Beijing", None),  # no regional holidays
    ("JP", "13", None, None),
    ("XX", "CA", None, None),
    ("US", None, None, None),
]


@pytest.mark.parametrize(("country", "state", "state_name", "expected"), SUBDIVISION_CASES)
def test_subdivision(country, state, state_name, expected):
    assert care.subdivision(country, state, state_name) == expected


def test_subdivisions_and_supported_countries():
    assert "CA" in care.subdivisions("US")
    assert care.subdivisions("CN") == ()
    assert care.subdivisions("XX") == ()
    assert care.is_supported_country("CN")
    assert care.is_supported_country("us")
    assert not care.is_supported_country("XX")
    assert not care.is_supported_country(None)


def test_holiday_choices_of_the_united_states():
    choices = care.holiday_choices("US", [2027, 2028], "en_US")
    by_key = {c.key: c for c in choices}
    assert len(by_key) == len(choices)
    assert by_key["Thanksgiving Day"].subdivisions == ()
    assert "CA" in by_key["Cesar Chavez Day"].subdivisions
    assert "NY" not in by_key["Cesar Chavez Day"].subdivisions
    assert [c.key for c in choices].index("Thanksgiving Day") < [c.key for c in choices].index("Cesar Chavez Day")
    assert not [c for c in choices if "(observed)" in c.key]


def test_holiday_choices_of_china_in_chinese():
    choices = care.holiday_choices("CN", [2027, 2028], "zh_CN")
    assert (SPRING_FESTIVAL, "春节", ()) in [(c.key, c.name, c.subdivisions) for c in choices]
    assert all(not c.subdivisions for c in choices)
    assert care.holiday_choices("XX", [2027]) == []


OCCASION_SCOPE_CASES = [
    # countries, states, customer's country, state, applies
    (set(), set(), "CN", None, True),
    (set(), set(), None, None, True),
    ({"CN"}, set(), "CN", "GD", True),
    ({"CN"}, set(), "US", "CA", False),
    (set(), {("US", "CA")}, "US", "CA", True),
    (set(), {("US", "CA")}, "us", "ca", True),
    (set(), {("US", "CA")}, "US", "NY", False),
    (set(), {("US", "CA")}, "US", None, False),
    (set(), {("US", "CA")}, "CA", None, False),  # Canada is not California
    ({"CN"}, {("US", "CA")}, "US", "CA", True),
    ({"CN"}, {("US", "CA")}, "FR", None, False),
]


@pytest.mark.parametrize(("countries", "states", "country", "state", "expected"), OCCASION_SCOPE_CASES)
def test_dated_occasion_applies_to(countries, states, country, state, expected):
    occasion = care.DatedOccasion(date(2027, 6, 18), "618", frozenset(countries), frozenset(states))
    assert occasion.applies_to(country, state) is expected


def test_dated_occasions_daily_runs():
    promotion = care.DatedOccasion(date(2027, 6, 18), "618 promotion", frozenset({"CN"}))
    summer = care.DatedOccasion(date(2028, 7, 1), "Summer sale", states=frozenset({("US", "CA")}))
    everyone = care.DatedOccasion(date(2028, 12, 31))
    occasions = [everyone, summer, promotion]

    def due(country, state):
        return lambda today: next((o.date for o in care.dated_occasions_due(occasions, today, 3, country, state)), None)

    assert daily(due("CN", "GD")) == {date(2027, 6, 18): date(2027, 6, 15), date(2028, 12, 31): date(2028, 12, 28)}
    assert daily(due("US", "CA")) == {date(2028, 7, 1): date(2028, 6, 28), date(2028, 12, 31): date(2028, 12, 28)}
    assert daily(due("US", "NY")) == {date(2028, 12, 31): date(2028, 12, 28)}
    assert care.dated_occasions_due(occasions, date(2028, 6, 30), 365, "US", "CA") == [summer, everyone]


# --- 3. Inactivity and events ---------------------------------------------------------------------

INACTIVITY_THRESHOLD_CASES = [
    # days, factor, customer's usual interval, threshold
    (90, 0, 0, 90),
    (90, 0, 30.0, 90),  # no factor: the interval plays no part
    (0, 2, 30.0, 60),
    (90, 2, 30.0, 90),  # both: the longer
    (30, 2, 30.0, 60),
    (0, 2, 0.0, None),  # one order only: no interval, no threshold
    (45, 2, 0.0, 45),
    (0, 0, 30.0, None),
    (0, 1.5, 10.1, 16),  # 15.15 days: rounded up
    (0, 1.1, 10.0, 11),  # not 12 for 11.000000000000002
]


@pytest.mark.parametrize(("days", "factor", "interval", "expected"), INACTIVITY_THRESHOLD_CASES)
def test_inactivity_threshold(days, factor, interval, expected):
    assert care.inactivity_threshold(days, factor, interval) == expected


@pytest.mark.parametrize(("days", "factor"), [(-1, 0), (0, -1), (0, math.nan), (0, math.inf), (2.5, 0)])
def test_inactivity_threshold_refuses_nonsense(days, factor):
    with pytest.raises(ValueError):
        care.inactivity_threshold(days, factor, 30.0)


INACTIVITY_DUE_CASES = [
    # last order, today, days, factor, interval, grace, last occurrence logged, occurrence due
    (date(2027, 1, 10), date(2027, 3, 11), 60, 0, 0, 7, None, date(2027, 3, 11)),
    (date(2027, 1, 10), date(2027, 3, 10), 60, 0, 0, 7, None, None),  # not yet
    (date(2027, 1, 10), date(2027, 3, 18), 60, 0, 0, 7, None, date(2027, 3, 11)),  # a late run
    (date(2027, 1, 10), date(2027, 3, 19), 60, 0, 0, 7, None, None),  # past the grace
    (date(2027, 1, 10), date(2027, 3, 11), 60, 0, 0, 0, None, date(2027, 3, 11)),
    (date(2027, 1, 10), date(2027, 3, 12), 60, 0, 0, 0, None, None),
    (date(2027, 12, 31), date(2028, 2, 29), 60, 0, 0, 7, None, date(2028, 2, 29)),  # leap day
    (date(2027, 1, 10), date(2027, 5, 10), 60, 4, 30.0, 7, None, date(2027, 5, 10)),  # 120 days
    (date(2027, 1, 10), date(2027, 3, 11), 60, 4, 30.0, 7, None, None),
    (date(2027, 1, 10), date(2027, 3, 11), 60, 0, 0, 7, date(2027, 3, 11), None),  # this episode was dealt with
    (date(2027, 1, 10), date(2027, 3, 11), 60, 0, 0, 7, date(2026, 11, 1), date(2027, 3, 11)),  # an older one
    (None, date(2027, 3, 11), 60, 0, 0, 7, None, None),  # never ordered
    (date(2027, 1, 10), date(2027, 3, 11), 0, 0, 0, 7, None, None),  # no threshold
]


@pytest.mark.parametrize(
    ("last_order", "today", "days", "factor", "interval", "grace", "logged", "expected"), INACTIVITY_DUE_CASES
)
def test_inactivity_due(last_order, today, days, factor, interval, grace, logged, expected):
    assert care.inactivity_due(last_order, today, days, factor, interval, grace, logged) == expected


def test_inactivity_daily_runs():
    """Orders on four days over two years, a rule of 60 days: one occurrence per lapse, none when
    the next order came in time; the order after a lapse starts a new episode."""
    orders = [date(2027, 1, 5), date(2027, 2, 20), date(2027, 9, 1), date(2028, 12, 1)]

    def due(today):
        last = max((d for d in orders if d <= today), default=None)
        return care.inactivity_due(last, today, days=60)

    assert daily(due) == {date(2027, 4, 21): date(2027, 4, 21), date(2027, 10, 31): date(2027, 10, 31)}


def test_inactivity_daily_runs_with_the_customers_own_interval():
    """A customer buying every 10 days, rule 30 days or 5 times the usual interval (50 days):
    the longer applies. With the cron down 5 days the occurrence is still acted on, 10 days not."""
    orders = [date(2027, 1, 1) + timedelta(days=10 * i) for i in range(8)]  # last on 2027-03-12

    def due(today):
        last = max(d for d in orders if d <= today)
        return care.inactivity_due(last, today, days=30, factor=5, usual_interval=10.0)

    assert daily(due) == {date(2027, 5, 1): date(2027, 5, 1)}
    down = {date(2027, 5, 1) + timedelta(days=i) for i in range(5)}
    assert daily(lambda today: None if today in down else due(today)) == {date(2027, 5, 1): date(2027, 5, 6)}
    down = {date(2027, 5, 1) + timedelta(days=i) for i in range(10)}
    assert daily(lambda today: None if today in down else due(today)) == {}


@pytest.mark.parametrize(
    ("event", "today", "delay", "grace", "expected"),
    [
        (date(2027, 2, 26), date(2027, 3, 1), 3, 7, date(2027, 3, 1)),  # complaint closed + 3 days
        (date(2028, 2, 26), date(2028, 2, 29), 3, 7, date(2028, 2, 29)),
        (date(2027, 2, 26), date(2027, 2, 28), 3, 7, None),
        (date(2027, 2, 26), date(2027, 3, 9), 3, 7, None),
        (date(2027, 5, 4), date(2027, 5, 4), 0, 7, date(2027, 5, 4)),  # rung up today
        (None, date(2027, 5, 4), 0, 7, None),
    ],
)
def test_event_due(event, today, delay, grace, expected):
    assert care.event_due(event, today, delay, grace) == expected


def test_complaint_closed_daily_runs():
    closed = [date(2027, 12, 30), date(2028, 6, 1)]

    def due(today):
        return next((o for c in closed if (o := care.event_due(c, today, delay_days=3))), None)

    assert daily(due) == {date(2028, 1, 2): date(2028, 1, 2), date(2028, 6, 4): date(2028, 6, 4)}


# --- 4. Control group -----------------------------------------------------------------------------

OCCURRENCE = date(2027, 2, 6)


@pytest.mark.parametrize("share", [5, 10, 25, 50, 90])
def test_held_out_share_over_10000_partners(share):
    held = sum(care.held_out(7, partner, OCCURRENCE, share) for partner in range(1, 10001))
    # the binomial standard deviation is at most 0.5 points: within 2 points is 4 of them
    assert abs(held / 100 - share) < 2


def test_held_out_none_and_all():
    assert not any(care.held_out(7, partner, OCCURRENCE, 0) for partner in range(1, 10001))
    assert all(care.held_out(7, partner, OCCURRENCE, 100) for partner in range(1, 10001))


def test_held_out_is_the_same_on_every_run():
    """Pinned draws: the same everywhere and on every run (Python's hash() is salted per
    process); a change of the draw would send to partners held out earlier in an occurrence."""
    first = [care.held_out(7, partner, OCCURRENCE, 10) for partner in range(1, 1001)]
    assert first == [care.held_out(7, partner, OCCURRENCE, 10) for partner in range(1, 1001)]
    assert [p for p in range(1, 41) if care.held_out(7, p, OCCURRENCE, 10)] == PINNED_HELD_OUT


PINNED_HELD_OUT = [1, 2, 20, 37, 40]


def test_held_out_is_drawn_afresh_per_occurrence_rule_and_salt():
    partners = range(1, 10001)
    held = {p for p in partners if care.held_out(7, p, OCCURRENCE, 10)}
    for other in (
        {p for p in partners if care.held_out(7, p, date(2028, 1, 26), 10)},
        {p for p in partners if care.held_out(8, p, OCCURRENCE, 10)},
        {p for p in partners if care.held_out(7, p, OCCURRENCE, 10, salt="db-uuid")},
    ):
        # independent draws of 10 %: about 1 % of the partners in both
        assert 50 < len(held & other) < 150


@pytest.mark.parametrize("share", [-1, 100.5, math.nan, None])
def test_held_out_share_must_be_a_percentage(share):
    with pytest.raises(ValueError, match="share_percent"):
        care.held_out(7, 1, OCCURRENCE, share)


# --- 5. Measured effect ---------------------------------------------------------------------------


def test_effect_higher_by_hand():
    """1000 sent, 120 ordered (12 %); 100 held out, 5 ordered (5 %).

    pooled share 125 / 1100 = 0.113636...; standard error sqrt(0.113636 * 0.886364 * (1/1000 +
    1/100)) = 0.0332860; z = 0.07 / 0.0332860 = 2.10299; two-sided p = 2 * (1 - Phi(2.10299)) =
    0.035466. Wald: sqrt(0.12 * 0.88 / 1000 + 0.05 * 0.95 / 100) = 0.0240956, times 1.959964 =
    0.0472265, so the difference is 0.07 +- 0.0472 = [0.02277, 0.11723].
    """
    effect = care.measure_effect(1000, 120, 100, 5)
    assert (effect.sent, effect.sent_ordered, effect.held_out, effect.held_out_ordered) == (1000, 120, 100, 5)
    assert effect.sent_rate == pytest.approx(0.12)
    assert effect.held_out_rate == pytest.approx(0.05)
    assert effect.difference == pytest.approx(0.07)
    assert effect.z == pytest.approx(2.10299, abs=1e-5)
    assert effect.p_value == pytest.approx(0.035466, abs=1e-6)
    assert effect.ci_low == pytest.approx(0.02277, abs=1e-5)
    assert effect.ci_high == pytest.approx(0.11723, abs=1e-5)
    assert effect.verdict == "higher"


def test_effect_lower_by_hand():
    """500 sent, 25 ordered (5 %); 500 held out, 50 ordered (10 %): pooled 0.075, standard error
    sqrt(0.075 * 0.925 * 2 / 500) = 0.0166583, z = -0.05 / 0.0166583 = -3.00150, p = 0.0026865."""
    effect = care.measure_effect(500, 25, 500, 50)
    assert effect.difference == pytest.approx(-0.05)
    assert effect.z == pytest.approx(-3.00150, abs=1e-5)
    assert effect.p_value == pytest.approx(0.0026865, abs=1e-7)
    assert effect.verdict == "lower"


def test_effect_no_difference():
    effect = care.measure_effect(400, 40, 100, 10)
    assert effect.difference == pytest.approx(0.0)
    assert effect.z == pytest.approx(0.0)
    assert effect.p_value == pytest.approx(1.0)
    assert effect.verdict == "no_difference"
    # 12 % against 8 % of 100: z = 0.04 / sqrt(0.1 * 0.9 * 0.02) = 0.94281, p = 0.34578
    effect = care.measure_effect(100, 12, 100, 8)
    assert effect.p_value == pytest.approx(0.34578, abs=1e-5)
    assert effect.verdict == "no_difference"


@pytest.mark.parametrize(
    ("sent", "sent_ordered", "held", "held_ordered"),
    [(1000, 120, 100, 5), (500, 25, 500, 50), (100, 12, 100, 8), (3000, 700, 300, 51)],
)
def test_effect_p_value_is_scipys(sent, sent_ordered, held, held_ordered):
    effect = care.measure_effect(sent, sent_ordered, held, held_ordered)
    assert effect.p_value == pytest.approx(2 * stats.norm.sf(abs(effect.z)), rel=1e-9)
    margin = stats.norm.ppf(0.975) * math.sqrt(
        effect.sent_rate * (1 - effect.sent_rate) / sent + effect.held_out_rate * (1 - effect.held_out_rate) / held
    )
    assert effect.ci_high - effect.difference == pytest.approx(margin, rel=1e-9)


NOT_ENOUGH_DATA_CASES = [
    # sent, ordered, held out, ordered, sent share, held-out share
    (200, 20, 20, 1, 0.1, 0.05),  # 20 held out, below 30
    (1000, 2, 100, 0, 0.002, 0.0),  # enough customers, too few orders to test
    (1000, 998, 100, 100, 0.998, 1.0),  # too few who did not order
    (0, 0, 0, 0, None, None),
    (50, 5, 0, 0, 0.1, None),  # no control group
]


@pytest.mark.parametrize(("sent", "ordered", "held", "held_ordered", "rate", "held_rate"), NOT_ENOUGH_DATA_CASES)
def test_effect_not_enough_data(sent, ordered, held, held_ordered, rate, held_rate):
    effect = care.measure_effect(sent, ordered, held, held_ordered)
    assert effect.verdict == "not_enough_data"
    assert (effect.z, effect.p_value, effect.ci_low, effect.ci_high) == (None, None, None, None)
    assert effect.sent_rate == rate
    assert effect.held_out_rate == held_rate


def test_effect_minimum_count_is_a_parameter():
    assert care.measure_effect(200, 20, 20, 1).verdict == "not_enough_data"
    assert care.measure_effect(200, 60, 20, 1, min_count=20).verdict == "higher"


@pytest.mark.parametrize(("counts", "message"), [((10, 11, 5, 1), "ordered"), ((10, 1, -5, 0), "held_out")])
def test_effect_refuses_impossible_counts(counts, message):
    with pytest.raises(ValueError, match=message):
        care.measure_effect(*counts)


def test_effect_verdicts_are_a_selection():
    codes = [code for code, _label in care.EFFECT_VERDICT_SELECTION]
    assert {"not_enough_data", "higher", "lower", "no_difference"} == set(codes)


def test_response_window():
    assert care.response_window(date(2027, 2, 6)) == (date(2027, 2, 6), date(2027, 3, 8))
    assert care.response_window(date(2028, 2, 15), 15) == (date(2028, 2, 15), date(2028, 3, 1))


# --- 6. Per-partner cap ---------------------------------------------------------------------------

CAP_CASES = [
    # last care message, today, cap days, allowed
    (None, date(2027, 3, 1), 7, True),
    (date(2027, 3, 1), date(2027, 3, 8), 7, True),
    (date(2027, 3, 1), date(2027, 3, 7), 7, False),
    (date(2027, 3, 1), date(2027, 3, 1), 0, True),  # no cap
    (date(2027, 3, 1), date(2027, 3, 1), 1, False),  # one a day
    (date(2027, 3, 1), date(2027, 3, 2), 1, True),
    (date(2028, 2, 25), date(2028, 3, 3), 7, True),  # over 29 February
    (date(2028, 2, 25), date(2028, 3, 2), 7, False),
    (date(2027, 12, 28), date(2028, 1, 27), 30, True),
    (date(2027, 12, 28), date(2028, 1, 26), 30, False),
]


@pytest.mark.parametrize(("last", "today", "cap", "expected"), CAP_CASES)
def test_cap_allows(last, today, cap, expected):
    assert care.cap_allows(last, today, cap) is expected


def test_cap_must_be_whole_days():
    with pytest.raises(ValueError, match="cap_days"):
        care.cap_allows(None, START, -7)


def test_one_customer_under_every_trigger_with_a_cap():
    """A Chinese customer born on 8 February, first order on 20 January 2027, under four rules
    and a cap of one message per 7 days, run daily over two years: what the cron would send."""
    birth, first_order, last_order = date(1990, 2, 8), date(2027, 1, 20), date(2027, 2, 1)
    rules = [  # in the order the cron takes them
        ("spring_festival", lambda today: care.holiday_due(SPRING_FESTIVAL, "CN", today, 0)),
        ("birthday", lambda today: care.yearly_due(birth, today, 0)),
        ("anniversary", lambda today: care.yearly_due(first_order, today, 0)),
        ("win_back", lambda today: care.inactivity_due(last_order, today, days=180)),
    ]
    sent, skipped, done, last_message = [], [], set(), None
    today = START
    while today <= END:
        for name, due in rules:
            occurrence = due(today)
            if occurrence is None or (name, occurrence) in done:
                continue
            done.add((name, occurrence))
            if care.cap_allows(last_message, today, 7):
                sent.append((today, name))
                last_message = today
            else:
                skipped.append((today, name))
        today += ONE_DAY
    assert sent == [
        (date(2027, 2, 6), "spring_festival"),
        (date(2027, 7, 31), "win_back"),
        (date(2028, 1, 20), "anniversary"),
        (date(2028, 2, 8), "birthday"),
    ]
    assert skipped == [(date(2027, 2, 8), "birthday"), (date(2028, 1, 26), "spring_festival")]
