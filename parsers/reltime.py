"""Invert dayjs ``fromNow()`` strings into the interval of update times they stand for.

The Kausal Watch UI renders ``dayjs(updatedAt).fromNow()`` in whatever dayjs locale the
server process last switched to, so a page in one language may carry relative times in
another. A string is therefore recognised by trying every locale the UI loads.

dayjs walks a table of thresholds: at each step it rounds (half up, as ``Math.round``)
the absolute difference in that step's unit and stops at the first step whose limit is
not exceeded; a plural step that rounds to 1 or less falls back to the previous,
singular key. Months and years come from a calendar month difference (moment's
``monthDiff``), so the interval is found by bisecting over the age with the same walk
(in UTC), which is monotonic in the age up to the small steps noted below.

What the bisection cannot see is absorbed by widening the interval:
- dayjs keeps milliseconds (it truncates the API's microseconds): 1 ms.
- day differences subtract the server's UTC offset change (DST): 1 hour.
- month and year keys: moment's monthDiff has small non-monotonic steps around short
  months and runs on the server's unknown local calendar: 3 days.
``observed_at`` is taken to be the moment the page was rendered.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parsers.records import TimeRange

__all__ = ["LOCALES", "RelativeTime", "detect_locale", "match", "parse_relative"]

# The relative-time strings of each dayjs locale the UI imports. Locales that share
# their strings are one entry: en (en-au, en-gb), es (es-us), fr (fr-ca), sv (sv-fi).
# "past"/"future" wrap a unit phrase; "%d" marks the number. Extra phrasings dayjs
# does not produce today (older locale versions, nominative German) are accepted too.
_LOCALE_DATA: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "past": ("%s ago",),
        "future": ("in %s",),
        "s": ("a few seconds",),
        "m": ("a minute",),
        "mm": ("%d minutes",),
        "h": ("an hour",),
        "hh": ("%d hours",),
        "d": ("a day",),
        "dd": ("%d days",),
        "M": ("a month",),
        "MM": ("%d months",),
        "y": ("a year",),
        "yy": ("%d years",),
    },
    "de": {
        "past": ("vor %s",),
        "future": ("in %s",),
        "s": ("ein paar Sekunden",),
        "m": ("einer Minute", "eine Minute"),
        "mm": ("%d Minuten",),
        "h": ("einer Stunde", "eine Stunde"),
        "hh": ("%d Stunden",),
        "d": ("einem Tag", "ein Tag"),
        "dd": ("%d Tagen", "%d Tage"),
        "M": ("einem Monat", "ein Monat"),
        "MM": ("%d Monaten", "%d Monate"),
        "y": ("einem Jahr", "ein Jahr"),
        "yy": ("%d Jahren", "%d Jahre"),
    },
    "el": {
        "past": ("πριν %s",),
        "future": ("σε %s",),
        "s": ("μερικά δευτερόλεπτα",),
        "m": ("ένα λεπτό",),
        "mm": ("%d λεπτά",),
        "h": ("μία ώρα",),
        "hh": ("%d ώρες",),
        "d": ("μία μέρα",),
        "dd": ("%d μέρες",),
        "M": ("ένα μήνα",),
        "MM": ("%d μήνες",),
        "y": ("ένα χρόνο",),
        "yy": ("%d χρόνια",),
    },
    "es": {
        "past": ("hace %s",),
        "future": ("en %s",),
        "s": ("unos segundos",),
        "m": ("un minuto",),
        "mm": ("%d minutos",),
        "h": ("una hora",),
        "hh": ("%d horas",),
        "d": ("un día",),
        "dd": ("%d días",),
        "M": ("un mes",),
        "MM": ("%d meses",),
        "y": ("un año",),
        "yy": ("%d años",),
    },
    "fi": {
        "past": ("%s sitten",),
        "s": ("muutama sekunti",),
        "m": ("minuutti",),
        "mm": ("%d minuuttia",),
        "h": ("tunti",),
        "hh": ("%d tuntia",),
        "d": ("päivä",),
        "dd": ("%d päivää",),
        "M": ("kuukausi",),
        "MM": ("%d kuukautta",),
        "y": ("vuosi",),
        "yy": ("%d vuotta",),
    },
    # Finnish future phrases use the genitive; "kuluttua" is the pre-2020 suffix.
    "fi-future": {
        "future": ("%s päästä", "%s kuluttua"),
        "s": ("muutaman sekunnin",),
        "m": ("minuutin",),
        "mm": ("%d minuutin",),
        "h": ("tunnin",),
        "hh": ("%d tunnin",),
        "d": ("päivän",),
        "dd": ("%d päivän",),
        "M": ("kuukauden",),
        "MM": ("%d kuukauden",),
        "y": ("vuoden",),
        "yy": ("%d vuoden",),
    },
    "fr": {
        "past": ("il y a %s",),
        "future": ("dans %s",),
        "s": ("quelques secondes",),
        "m": ("une minute",),
        "mm": ("%d minutes",),
        "h": ("une heure",),
        "hh": ("%d heures",),
        "d": ("un jour",),
        "dd": ("%d jours",),
        "M": ("un mois",),
        "MM": ("%d mois",),
        "y": ("un an",),
        "yy": ("%d ans",),
    },
    "sv": {
        "past": ("för %s sedan",),
        "future": ("om %s",),
        "s": ("några sekunder",),
        "m": ("en minut",),
        "mm": ("%d minuter",),
        "h": ("en timme",),
        "hh": ("%d timmar",),
        "d": ("en dag",),
        "dd": ("%d dagar",),
        "M": ("en månad",),
        "MM": ("%d månader",),
        "y": ("ett år",),
        "yy": ("%d år",),
    },
}

# Finnish writes numbers below ten as words (nominative past, genitive future).
_FINNISH_NUMBERS: dict[str, int] = {
    word: value
    for words in (
        "nolla yksi kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän",
        "nollan yhden kahden kolmen neljän viiden kuuden seitsemän kahdeksan yhdeksän",
    )
    for value, word in enumerate(words.split())
}

# dayjs locale names (as the UI registers them) -> the entry holding their strings.
LOCALES: dict[str, str] = {
    "de": "de",
    "el": "el",
    "en": "en",
    "en-au": "en",
    "en-gb": "en",
    "es": "es",
    "es-us": "es",
    "fi": "fi",
    "fr": "fr",
    "fr-ca": "fr",
    "sv": "sv",
    "sv-fi": "sv",
}

_MS = timedelta(milliseconds=1)
_SECOND, _MINUTE, _HOUR, _DAY = 1_000, 60_000, 3_600_000, 86_400_000
_MONTH, _YEAR = "month", "year"

# dayjs relativeTime defaults: (key, limit on the rounded value, unit of the step).
# A step without a unit reuses the previous step's difference.
_THRESHOLDS: tuple[tuple[str, int | None, int | str | None], ...] = (
    ("s", 44, _SECOND),
    ("m", 89, None),
    ("mm", 44, _MINUTE),
    ("h", 89, None),
    ("hh", 21, _HOUR),
    ("d", 35, None),
    ("dd", 25, _DAY),
    ("M", 45, None),
    ("MM", 10, _MONTH),
    ("y", 17, None),
    ("yy", None, _YEAR),
)
_KEY_INDEX = {key: index for index, (key, _, _) in enumerate(_THRESHOLDS)}
_PLURAL = frozenset({"mm", "hh", "dd", "MM", "yy"})
_DAY_KEYS = frozenset({"d", "dd"})
_MONTH_KEYS = frozenset({"M", "MM", "y", "yy"})
_MAX_YEARS = 1000
# Day differences subtract the server's DST change (at most an hour).
_DST_SLACK = timedelta(hours=1)
# moment's monthDiff is not monotonic around short months, and runs on the server's
# unknown local calendar: measured boundary shifts reach 36 h (UTC-11..UTC+14), so the
# month keys are widened by twice that.
_CALENDAR_SLACK = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class RelativeTime:
    """What a relative-time string says: its locale, dayjs key, number and direction."""

    locale: str
    key: str
    number: int | None  # None for the singular keys ("a month")
    future: bool


def normalise(text: str) -> str:
    """Fold case, soft hyphens and every kind of whitespace (NBSP included)."""
    text = text.replace("\u00ad", "").replace("\u200b", "")
    return " ".join(text.split()).casefold()


# -- recognising the string ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pattern:
    locale: str
    key: str
    future: bool
    prefix: str  # the wrapper around the unit phrase, normalised
    suffix: str
    phrase: str  # the unit phrase; "%d" marks the number


def _pattern_table() -> Iterator[_Pattern]:
    for entry, data in _LOCALE_DATA.items():
        locale = entry.removesuffix("-future")
        for future in (False, True):
            for wrapper in data.get("future" if future else "past", ()):
                prefix, _, suffix = normalise(wrapper).partition("%s")
                for key, _, _ in _THRESHOLDS:
                    for phrase in data[key]:
                        yield _Pattern(
                            locale, key, future, prefix, suffix, normalise(phrase)
                        )


_PATTERNS = tuple(_pattern_table())
_WRAPPERS = tuple(dict.fromkeys((p.prefix, p.suffix) for p in _PATTERNS))
# Per wrapper: whole unit phrases, and numbered ones by the text after the number
# (every numbered phrase starts with its number), each to its patterns in order.
_WHOLE: dict[tuple[str, str], dict[str, list[int]]] = {w: {} for w in _WRAPPERS}
_NUMBERED: dict[tuple[str, str], dict[str, list[int]]] = {w: {} for w in _WRAPPERS}
for _index, _p in enumerate(_PATTERNS):
    _wrapper = (_p.prefix, _p.suffix)
    if _p.phrase.startswith("%d"):
        _NUMBERED[_wrapper].setdefault(_p.phrase[2:], []).append(_index)
    else:
        _WHOLE[_wrapper].setdefault(_p.phrase, []).append(_index)
_NUMBER_TOKEN = re.compile(r"\d+|[^\W\d_]+")
# The wrappers a string may be in, by its last word (suffix wrappers such as
# "%s ago") or its first word (prefix wrappers such as "vor %s").
_BY_EDGE: dict[str, list[tuple[str, str]]] = {}
for _wrapper in _WRAPPERS:
    _edge = _wrapper[1].split()[-1] if _wrapper[1].strip() else _wrapper[0].split()[0]
    _BY_EDGE.setdefault(_edge, []).append(_wrapper)


def _number(raw: str | None, locale: str) -> int | None:
    if raw is None:
        return None
    if raw.isdecimal():
        return int(raw)
    return _FINNISH_NUMBERS.get(raw) if locale == "fi" else None


def match(text: str) -> RelativeTime | None:
    """Recognise ``text`` as a relative time in any supported locale, or ``None``.

    Where phrasings of several locales fit, the first in the table wins.
    """
    folded = normalise(text)
    best: tuple[int, int | None] | None = None
    first, _, _ = folded.partition(" ")
    _, _, last = folded.rpartition(" ")
    wrappers = _BY_EDGE.get(last, []) + _BY_EDGE.get(first, [])
    for prefix, suffix in wrappers:
        if not (folded.startswith(prefix) and folded.endswith(suffix)):
            continue
        inner = folded[len(prefix) : len(folded) - len(suffix)]
        if not inner or len(prefix) + len(suffix) > len(folded):
            continue
        for index in _WHOLE[prefix, suffix].get(inner, ()):
            if best is None or index < best[0]:
                best = (index, None)
            break
        token, space, rest = inner.partition(" ")
        if not _NUMBER_TOKEN.fullmatch(token):
            continue
        for index in _NUMBERED[prefix, suffix].get(space + rest, ()):
            if best is not None and index > best[0]:
                break
            number = _number(token, _PATTERNS[index].locale)
            if number is not None:
                best = (index, number)
                break
    if best is None:
        return None
    found = _PATTERNS[best[0]]
    number = best[1] if found.key in _PLURAL else None
    return RelativeTime(found.locale, found.key, number, found.future)


def detect_locale(text: str) -> str | None:
    """The locale family ("en", "fi", "sv", ...) whose dayjs strings ``text`` is in."""
    found = match(text)
    return found.locale if found else None


# -- the dayjs walk --------------------------------------------------------------------


def _add_months(moment: datetime, months: int) -> datetime:
    # dayjs keeps the day of month, clamped to the target month's length.
    year, month0 = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return moment.replace(year=year, month=month0 + 1, day=min(moment.day, last))


def _month_diff(a: datetime, b: datetime) -> float:
    """moment's monthDiff as dayjs uses it: months from ``b`` back to ``a``, signed."""
    if a.day < b.day:
        return -_month_diff(b, a)
    whole = (b.year - a.year) * 12 + (b.month - a.month)
    anchor = _add_months(a, whole)
    before = b < anchor
    other = _add_months(a, whole + (-1 if before else 1))
    span = (anchor - other) if before else (other - anchor)
    return -(whole + (b - anchor) / span) or 0.0


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)


