"""parsers.reltime: dayjs relative times back to intervals of update times."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parsers import reltime
from parsers.records import TimeRange
from parsers.reltime import detect_locale, parse_relative
from tests.dayjs_render import LOCALES, from_now, relative_key

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kausal-watch"
CASES = FIXTURES / "reltime-cases.json"
NOW = datetime(2026, 12, 4, 16, 22, 58, 414000, tzinfo=UTC)
MS = timedelta(milliseconds=1)
DAY_MS = 86_400_000
FIVE_YEARS_MS = 5 * 366 * DAY_MS
# Server time zones to render in: the parser must not depend on the server's zone.
ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Helsinki",
        "America/Los_Angeles",
        "Australia/Lord_Howe",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
    )
]
# Ages just around dayjs's thresholds (ms): 44.5 s, 89.5 s, 44.5 min, 89.5 min, 21.5 h,
# 35.5 h, 25.5 d, 45.5 d, and month and year halves on a 30.44-day month.
BOUNDARIES = [44_500, 89_500, 2_670_000, 5_370_000, 77_400_000, 127_800_000]
BOUNDARIES += [int(days * DAY_MS) for days in (25.5, 45.5)]
BOUNDARIES += [int((months + 0.5) * 30.44 * DAY_MS) for months in range(1, 60)]

moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.just(UTC),
)
near_boundary = st.builds(
    lambda base, jitter: max(0, base + jitter),
    st.sampled_from(BOUNDARIES),
    st.integers(-4 * DAY_MS, 4 * DAY_MS) | st.integers(-2_000, 2_000),
)
ages = st.integers(0, FIVE_YEARS_MS) | near_boundary


def bounds(found: TimeRange | None) -> tuple[datetime, datetime]:
    """The interval's ends, after checking that there is an interval."""
    assert found is not None
    assert found.exact is None
    assert found.earliest is not None
    assert found.latest is not None
    return found.earliest, found.latest


def slack(update: datetime, now: datetime) -> timedelta:
    """The widening the parser documents for the key dayjs used (months excluded)."""
    key, _ = relative_key(update, now, ZoneInfo("UTC"))
    return MS + (timedelta(hours=1) if key in ("d", "dd") else timedelta(0))


@settings(max_examples=400, deadline=None)
@given(
    age=ages,
    now=moments,
    locale=st.sampled_from(sorted(LOCALES)),
    zone=st.sampled_from(ZONES),
    future=st.booleans(),
)
@example(age=0, now=NOW, locale="fi", zone=ZONES[0], future=False)
@example(age=44_499, now=NOW, locale="en", zone=ZONES[0], future=False)
@example(age=44_500, now=NOW, locale="de", zone=ZONES[0], future=True)
def test_rendered_string_parses_to_an_interval_holding_the_true_time(
    age: int, now: datetime, locale: str, zone: ZoneInfo, future: bool
) -> None:
    update = now + (1 if future else -1) * age * MS
    text = from_now(update, now, locale, zone)

    earliest, latest = bounds(parse_relative(text, now))

    assert earliest <= update <= latest, text


@settings(max_examples=300, deadline=None)
@given(age=st.integers(0, 45 * DAY_MS) | near_boundary, now=moments)
def test_intervals_below_a_month_are_exact_up_to_the_documented_slack(
    age: int, now: datetime
) -> None:
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    update = now - age * MS
    text = from_now(update, now, "en")
    if relative_key(update, now, ZoneInfo("UTC"))[0] in ("M", "MM", "y", "yy"):
        return

    earliest, latest = bounds(parse_relative(text, now))

    first = earliest + slack(update, now)
    last = latest - slack(update, now)
    assert from_now(first, now, "en") == text
    assert from_now(last, now, "en") == text
    assert from_now(first - MS, now, "en") != text
    assert from_now(last + MS, now, "en") != text


@settings(max_examples=150, deadline=None)
@given(age=ages, now=moments, locale=st.sampled_from(sorted(LOCALES)))
def test_parsing_is_deterministic_and_ignores_case_and_spacing(
    age: int, now: datetime, locale: str
) -> None:
    text = from_now(now - age * MS, now, locale)
    messy = "  " + text.upper().replace(" ", "\u00a0 ") + "\n"

    assert parse_relative(text, now) == parse_relative(text, now)
    assert parse_relative(messy, now) == parse_relative(text, now)


@pytest.mark.parametrize(
    ("text", "youngest", "oldest"),
    [
        # N days: ±12 h around N, widened by an hour for DST.
        ("3 days ago", timedelta(days=2, hours=11), timedelta(days=3, hours=13)),
        ("hace 3 días", timedelta(days=2, hours=11), timedelta(days=3, hours=13)),
        ("vor 17 Tagen", timedelta(days=16, hours=11), timedelta(days=17, hours=13)),
        ("päivä sitten", timedelta(hours=20, minutes=30), timedelta(days=1, hours=13)),
        ("an hour ago", timedelta(minutes=44, seconds=30), timedelta(minutes=90)),
        ("a minute ago", timedelta(seconds=44.5), timedelta(seconds=90)),
        ("πριν 5 λεπτά", timedelta(minutes=4, seconds=30), timedelta(minutes=5.5)),
        ("il y a 21 heures", timedelta(hours=20.5), timedelta(hours=21.5)),
        ("a few seconds ago", timedelta(0), timedelta(seconds=44.5)),
    ],
)
def test_short_ages_give_the_documented_bounds(
    text: str, youngest: timedelta, oldest: timedelta
) -> None:
    earliest, latest = bounds(parse_relative(text, NOW))

    assert abs((NOW - latest) - youngest) <= MS
    assert abs((NOW - earliest) - oldest) <= MS


