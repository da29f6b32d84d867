"""Pure computation of the care rules: when an occasion is due, who is held out, what it achieved.

Nothing here reads the database. The care rule models hand in plain values (dates, codes, counts)
and get plain values back. Every trigger returns the **occurrence date** of the occasion it found,
or None. The date is the key of "sent once per occurrence": one log per (rule, partner,
occurrence). Each rule is written once here and tested table by table in tests/test_lib_care.py.

- Yearly occasions (birthday, first-purchase anniversary): `yearly_due`, and `month_days` for the
  one indexed query on month and day that finds the candidates.
- Public holidays of a country and its state (the `holidays` library), named by a key that does
  not depend on the language: `holiday_due`, `holiday_choices`, `holidays_of_year`. The rule's own
  dated occasions: `DatedOccasion`, `dated_occasions_due`.
- Win-back after inactivity: `inactivity_due`. An event some days ago (complaint closed, rung up):
  `event_due`.
- Control group: `held_out`. Effect, sent against held out: `measure_effect`, `response_window`.
- Per-partner cap across rules: `cap_allows`.
"""

import hashlib
import math
import re
from calendar import isleap
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from statistics import NormalDist
from types import MappingProxyType

import holidays as holidays_lib

# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------


def _check_days(name, value):
    """Refuse what is not a whole number, 0 or more (days, counts): a programming error, the
    models' constraints keep users' values in range."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more (got {value!r})")


def in_window(occurrence, today, days_ahead=0):
    """Whether `occurrence` falls in [today, today + days_ahead], both days included."""
    _check_days("days_ahead", days_ahead)
    return occurrence is not None and today <= occurrence <= today + timedelta(days=days_ahead)


def in_grace(occurrence, today, grace_days=7):
    """Whether `occurrence` falls in [today - grace_days, today]: it has come, and a run that is
    late by at most `grace_days` may still act on it."""
    _check_days("grace_days", grace_days)
    return occurrence is not None and today - timedelta(days=grace_days) <= occurrence <= today


# ---------------------------------------------------------------------------------------------
# 1. Yearly occasions: birthdays and first-purchase anniversaries
# ---------------------------------------------------------------------------------------------


def yearly_occurrence(origin, year):
    """The occurrence in `year` of the yearly occasion of `origin` (a birth date, the date of the
    first purchase), or None.

    A 29 February origin is celebrated on 28 February in years that are not leap years. Year 0
    (the origin itself: the day of birth, the first purchase) and the years before are not
    occurrences.
    """
    if origin is None or year <= origin.year:
        return None
    if origin.month == 2 and origin.day == 29 and not isleap(year):
        return date(year, 2, 28)
    return origin.replace(year=year)


def yearly_due(origin, today, days_ahead=0):
    """The occurrence of `origin`'s yearly occasion that falls in [today, today + days_ahead], or
    None. Across the new year too: a birthday on 2 January is 3 days ahead on 30 December and its
    occurrence is then in the next year. With several in the window (days_ahead of a year or more)
    the first one counts.
    """
    _check_days("days_ahead", days_ahead)
    if origin is None:
        return None
    end = today + timedelta(days=days_ahead)
    for year in range(today.year, end.year + 1):
        occurrence = yearly_occurrence(origin, year)
        if occurrence is not None and today <= occurrence <= end:
            return occurrence
    return None


def month_days(today, days_ahead=0):
    """The (month, day) pairs of the origins whose yearly occasion may fall in
    [today, today + days_ahead], in the order of the window, each once.

    The model selects its candidates with one indexed query on the origin's month and day; 28
    February of a year that is not a leap year also brings (2, 29), the 29 February origins
    celebrated that day. `yearly_due` then gives each candidate's occurrence (and drops year 0).
    """
    _check_days("days_ahead", days_ahead)
    pairs = {}
    for offset in range(min(days_ahead, 366) + 1):
        day = today + timedelta(days=offset)
        pairs[day.month, day.day] = True
        if day.month == 2 and day.day == 28 and not isleap(day.year):
            pairs[2, 29] = True
    return list(pairs)


# ---------------------------------------------------------------------------------------------
# 2. Public holidays and the rule's own dated occasions
# ---------------------------------------------------------------------------------------------

# The language of the holiday keys: the library's English names ("Chinese New Year (Spring
# Festival)", "Thanksgiving Day"). Every country with translations has en_US; the others (None)
# have their names written in English.
KEY_LANGUAGE = "en_US"
# Odoo language codes whose language the library spells otherwise.
_LANGUAGE_ALIASES = {"nb": "no", "nn": "no", "zh_HK": "zh_TW", "zh_MO": "zh_TW"}


@dataclass(frozen=True, slots=True)
class _Entity:
    languages: tuple
    default_language: str | None
    subdivisions: tuple
    aliases: MappingProxyType  # lower-case code or name -> subdivision code


@dataclass(frozen=True, slots=True)
class Holiday:
    """One public holiday of one day.

    `key` names it in every language: the library's English name, without the "(estimated)" mark
    of dates not yet confirmed. `name` is the library's name in the requested language, without
    that mark either; `estimated` says whether the date is still an estimate.
    """

    date: date
    key: str
    name: str
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class HolidayChoice:
    """A holiday a rule may celebrate: its key, its name in the reader's language and, for a
    regional holiday, the subdivisions that have it (empty when the whole country has it)."""

    key: str
    name: str
    subdivisions: tuple = ()


@cache
def _entity(country):
    try:
        calendar = holidays_lib.country_holidays(country)
    except NotImplementedError:
        return None
    aliases = {code.lower(): code for code in calendar.subdivisions}
    for alias, code in calendar.subdivisions_aliases.items():
        aliases.setdefault(alias.lower(), code)
    return _Entity(
        languages=tuple(calendar.supported_languages),
        default_language=calendar.default_language,
        subdivisions=tuple(calendar.subdivisions),
        aliases=MappingProxyType(aliases),
    )


def _country(country):
    return (country or "").strip().upper()


def is_supported_country(country):
    """Whether the holidays library knows the public holidays of `country` (ISO 3166 code)."""
    return bool(country) and _entity(_country(country)) is not None


def subdivisions(country):
    """The codes of the subdivisions (states, provinces...) with holidays of their own in
    `country`; empty for a country without regional holidays or unknown to the library."""
    entity = _entity(_country(country))
    return entity.subdivisions if entity else ()


def subdivision(country, state=None, state_name=None):
    """The library's subdivision of `country` for a customer's state, or None.

    `state` is Odoo's state code (res.country.state.code), matched against the library's codes and
    their aliases (e.g. FR 'GP' is '971'); `state_name` is tried next ('California'). None when the
    country has no regional holidays, or when the state is not one of them: the customer then gets
    the country's holidays only.
    """
    entity = _entity(_country(country))
    if entity is None or not entity.subdivisions:
        return None
    for value in (state, state_name):
        if value and (code := entity.aliases.get(value.strip().lower())):
            return code
    return None


def holiday_language(country, lang=None):
    """The library's language for `country` closest to Odoo's language code `lang`.

    The exact code if the library has it ('zh_CN', 'en_US'), else the same language ('fr_FR' ->
    'fr', 'en_GB' -> 'en_US'), else the country's own language. Never None when the country has
    translations: given None, the library would guess from the server's locale.
    """
    entity = _entity(_country(country))
    if entity is None or not entity.languages:
        return None
    if lang:
        lang = lang.split("@")[0]
        base = lang.split("_")[0]
        for wanted in (lang, _LANGUAGE_ALIASES.get(lang), base, _LANGUAGE_ALIASES.get(base)):
            if wanted and wanted in entity.languages:
                return wanted
        for supported in entity.languages:
            if supported.split("_")[0] == base:
                return supported
    return entity.default_language


def _label_pattern(calendar, attribute):
    """A regular expression for one of the library's labels ("%s (estimated)") as `calendar`
    writes it; its group is the name the label wraps."""
    template = getattr(calendar, attribute, None)
    if not template:
        return None
    parts = [re.escape(part) for part in calendar.tr(template).split("%s")]
    if len(parts) < 2:
        return None
    return re.compile(parts[0] + "(.+)" + ".+".join(parts[1:]) + r"\Z", re.DOTALL)


@lru_cache(maxsize=2048)
def _calendar(country, subdiv, year, language):
    """The public holidays of one year in `language` as ((date, ((name, estimated), ...)), ...),
    by date, each name without the "estimated" label.

    Observed days off (a holiday on a Sunday given on Monday) are left out, and so are the
    working-day swaps some countries publish as holidays ("Day off (substituted from ...)"): a
    customer is greeted on the holiday itself.
    """
    calendar = holidays_lib.country_holidays(country, subdiv=subdiv, years=year, language=language, observed=False)
    estimated = _label_pattern(calendar, "estimated_label")
    substituted = _label_pattern(calendar, "substituted_label")
    days = []
    for day in sorted(calendar):
        names = []
        for name in calendar.get_list(day):
            if substituted and substituted.match(name):
                continue
            match = estimated.match(name) if estimated else None
            names.append((match.group(1), True) if match else (name, False))
        if day.year == year and names:
            days.append((day, tuple(names)))
    return tuple(days)


@cache
def _translate(country, language):
    """The library's translation of `country`'s holiday names from its source into `language`."""
    if language is None or language == _entity(country).default_language:
        return str  # the source names are in the country's own language
    return holidays_lib.country_holidays(country, language=language).tr


@lru_cache(maxsize=2048)
def _names(country, subdiv, year, language):
    """((date, estimated, name), ...) of one year in `language`, in the order of the source
    calendar, so that the lists of two languages pair up.

    The calendars of two languages do not: several holidays of a day are sorted by their
    translated names. Each name of the source calendar (in the country's own language, the text
    the library's translations translate) is translated instead. A name the library composes from
    two texts ("%s 전날", the day before Korean New Year) has no translation of its own: it is then
    the only holiday of its day in the calendar of that language, when it is.
    """
    source_language = _entity(country).default_language
    translate = _translate(country, language)
    translated = None
    result = []
    for day, names in _calendar(country, subdiv, year, source_language):
        for name, estimated in names:
            text = translate(name)
            if text == name and translate is not str and len(names) == 1:
                translated = translated or dict(_calendar(country, subdiv, year, language))
                if len(only := translated.get(day, ())) == 1:
                    text = only[0][0]
            result.append((day, estimated, text))
    return tuple(result)


@lru_cache(maxsize=2048)
def _holidays(country, subdiv, year, language):
    keys = _names(country, subdiv, year, _key_language(_entity(country)))
    shown = _names(country, subdiv, year, language)
    return tuple(
        Holiday(day, key, name, estimated)
        for (day, estimated, key), (_day, _estimated, name) in zip(keys, shown, strict=True)
    )


def _key_language(entity):
    return KEY_LANGUAGE if KEY_LANGUAGE in entity.languages else entity.default_language


def holidays_of_year(country, year, state=None, lang=None):
    """The public holidays of `country` (and of the customer's `state` where the country has
    regional holidays) in `year`, by date, named in Odoo's language `lang` (see
    `holiday_language`). A holiday of several days gives one `Holiday` per day. Empty for a
    country the library does not know."""
    country = _country(country)
    if _entity(country) is None:
        return ()
    return _holidays(country, subdivision(country, state), year, holiday_language(country, lang))


@lru_cache(maxsize=2048)
def _first_days(country, subdiv, year):
    entity = _entity(country)
    first = {}
    for holiday in _holidays(country, subdiv, year, _key_language(entity)):
        first.setdefault(holiday.key, holiday.date)
    return MappingProxyType(first)


def holiday_date(key, country, year, state=None):
    """The day of the holiday `key` in `year` for a customer in `country` and `state`, or None
    when it has no such holiday that year. For a holiday of several days, the first one (Spring
    Festival 2027: 6 February, not the 7th and 8th)."""
    country = _country(country)
    if not key or _entity(country) is None:
        return None
    return _first_days(country, subdivision(country, state), year).get(key)


def holiday_due(key, country, today, days_ahead=0, state=None):
    """The day of the holiday `key` that falls in [today, today + days_ahead] for a customer in
    `country` and `state`, or None."""
    _check_days("days_ahead", days_ahead)
    end = today + timedelta(days=days_ahead)
    for year in range(today.year, end.year + 1):
        day = holiday_date(key, country, year, state)
        if day is not None and today <= day <= end:
            return day
    return None


def holiday_choices(country, years, lang=None):
    """The holidays a rule for customers in `country` may celebrate over `years`, for the rule
    form's selection: national ones first, then regional ones, each in calendar order, each key
    once, with its name in `lang` and, for a regional holiday, the subdivisions that have it."""
    country = _country(country)
    entity = _entity(country)
    if entity is None:
        return []
    language = holiday_language(country, lang)
    names, regions, national_keys, regional_keys = {}, {}, [], []
    for year in sorted(set(years)):
        for holiday in _holidays(country, None, year, language):
            if holiday.key not in names:
                names[holiday.key] = holiday.name
                national_keys.append(holiday.key)
    for code in entity.subdivisions:
        for year in sorted(set(years)):
            for holiday in _holidays(country, code, year, language):
                if holiday.key in national_keys:
                    continue
                if holiday.key not in names:
                    names[holiday.key] = holiday.name
                    regional_keys.append(holiday.key)
                regions.setdefault(holiday.key, {})[code] = True
    return [HolidayChoice(key, names[key], tuple(regions.get(key, ()))) for key in national_keys + regional_keys]


@dataclass(frozen=True, slots=True)
class DatedOccasion:
    """A date of the rule's own (a regional promotion), for customers in `countries` (country
    codes) or in `states` ((country code, Odoo state code) pairs); both empty: every customer."""

    date: date
    name: str | None = None
    countries: frozenset = frozenset()
    states: frozenset = frozenset()

    def applies_to(self, country=None, state=None):
        """Whether a customer in `country` and `state` is among this occasion's customers."""
        if not self.countries and not self.states:
            return True
        country = _country(country)
        state = (state or "").strip().upper()
        if country and country in {_country(c) for c in self.countries}:
            return True
        return bool(country and state) and (country, state) in {
            (_country(c), (s or "").strip().upper()) for c, s in self.states
        }


