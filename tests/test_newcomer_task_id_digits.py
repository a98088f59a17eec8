"""A task whose id is written with a numeral int() cannot read (², ①) is kept.

Found by giving an action in the embedded data a task with the id "²" (the
platform's ids are text; ``RawTask.id`` takes any string): merging the page's
tasks sorts them by id with a natural sort that took whatever str.isdigit accepts
for a number, so int('²') ended the whole check in a ValueError traceback, nothing
recorded, on every check of that source while the task stayed. 80bb31a and
41439f4 made the same change in the web view's and the parsers' sorts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from monitor.pipeline import record_check
from storage.db import Database
from storage.events import EventKind
from tests.change_pages import Item, org_page

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
DUE = date(2026, 9, 5)


def test_a_task_id_in_superscript_digits_is_text(db: Database) -> None:
    first = [Item("1", tasks=(("²", "IN_PROGRESS", DUE), ("10", "IN_PROGRESS", DUE)))]
    later = [
        Item(
            "1",
            tasks=(
                ("²", "COMPLETED", DUE),
                ("10", "IN_PROGRESS", DUE),
                ("①", "NOT_STARTED", DUE),
                ("9", "NOT_STARTED", DUE),
            ),
        )
    ]
    record_check(db, "plan", [org_page("1", first, T0)], observed_at=T0)
    at = T0 + timedelta(hours=1)
    report = record_check(db, "plan", [org_page("1", later, at)], observed_at=at)

    (tasks,) = [e for e in report.events if e.kind is EventKind.TASKS_CHANGED]
    assert tasks.detail["added"] == ["task 9", "task ①"]
    assert list(tasks.detail["states"]) == ["task ²"]
