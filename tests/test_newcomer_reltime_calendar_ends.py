"""A relative time read against a moment near the calendar's ends is unknown, not a
parser failure.

Found trying `planwatch parse page.html --observed-at 0001-03-01T00:00:00Z` on a
page read from its markup: inverting "3 days ago" looks at ages up to a few years
either side of the observation, which from the year 1 (or towards 9999) falls off
datetime's calendar; OverflowError ended the whole page (a traceback, ``seen:
parser_error``, no actions). ``parse_relative`` now answers None, as for any string
it cannot turn into an interval, and the rows are read without an update time.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from parsers import reltime
from parsers.kausal import parse_page
from parsers.records import Outcome
from tests.conftest import FIXTURES

ORG = FIXTURES / "lab-2024" / "before" / "html" / "organization-2.en.html.gz"


@pytest.mark.parametrize(
    ("text", "observed_at"),
    [
        ("3 days ago", datetime(1, 3, 1, tzinfo=UTC)),
        ("vuosi sitten", datetime(1, 6, 1, tzinfo=UTC)),
        ("in 2 years", datetime(9999, 6, 1, tzinfo=UTC)),
        ("kahden päivän päästä", datetime(9999, 12, 31, 12, tzinfo=UTC)),
    ],
)
def test_an_interval_off_the_calendar_is_unknown(
    text: str, observed_at: datetime
) -> None:
    assert reltime.parse_relative(text, observed_at) is None


def test_the_same_strings_read_in_the_calendar() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    for text in ("3 days ago", "vuosi sitten", "in 2 years", "kahden päivän päästä"):
        assert reltime.parse_relative(text, now) is not None, text


def test_a_markup_page_read_at_the_year_one_keeps_its_rows() -> None:
    body = gzip.decompress(ORG.read_bytes()).decode()
    body = re.sub(r"<script>self\.__next_f\.push\(.*?</script>", "", body, flags=re.S)

    page = parse_page(
        body,
        "http://demo.localhost:3000/en/organizations/2",
        observed_at=datetime(1, 3, 1, tzinfo=UTC),
    )

    assert page.outcome is Outcome.OK
    assert len(page.actions) == 5
    assert all(a.updated_at is None for a in page.actions)