def dated_occasions_due(occasions, today, days_ahead=0, country=None, state=None):
    """The occasions among `occasions` that fall in [today, today + days_ahead] and apply to a
    customer in `country` and `state`, by date. Their date is the occurrence: two occasions of a
    rule on the same day are one occurrence."""
    _check_days("days_ahead", days_ahead)
    return sorted(
        (o for o in occasions if in_window(o.date, today, days_ahead) and o.applies_to(country, state)),
        key=lambda o: o.date,
    )


# ---------------------------------------------------------------------------------------------
# 3. Win-back after inactivity; an event some days ago
# ---------------------------------------------------------------------------------------------


def inactivity_threshold(days=0, factor=0.0, usual_interval=0.0):
    """Days without an order after which a customer counts as inactive, or None (no threshold).

    `days` (0: not set) is the rule's fixed number; `factor` (0: not set) times `usual_interval`,
    the customer's mean days between orders (res.partner.lifecycle_order_interval, 0 with fewer
    than two orders), adapts it to the customer, rounded up to whole days. When both apply the
    longer counts: `days` is then the least that a frequent buyer is left alone, and a buyer who
    orders once a year is not chased after `days` when a year is normal for them.
    """
    _check_days("days", days)
    if not (isinstance(factor, int | float) and math.isfinite(factor) and factor >= 0):
        raise ValueError(f"factor must be a finite number, 0 or more (got {factor!r})")
    candidates = [days] if days else []
    if factor and usual_interval and usual_interval > 0:
        # rounded to 6 places first: 1.1 * 10 is 11.000000000000002, not 12 days
        candidates.append(math.ceil(round(factor * usual_interval, 6)))
    return max(candidates) if candidates else None