@pytest.mark.parametrize(
    ("text", "youngest_days", "oldest_days"),
    [
        ("vuosi sitten", 315, 552),  # about 10.5 to 18 months
        ("a year ago", 315, 552),
        ("vor einem Jahr", 315, 552),
        ("kaksi vuotta sitten", 544, 917),  # about 1.5 to 2.5 years
        ("yhdeksän kuukautta sitten", 256, 292),
        ("för 2 månader sedan", 42, 80),
        ("il y a un mois", 25, 49),
        ("πριν 3 μήνες", 72, 111),
    ],
)
def test_month_and_year_strings_cover_their_calendar_span(
    text: str, youngest_days: int, oldest_days: int
) -> None:
    earliest, latest = bounds(parse_relative(text, NOW))

    assert NOW - latest >= timedelta(days=youngest_days)
    assert NOW - earliest <= timedelta(days=oldest_days)


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("in 3 days", True),
        ("kolmen päivän päästä", True),
        ("3 päivän kuluttua", True),
        ("om en månad", True),
        ("3 days ago", False),
    ],
)
def test_future_strings_lie_after_the_observation(text: str, after: bool) -> None:
    earliest, latest = bounds(parse_relative(text, NOW))

    assert (earliest > NOW) is after
    assert (latest < NOW) is not after


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Käynnissä",
        "3 tasks",
        "1 days ago",  # dayjs says "a day ago"
        "40 days ago",  # dayjs switches to months after 25 days
        "12 kuukautta sitten",  # and to "vuosi" after 10 months
        "kaksi days ago",  # Finnish number words belong to Finnish only
        "days ago",
        "in a while",
    ],
)
def test_strings_dayjs_never_renders_give_none(text: str) -> None:
    assert parse_relative(text, NOW) is None


def test_naive_observation_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_relative("3 days ago", NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("3 days ago", "en"),
        ("vuosi sitten", "fi"),
        ("kahden vuoden päästä", "fi"),
        ("vor einem Jahr", "de"),
        ("in 3 Tagen", "de"),
        ("för 2 månader sedan", "sv"),
        ("hace 3 días", "es"),
        ("il y a un mois", "fr"),
        ("πριν 2 χρόνια", "el"),
        ("Käynnissä", None),
    ],
)
def test_detect_locale(text: str, locale: str | None) -> None:
    assert detect_locale(text) == locale


def _fixture_cases() -> list[Any]:
    cases: list[dict[str, str]] = json.loads(CASES.read_text("utf-8"))["cases"]
    return [
        pytest.param(case, id=f"{case['source']}:{case['text']}:{index}")
        for index, case in enumerate(cases)
    ]


@pytest.mark.parametrize("case", _fixture_cases())
def test_fixture_strings_contain_the_true_update_time(case: dict[str, str]) -> None:
    observed = datetime.fromisoformat(case["observed_at"].replace("Z", "+00:00"))
    truth = datetime.fromisoformat(case["updated_at"])

    earliest, latest = bounds(parse_relative(case["text"], observed))

    assert earliest <= truth <= latest


def _reference_match(text: str) -> tuple[str, str, int | None, bool] | None:
    """``match`` written the plain way: every phrasing as one regex, in table order."""
    folded = reltime.normalise(text)
    number = r"(?P<n>\d+|[^\W\d_]+)"
    for entry, data in reltime._LOCALE_DATA.items():
        locale = entry.removesuffix("-future")
        for future in (False, True):
            for wrapper in data.get("future" if future else "past", ()):
                for key, _, _ in reltime._THRESHOLDS:
                    for phrase in data[key]:
                        body = re.escape(reltime.normalise(phrase))
                        pattern = re.escape(reltime.normalise(wrapper)).replace(
                            "%s", body.replace("%d", number)
                        )
                        found = re.fullmatch(pattern, folded)
                        if found is None:
                            continue
                        raw = found.groupdict().get("n")
                        value = reltime._number(raw, locale) if raw else None
                        if "%d" in phrase and value is None:
                            continue
                        return locale, key, value, future
    return None


@settings(max_examples=300, deadline=None)
@given(
    age=ages,
    now=moments,
    locale=st.sampled_from(sorted(LOCALES)),
    future=st.booleans(),
    noise=st.sampled_from(["", "  ", "\u00a0", "\u00ad"]),
)
def test_fast_match_agrees_with_the_plain_regexes(
    age: int, now: datetime, locale: str, future: bool, noise: str
) -> None:
    update = now + (1 if future else -1) * age * MS
    text = from_now(update, now, locale, ZoneInfo("UTC"))
    text = text.replace(" ", " " + noise, 1)

    found = reltime.match(text)

    want = _reference_match(text)
    got = (
        None if found is None else (found.locale, found.key, found.number, found.future)
    )
    assert got == want
    assert found is not None


@pytest.mark.parametrize(
    "text",
    ["Implementation", "7 tasks", "", "ago", "vor", "sitten", "in in", "3 dayz ago"],
)
def test_fast_match_rejects_what_the_regexes_reject(text: str) -> None:
    assert reltime.match(text) is None
    assert _reference_match(text) is None