def _rank(update: datetime, now: datetime) -> tuple[int, int]:
    """(threshold index, number) that dayjs renders ``update`` as at ``now``."""
    diff_ms = (update - now) // _MS
    result: float = 0.0
    for index, (key, limit, unit) in enumerate(_THRESHOLDS):
        if unit == _MONTH:
            result = _month_diff(update, now)
        elif unit == _YEAR:
            result = _month_diff(update, now) / 12
        elif isinstance(unit, int):
            result = diff_ms / unit
        rounded = _js_round(abs(result))
        if limit is None or rounded <= limit:
            if rounded <= 1 and index > 0:
                index -= 1
                key = _THRESHOLDS[index][0]
            return index, rounded if key in _PLURAL else 0
    raise AssertionError("the last threshold has no limit")  # pragma: no cover


def _first_age(predicate: Callable[[int], bool], low: int, high: int) -> int | None:
    """Smallest age in [low, high] (ms) for which ``predicate`` holds, if any."""
    if not predicate(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _age_range(found: RelativeTime, now: datetime) -> tuple[int, int] | None:
    target = (_KEY_INDEX[found.key], found.number if found.key in _PLURAL else 0)
    sign = 1 if found.future else -1
    years = (found.number or 1) if found.key == "yy" else 2
    high = (years + 2) * 366 * _DAY
    low = 1 if found.future else 0  # a zero difference renders as past

    def rank(age: int) -> tuple[int, int]:
        return _rank(now + sign * age * _MS, now)

    first = _first_age(lambda age: rank(age) >= target, low, high)
    after = _first_age(lambda age: rank(age) > target, low, high)
    if first is None or after is None or after <= first:
        return None
    return first, after - 1


def parse_relative(text: str, observed_at: datetime) -> TimeRange | None:
    """The interval of update times that dayjs renders as ``text`` at ``observed_at``.

    ``observed_at`` must be timezone-aware. Returns ``None`` for a string in no
    supported locale, or one dayjs never renders ("1 days ago", "40 days ago"), and
    near the calendar's ends, where the ages it weighs fall off it.
    """
    if observed_at.tzinfo is None:
        raise ValueError(f"observed_at must be timezone-aware, got {observed_at!r}")
    found = match(text)
    if found is None or (found.number or 0) > _MAX_YEARS:
        return None

    try:
        return _interval(found, observed_at.astimezone(UTC))
    except OverflowError:  # before the year 1 or after 9999
        return None


@functools.lru_cache(maxsize=1024)
def _interval(found: RelativeTime, now: datetime) -> TimeRange | None:
    # A table repeats its strings ("vuosi sitten" on many rows) at one time: the
    # bisection runs once per distinct string.
    ages = _age_range(found, now)
    if ages is None:
        return None

    young, old = _slack(found.key)
    if found.future:
        earliest, latest = now + ages[0] * _MS - young, now + ages[1] * _MS + old
    else:
        earliest, latest = now - ages[1] * _MS - old, now - ages[0] * _MS + young
    return TimeRange(exact=None, earliest=earliest, latest=latest)


def _slack(key: str) -> tuple[timedelta, timedelta]:
    """Widening at the young and the old end of a key's ages (see the module notes)."""
    young = old = _MS  # dayjs truncates to milliseconds
    if key in _DAY_KEYS or key == "M":  # "a month" begins at 26 rounded days
        young += _DST_SLACK
    if key in _DAY_KEYS:
        old += _DST_SLACK
    if key in _MONTH_KEYS:
        old += _CALENDAR_SLACK
    if key in _MONTH_KEYS - {"M"}:
        young += _CALENDAR_SLACK
    return young, old