def inactivity_due(last_order, today, days=0, factor=0.0, usual_interval=0.0, grace_days=7, last_occurrence=None):
    """The day the customer became inactive (last order + threshold, see `inactivity_threshold`)
    when it falls in [today - grace_days, today], or None.

    One episode of inactivity has one occurrence; an order starts a new episode (a later last
    order, so a later occurrence). A day already past the grace is not acted on: a rule created
    today does not write to every customer who left years ago. `last_occurrence` is the latest
    occurrence already logged for this rule and partner: if it is after `last_order` this episode
    was dealt with, even if the threshold has moved since (the usual interval changed).
    """
    _check_days("grace_days", grace_days)
    threshold = inactivity_threshold(days, factor, usual_interval)
    if last_order is None or threshold is None:
        return None
    if last_occurrence is not None and last_occurrence > last_order:
        return None
    occurrence = last_order + timedelta(days=threshold)
    return occurrence if in_grace(occurrence, today, grace_days) else None


def event_due(event_day, today, delay_days=0, grace_days=7):
    """`event_day` + `delay_days` (a complaint closed, a rung reached) when it falls in
    [today - grace_days, today], or None: the occurrence of care that follows an event."""
    _check_days("delay_days", delay_days)
    if event_day is None:
        return None
    occurrence = event_day + timedelta(days=delay_days)
    return occurrence if in_grace(occurrence, today, grace_days) else None


