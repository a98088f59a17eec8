"""Embedded values that do not read are said, never passed off as left out.

Found trying planwatch as a newcomer: with every ``updatedAt`` of an organization
page turned into "not-a-date" (or ``completion`` into "lots"), the page parsed with
no anomaly and those fields null, and a check called it unchanged. Had the platform
changed a format, planwatch would have stopped tracking the field without a word.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.pipeline import observe_saved, record_check
from parsers import api, data
from parsers.kausal import parse_page
from storage.db import open_database
from storage.events import EventKind

FIXTURE = Path(__file__).parent.parent / "fixtures/kausal-watch/lab-2024/before/html"
URL = "https://lab.example/en/organizations/4"
SEEN = datetime(2026, 12, 1, tzinfo=UTC)


def _page() -> bytes:
    return gzip.decompress((FIXTURE / "organization-4.en.html.gz").read_bytes())


def _damaged(pattern: bytes, replacement: bytes) -> bytes:
    damaged, count = re.subn(pattern, replacement, _page())
    assert count > 0
    return damaged


# The flight payload is JSON inside a JS string: its quotes are escaped (\\").
@pytest.mark.parametrize(
    ("pattern", "replacement", "said"),
    [
        (
            rb'\\"updatedAt\\":\\"[^\\]*\\"',
            rb'\\"updatedAt\\":\\"not-a-date\\"',
            "updatedAt is 'not-a-date'",
        ),
        (
            rb'\\"completion\\":\d+',
            rb'\\"completion\\":\\"lots\\"',
            "completion is 'lots'",
        ),
        (
            rb'\\"startDate\\":\\"[^\\]*\\"',
            rb'\\"startDate\\":\\"soon\\"',
            "startDate is 'soon'",
        ),
        (  # an object turned into a string (the object kept under another key)
            rb'\\"status\\":\{',
            rb'\\"status\\":\\"on time\\",\\"was\\":{',
            "status is 'on time'",
        ),
    ],
)
def test_a_value_that_does_not_read_is_an_anomaly(
    pattern: bytes, replacement: bytes, said: str
) -> None:
    page = parse_page(_damaged(pattern, replacement), URL, observed_at=SEEN)

    [anomaly] = [a for a in page.anomalies if a.code == "unreadable_values"]
    assert said in anomaly.detail
    assert page.actions  # the records stay, for the markup to be shown


def test_a_well_formed_page_has_no_such_anomaly() -> None:
    page = parse_page(_page(), URL, observed_at=SEEN)

    assert page.ok
    assert not page.anomalies


def test_a_check_of_such_a_page_is_a_layout_anomaly_and_changes_nothing(
    tmp_path: Path,
) -> None:
    db = open_database(str(tmp_path / "history.sqlite"))
    later = SEEN + timedelta(hours=1)
    damaged = _damaged(rb'\\"updatedAt\\":\\"2', rb'\\"updatedAt\\":\\"x2')
    try:
        record_check(db, "lab", [observe_saved(URL, _page(), SEEN)], observed_at=SEEN)
        report = record_check(
            db, "lab", [observe_saved(URL, damaged, later)], observed_at=later
        )
    finally:
        db.close()

    kinds = {e.kind for e in report.events}
    assert kinds == {EventKind.LAYOUT_ANOMALY}
    [anomaly] = report.events
    assert "unreadable_values" in anomaly.detail["reason"]


def test_items_that_are_no_action_and_actions_without_ids_are_said() -> None:
    problems: list[str] = []

    found = data.actions(
        ["junk", {"id": None, "identifier": "7"}, {"id": "1", "tasks": [1]}],
        SEEN,
        str,
        problems,
    )

    assert [a.id for a in found] == ["1"]
    assert problems == [
        "item 0 of the action list is 'junk'",
        "action 1: tasks holds [1]",
        "an action without an id: '7'",
    ]


def test_an_api_answer_with_unreadable_values_says_so_on_every_page() -> None:
    answer = {
        "data": {
            "planActions": [
                {
                    "id": "1",
                    "identifier": "1",
                    "updatedAt": "yesterday",
                    "responsibleParties": [
                        {"role": "PRIMARY", "organization": {"id": "5", "name": "X"}}
                    ],
                }
            ]
        }
    }

    pages = api.pages_from_answer(
        answer, url="https://x.example/api", lang="en", prefix="", observed_at=SEEN
    )

    assert len(pages) == 2
    for page in pages:
        assert [a.code for a in page.anomalies] == ["unreadable_values"]
