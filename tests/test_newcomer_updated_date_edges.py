"""An action page whose "Information updated" date is at the calendar's edge is read,
not a parser failure.

Found trying `planwatch parse` on action pages read from their markup with dates at
the calendar's ends: "Information updated 12/31/9999" (or 01/01/0001, 31.12.9999,
0001-01-01) ended the page in OverflowError (a traceback, ``seen:
parser_error``): the shown day stands for every moment it is somewhere on Earth,
from 14 hours before its UTC midnight to 12 hours after its end, and those moments
fall off datetime's calendar. The interval now stops at the calendar's ends.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from parsers.kausal import parse_page
from parsers.records import Outcome
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-1.en.html.gz"
URL = "http://demo.localhost:3000/en/actions/1"
FLIGHT = re.compile(r"<script>self\.__next_f\.push\(.*?</script>", re.S)
SHOWN = "<!-- -->11/30/2026<"
FIRST = datetime.min.replace(tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC)


def _page(shown: str) -> str:
    body = FLIGHT.sub("", gzip.decompress(PAGE.read_bytes()).decode())
    assert body.count(SHOWN) == 1
    return body.replace(SHOWN, f"<!-- -->{shown}<")


def test_a_date_in_the_calendar_is_the_day_anywhere_on_earth() -> None:
    page = parse_page(_page("11/30/2026"), URL)

    (action,) = page.actions
    assert action.updated_at is not None
    assert action.updated_at.earliest == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert action.updated_at.latest == datetime(
        2026, 12, 1, 11, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("shown", "earliest", "latest"),
    [
        ("12/31/9999", datetime(9999, 12, 30, 10, tzinfo=UTC), LAST),
        ("31.12.9999", datetime(9999, 12, 30, 10, tzinfo=UTC), LAST),
        ("01/01/0001", FIRST, datetime(1, 1, 2, 11, 59, 59, 999999, tzinfo=UTC)),
        ("0001-01-01", FIRST, datetime(1, 1, 2, 11, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_a_date_at_the_calendars_end_stops_there(
    shown: str, earliest: datetime, latest: datetime
) -> None:
    page = parse_page(_page(shown), URL)

    assert page.outcome is Outcome.OK
    (action,) = page.actions
    assert action.updated_at is not None
    assert (action.updated_at.earliest, action.updated_at.latest) == (earliest, latest)