# ---------------------------------------------------------------------------------------------
# 4. Control group
# ---------------------------------------------------------------------------------------------


def _check_share(share_percent):
    if not (isinstance(share_percent, int | float) and math.isfinite(share_percent) and 0 <= share_percent <= 100):
        raise ValueError(f"share_percent must be between 0 and 100 (got {share_percent!r})")


def held_out(rule_id, partner_id, occurrence_date, share_percent, salt=""):
    """Whether the partner is held out of the rule's occurrence (logged, not sent): a draw that
    is random across partners and occurrences but always the same for the same ones.

    SHA-256 of (salt, rule, partner, occurrence) read as a number in [0, 1): held out when it is
    below share_percent / 100. A re-run, or two runs at once, make the same choice, and a partner
    held out of one birthday is drawn afresh on the next. Share 0 holds no one out, 100 everyone.
    """
    _check_share(share_percent)
    if share_percent <= 0:
        return False
    if share_percent >= 100:
        return True
    text = f"{salt}|{rule_id}|{partner_id}|{occurrence_date.isoformat()}"
    draw = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64
    return draw * 100 < share_percent


# ---------------------------------------------------------------------------------------------
# 5. Measured effect
# ---------------------------------------------------------------------------------------------

EFFECT_VERDICT_SELECTION = [
    ("not_enough_data", "Not enough data"),
    ("higher", "More customers ordered after a message"),
    ("lower", "Fewer customers ordered after a message"),
    ("no_difference", "No clear difference"),
]


