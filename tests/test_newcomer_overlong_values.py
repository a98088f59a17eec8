"""A page with a key longer than the history holds is a page not read, not a
check that fails on every database but SQLite.

Found by recording, on PostgreSQL, a page whose action id was 300 characters (an
identifier, task id or language tag of that size does the same): the columns
hold 64, 200 and 20, PostgreSQL refused the row, and the check ended in a
DataError traceback with nothing recorded, on every check while the page said
so. SQLite took it, so the two stores told different stories. Now the page is
layout_unrecognised (seen: overlong_value) naming the value, on both, and the
other pages are read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from monitor.pipeline import CheckOutcome, PageObservation, record_check
from parsers.records import Task
from storage.db import Database
from storage.events import EventKind
from tests.change_pages import Item, org_page

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LONG = "9" * 300


def _spoil(observation: PageObservation, what: str) -> PageObservation:
    page = observation.page
    assert page is not None
    first, *rest = page.actions
    if what == "action id":
        first = msgspec.structs.replace(first, id=LONG)
    elif what == "identifier":
        first = msgspec.structs.replace(first, identifier="x" * 201)
    elif what == "task id":
        task = Task(LONG, "task", "NOT_STARTED", T0.date(), None)
        first = msgspec.structs.replace(first, task_list=(task,))
    elif what == "language":
        page = msgspec.structs.replace(page, language="en-" + "x" * 30)
    return replace(
        observation,
        page=msgspec.structs.replace(page, actions=(first, *rest)),
    )


@pytest.mark.parametrize("what", ["action id", "identifier", "task id", "language"])
def test_an_overlong_value_costs_its_page(db: Database, what: str) -> None:
    one, other = [Item("1"), Item("2")], [Item("3")]
    record_check(
        db, "test", [org_page("1", one, T0), org_page("2", other, T0)], observed_at=T0
    )
    later = T0 + timedelta(hours=1)
    spoiled = _spoil(org_page("1", one, later), what)

    report = record_check(
        db, "test", [spoiled, org_page("2", other, later)], observed_at=later
    )

    assert report.outcome is CheckOutcome.ANOMALY
    kinds = sorted(e.kind.value for e in report.events)
    assert kinds == ["layout_anomaly"]  # nothing removed, nothing added
    [anomaly] = [e for e in report.events if e.kind is EventKind.LAYOUT_ANOMALY]
    assert "characters (at most" in str(anomaly.detail)
