"""A small dayjs ``fromNow()`` renderer for tests, written from the dayjs sources.

It is kept apart from ``parsers.reltime`` on purpose: it renders forwards, step by
step as dayjs does, in any server time zone, while the parser inverts. Locale strings
are those of dayjs ``src/locale/*.js``; thresholds are relativeTime's defaults.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EN = {
    "past": "%s ago",
    "future": "in %s",
    "s": "a few seconds",
    "m": "a minute",
    "mm": "%d minutes",
    "h": "an hour",
    "hh": "%d hours",
    "d": "a day",
    "dd": "%d days",
    "M": "a month",
    "MM": "%d months",
    "y": "a year",
    "yy": "%d years",
}
ES = {
    "past": "hace %s",
    "future": "en %s",
    "s": "unos segundos",
    "m": "un minuto",
    "mm": "%d minutos",
    "h": "una hora",
    "hh": "%d horas",
    "d": "un día",
    "dd": "%d días",
    "M": "un mes",
    "MM": "%d meses",
    "y": "un año",
    "yy": "%d años",
}
FR = {
    "past": "il y a %s",
    "future": "dans %s",
    "s": "quelques secondes",
    "m": "une minute",
    "mm": "%d minutes",
    "h": "une heure",
    "hh": "%d heures",
    "d": "un jour",
    "dd": "%d jours",
    "M": "un mois",
    "MM": "%d mois",
    "y": "un an",
    "yy": "%d ans",
}
SV = {
    "past": "för %s sedan",
    "future": "om %s",
    "s": "några sekunder",
    "m": "en minut",
    "mm": "%d minuter",
    "h": "en timme",
    "hh": "%d timmar",
    "d": "en dag",
    "dd": "%d dagar",
    "M": "en månad",
    "MM": "%d månader",
    "y": "ett år",
    "yy": "%d år",
}
EL = {
    "past": "πριν %s",
    "future": "σε %s",
    "s": "μερικά δευτερόλεπτα",
    "m": "ένα λεπτό",
    "mm": "%d λεπτά",
    "h": "μία ώρα",
    "hh": "%d ώρες",
    "d": "μία μέρα",
    "dd": "%d μέρες",
    "M": "ένα μήνα",
    "MM": "%d μήνες",
    "y": "ένα χρόνο",
    "yy": "%d χρόνια",
}
# fromNow() passes withoutSuffix=false, so German takes the dative form both ways.
DE = {
    "past": "vor %s",
    "future": "in %s",
    "s": "ein paar Sekunden",
    "m": "einer Minute",
    "mm": "%d Minuten",
    "h": "einer Stunde",
    "hh": "%d Stunden",
    "d": "einem Tag",
    "dd": "%d Tagen",
    "M": "einem Monat",
    "MM": "%d Monaten",
    "y": "einem Jahr",
    "yy": "%d Jahren",
}
FI_PAST = {
    "past": "%s sitten",
    "s": "muutama sekunti",
    "m": "minuutti",
    "mm": "%d minuuttia",
    "h": "tunti",
    "hh": "%d tuntia",
    "d": "päivä",
    "dd": "%d päivää",
    "M": "kuukausi",
    "MM": "%d kuukautta",
    "y": "vuosi",
    "yy": "%d vuotta",
}
FI_FUTURE = {
    "future": "%s päästä",
    "s": "muutaman sekunnin",
    "m": "minuutin",
    "mm": "%d minuutin",
    "h": "tunnin",
    "hh": "%d tunnin",
    "d": "päivän",
    "dd": "%d päivän",
    "M": "kuukauden",
    "MM": "%d kuukauden",
    "y": "vuoden",
    "yy": "%d vuoden",
}
FI_NUMBERS_PAST = (
    "nolla yksi kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän"
)
FI_NUMBERS_FUTURE = (
    "nollan yhden kahden kolmen neljän viiden kuuden seitsemän kahdeksan yhdeksän"
)

LOCALES = {
    "de": DE,
    "el": EL,
    "en": EN,
    "en-au": EN,
    "en-gb": EN,
    "es": ES,
    "es-us": ES,
    "fr": FR,
    "fr-ca": FR,
    "sv": SV,
    "sv-fi": SV,
    "fi": FI_PAST,
}

SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000


def js_round(value: float) -> int:
    """JavaScript's Math.round: halves go up."""
    return math.floor(value + 0.5)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, truncated as dayjs truncates the API's microseconds."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def from_ms(ms: int, zone: ZoneInfo) -> datetime:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).astimezone(
        zone
    )


def add_months(local: datetime, months: int, zone: ZoneInfo) -> int:
    """dayjs add(n, 'month') on a local time: same wall clock, day clamped; as ms."""
    index = local.year * 12 + local.month - 1 + months
    year, month = index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    wall = local.replace(tzinfo=None).replace(year=year, month=month, day=day)
    return to_ms(wall.replace(tzinfo=zone))


def month_diff(a_ms: int, b_ms: int, zone: ZoneInfo) -> float:
    """moment's monthDiff(a, b), on the server's local calendar."""
    a, b = from_ms(a_ms, zone), from_ms(b_ms, zone)
    if a.day < b.day:
        return -month_diff(b_ms, a_ms, zone)
    whole = (b.year - a.year) * 12 + (b.month - a.month)
    anchor = add_months(a, whole, zone)
    if b_ms - anchor < 0:
        other = add_months(a, whole - 1, zone)
        fraction = (b_ms - anchor) / (anchor - other)
    else:
        other = add_months(a, whole + 1, zone)
        fraction = (b_ms - anchor) / (other - anchor)
    return -(whole + fraction) or 0.0


def offset_minutes(ms: int, zone: ZoneInfo) -> int:
    offset = from_ms(ms, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def relative_key(update: datetime, now: datetime, zone: ZoneInfo) -> tuple[str, int]:
    """The dayjs key and rounded number for ``update`` seen at ``now``."""
    this, that = to_ms(update), to_ms(now)
    diff = this - that
    zone_delta = (offset_minutes(that, zone) - offset_minutes(this, zone)) * MINUTE
    steps: list[tuple[str, int | None, float | None]] = [
        ("s", 44, diff / SECOND),
        ("m", 89, None),
        ("mm", 44, diff / MINUTE),
        ("h", 89, None),
        ("hh", 21, diff / HOUR),
        ("d", 35, None),
        ("dd", 25, (diff - zone_delta) / DAY),
        ("M", 45, None),
        ("MM", 10, month_diff(this, that, zone)),
        ("y", 17, None),
        ("yy", None, month_diff(this, that, zone) / 12),
    ]
    result = 0.0
    for index, (key, limit, value) in enumerate(steps):
        if value is not None:
            result = value
        number = js_round(abs(result))
        if limit is None or number <= limit:
            if number <= 1 and index > 0:
                key = steps[index - 1][0]
            return key, number
    raise AssertionError("unreachable")


def from_now(
    update: datetime, now: datetime, locale: str, zone: ZoneInfo | None = None
) -> str:
    """What ``dayjs(update).fromNow()`` shows at ``now`` in a dayjs ``locale``."""
    zone = zone or ZoneInfo("UTC")
    key, number = relative_key(update, now, zone)
    future = to_ms(update) - to_ms(now) > 0
    table = LOCALES[locale]
    if locale == "fi":
        table = FI_FUTURE if future else FI_PAST
        words = (FI_NUMBERS_FUTURE if future else FI_NUMBERS_PAST).split()
        shown = words[number] if number < 10 else str(number)
    else:
        shown = str(number)
    phrase = table[key].replace("%d", shown)
    return table["future" if future else "past"].replace("%s", phrase)