def response_window(occurrence, days=30):
    """The days [start, end) in which an order counts as a response to the occurrence: the
    occurrence day and the `days` - 1 days after it, the same for sent and held out."""
    _check_days("days", days)
    return occurrence, occurrence + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class Effect:
    """What a rule achieved: the share of customers who ordered in the response window among
    those sent a message and among those held out, with the counts behind both.

    Shares and `difference` (sent minus held out) are fractions (0.12 is 12 %), None when a group
    is empty. `z` and `p_value` are the pooled two-proportion z-test, `ci_low`/`ci_high` the
    Wald confidence interval of the difference; all None when `verdict` is "not_enough_data".
    """

    sent: int
    sent_ordered: int
    held_out: int
    held_out_ordered: int
    sent_rate: float | None
    held_out_rate: float | None
    difference: float | None
    z: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    verdict: str


def measure_effect(sent, sent_ordered, held_out, held_out_ordered, min_count=30, confidence=0.95):
    """Compare the share of customers who ordered after a message with the share among those
    held out.

    The test needs at least `min_count` customers in each group, and at least 5 expected to
    order and 5 expected not to in each at the pooled share (below that the normal approximation
    misleads): otherwise the verdict is "not_enough_data". Else "higher" or "lower" when the
    two-sided p-value is below 1 - `confidence`, "no_difference" when it is not.
    """
    for name, value in (
        ("sent", sent),
        ("sent_ordered", sent_ordered),
        ("held_out", held_out),
        ("held_out_ordered", held_out_ordered),
        ("min_count", min_count),
    ):
        _check_days(name, value)
    if sent_ordered > sent or held_out_ordered > held_out:
        raise ValueError("more customers ordered than the group holds")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence!r})")
    sent_rate = sent_ordered / sent if sent else None
    held_rate = held_out_ordered / held_out if held_out else None
    difference = sent_rate - held_rate if sent and held_out else None
    z = p_value = ci_low = ci_high = None
    verdict = "not_enough_data"
    pooled = (sent_ordered + held_out_ordered) / (sent + held_out) if sent + held_out else 0.0
    if (
        min(sent, held_out) >= max(min_count, 1)
        and min(sent, held_out) * pooled >= 5
        and min(sent, held_out) * (1 - pooled) >= 5
    ):
        se = math.sqrt(pooled * (1 - pooled) * (1 / sent + 1 / held_out))
        z = difference / se
        p_value = math.erfc(abs(z) / math.sqrt(2))
        margin = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(
            sent_rate * (1 - sent_rate) / sent + held_rate * (1 - held_rate) / held_out
        )
        ci_low, ci_high = difference - margin, difference + margin
        significant = p_value < 1 - confidence
        verdict = ("higher" if difference > 0 else "lower") if significant else "no_difference"
    return Effect(
        sent=sent,
        sent_ordered=sent_ordered,
        held_out=held_out,
        held_out_ordered=held_out_ordered,
        sent_rate=sent_rate,
        held_out_rate=held_rate,
        difference=difference,
        z=z,
        p_value=p_value,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        verdict=verdict,
    )


# ---------------------------------------------------------------------------------------------
# 6. Per-partner cap
# ---------------------------------------------------------------------------------------------


def cap_allows(last_message, today, cap_days):
    """Whether a partner whose last care message (of any rule) was on `last_message` (None: never)
    may get another today, with at most one per `cap_days` days (0: no cap). With a cap of 7, a
    message on the 1st allows the next on the 8th."""
    _check_days("cap_days", cap_days)
    if not cap_days or last_message is None:
        return True
    return (today - last_message).days >= cap_days
