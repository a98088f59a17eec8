"""A page whose render time or Date header has no UTC equivalent is read against
the next time there is, not a parser failure.

Found trying `planwatch parse` on pages with dates at the calendar's edges: the
embedded render time ``"now":"$D9999-12-31T23:00:00-05:00"`` (or
``$D0001-01-01T00:00:00+05:00``) read as a time, and taking it to UTC, which
relative times and task lateness are judged in, raised OverflowError: `parse`
printed a traceback and a page with ``seen: parser_error`` and no actions. A
``Date`` response header of ``Fri, 31 Dec 9999 23:59:59 -0500`` did the same to a
check of a page without a render time (the 2026 builds). Such a time is now no
time: the page is read against the ``Date`` header, else now, as a page without
one is.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from parsers.kausal import parse_page
from parsers.records import Outcome
from tests.conftest import FIXTURES

LAB_ACTION = FIXTURES / "lab-2024" / "before" / "html" / "action-1.en.html.gz"
UI_ORG = FIXTURES / "ui-2026" / "html" / "organization-1.en.html.gz"
RENDERED = "$D2026-12-03T16:07:08.090Z"
DATE = "Thu, 03 Dec 2026 16:07:08 GMT"


def _lab_action(render_time: str) -> str:
    page = gzip.decompress(LAB_ACTION.read_bytes()).decode()
    assert page.count(RENDERED) == 1
    return page.replace(RENDERED, render_time)


def test_the_render_time_is_read_as_before() -> None:
    page = parse_page(_lab_action(RENDERED), "http://demo.localhost:3000/en/actions/1")

    assert page.outcome is Outcome.OK
    assert page.observed_at == datetime(2026, 12, 3, 16, 7, 8, 90000, tzinfo=UTC)


@pytest.mark.parametrize(
    "render_time", ["$D9999-12-31T23:00:00-05:00", "$D0001-01-01T00:00:00+05:00"]
)
def test_a_render_time_with_no_utc_equivalent_is_no_render_time(
    render_time: str,
) -> None:
    page = parse_page(
        _lab_action(render_time),
        "http://demo.localhost:3000/en/actions/1",
        date_header=DATE,
    )

    assert page.outcome is Outcome.OK, page.anomalies
    assert [a.identifier for a in page.actions] == ["1"]
    assert page.render_time is None
    assert page.observed_at == datetime(2026, 12, 3, 16, 7, 8, tzinfo=UTC)


def test_a_date_header_with_no_utc_equivalent_is_no_date() -> None:
    body = gzip.decompress(UI_ORG.read_bytes())
    before = datetime.now(UTC)

    page = parse_page(
        body,
        "https://watch.example/en/organizations/1",
        date_header="Fri, 31 Dec 9999 23:59:59 -0500",
    )

    assert page.outcome is Outcome.OK, page.anomalies
    assert page.actions
    assert before <= page.observed_at <= datetime.now(UTC) + timedelta(seconds=1)
