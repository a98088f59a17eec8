"""A late or due task whose name no watched page shows is "a task", not “?”.

Found trying planwatch as a newcomer: with README's example config (an
organization page and the action list, neither of which names tasks), the
notification said "9. EV charging network — task “?” is 6 days late (due
2026-11-28)": a question mark in quotes, as if the task were called "?". The
sentence now says "a task is 6 days late", in every language.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifiers.render import describe
from notifiers.targets import LANGUAGES
from storage.events import Event, EventKind

NOW = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("days", [0, 1, 6])
@pytest.mark.parametrize("kind", [EventKind.TASK_LATE, EventKind.TASK_DUE_SOON])
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unnamed_task_reads_as_a_task(
    kind: EventKind, language: str, days: int
) -> None:
    if kind is EventKind.TASK_LATE and days == 0:
        return  # late means a day or more
    detail = {
        "task": None,
        "due_at": "2026-11-28",
        "days_late": days,
        "days_left": days,
    }
    event = Event(kind, "espoo", NOW, action_id="9", after="2026-11-28", detail=detail)
    text = describe(event, language)
    named = describe(
        Event(kind, "espoo", NOW, action_id="9", detail={**detail, "task": "X"}),
        language,
    )
    assert "?" not in text, text
    assert "“X”" in named or "”X”" in named or "„X“" in named, named
    assert (f" {days} " in text) == (days != 0)
    assert "2026-11-28" in text or "28" in text


def test_a_named_task_keeps_its_name() -> None:
    detail = {"task": "Buy buses", "due_at": "2026-03-17", "days_late": 12}
    event = Event(EventKind.TASK_LATE, "espoo", NOW, action_id="9", detail=detail)
    assert "task “Buy buses” is 12 days late" in describe(event, "en")


def test_an_unnamed_task_in_english() -> None:
    detail = {"task": None, "due_at": "2026-11-28", "days_late": 6}
    event = Event(EventKind.TASK_LATE, "espoo", NOW, action_id="9", detail=detail)
    assert describe(event, "en").startswith("a task is 6 days late")
