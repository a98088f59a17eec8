"""A task date that is no text (a number, an object, a list) is an unreadable
value, as a text that is no date is, not a task without a due date.

Found changing values in the embedded data of fixture pages and running `planwatch
parse`: with a task's ``"dueAt":"2026-11-13"`` turned into ``1.5``, ``7``, ``{}``
or ``[]`` (or ``completedAt`` into ``true``), the page parsed with no anomaly and
the task's date null, so a late task counted as on time and the task bar's
late/on-time counts changed without a word; ``"dueAt":"soon"`` did give
``unreadable_values``. An object whose fields do not all read is read field by
field, and a task's dates were dropped there unsaid. They are now said.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from parsers.kausal import parse_page
from tests.conftest import FIXTURES

LAB = FIXTURES / "lab-2024" / "before" / "html"
SEEN = datetime(2026, 12, 3, 16, 7, tzinfo=UTC)
# The flight payload is JSON inside a JS string: its quotes are escaped (\\").
DUE = re.compile(r'\\"dueAt\\":\\"2026-11-13\\"')
COMPLETED = re.compile(r'\\"completedAt\\":\\"2026-[0-9-]+\\"')


def _page(name: str) -> str:
    return gzip.decompress((LAB / f"{name}.html.gz").read_bytes()).decode()


def _unreadable(body: str, url: str) -> list[str]:
    page = parse_page(body, url, observed_at=SEEN)
    assert page.actions
    return [a.detail for a in page.anomalies if a.code == "unreadable_values"]


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("action-3.en", "http://demo.localhost:3000/en/actions/3"),
        ("organization-4.en", "http://demo.localhost:3000/en/organizations/4"),
    ],
)
@pytest.mark.parametrize("value", ["1.5", "7", "{}", "[]", "true", '\\"soon\\"'])
def test_a_due_date_that_does_not_read_is_said(name: str, url: str, value: str) -> None:
    body = _page(name)
    assert _unreadable(body, url) == []
    damaged, count = DUE.subn(r'\\"dueAt\\":' + value.replace("\\", "\\\\"), body)
    assert count > 0

    (detail,) = _unreadable(damaged, url)

    assert "dueAt" in detail


@pytest.mark.parametrize("value", ["1.5", "true", "{}"])
def test_a_completion_date_that_does_not_read_is_said(value: str) -> None:
    body = _page("action-1.en")
    damaged, count = COMPLETED.subn(
        r'\\"completedAt\\":' + value.replace("\\", "\\\\"), body
    )
    assert count > 0

    (detail,) = _unreadable(damaged, "http://demo.localhost:3000/en/actions/1")

    assert "completedAt" in detail
