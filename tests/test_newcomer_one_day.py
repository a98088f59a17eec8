"""A task one day late, or due in one day, is said in the singular.

Found by rendering the first ``task_late`` alert a check sends (the day after the
due date, ``days_late`` 1) and a ``task_due_soon`` for a task due tomorrow in every
language: they read "task “Buy buses” is 1 days late", "är 1 dagar försenad",
"ist 1 Tage überfällig", "on 1 päivää myöhässä", "is due in 1 days", "förfaller om
1 dagar", "ist in 1 Tagen fällig": the catalogues had only the plural, while the
titles already pick check_one or check_other by the count.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifiers.render import describe
from storage.events import Event, EventKind

NOW = datetime(2026, 3, 18, 6, 0, tzinfo=UTC)


def _event(kind: EventKind, **days: int) -> Event:
    detail = {"task": "Buy buses", "due_at": "2026-03-17", **days}
    return Event(kind, "espoo", NOW, action_id="3", detail=detail)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "task “Buy buses” is 1 day late (due 2026-03-17)"),
        ("fi", "tehtävä ”Buy buses” on 1 päivän myöhässä (määräpäivä 2026-03-17)"),
        ("sv", "uppgiften ”Buy buses” är 1 dag försenad (förfallodag 2026-03-17)"),
        ("de", "Aufgabe „Buy buses“ ist 1 Tag überfällig (fällig am 2026-03-17)"),
    ],
)
def test_one_day_late_is_singular(language: str, expected: str) -> None:
    assert describe(_event(EventKind.TASK_LATE, days_late=1), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "task “Buy buses” is due in 1 day (2026-03-17)"),
        ("fi", "tehtävän ”Buy buses” määräpäivä on 1 päivän päästä (2026-03-17)"),
        ("sv", "uppgiften ”Buy buses” förfaller om 1 dag (2026-03-17)"),
        ("de", "Aufgabe „Buy buses“ ist in 1 Tag fällig (2026-03-17)"),
    ],
)
def test_due_in_one_day_is_singular(language: str, expected: str) -> None:
    assert describe(_event(EventKind.TASK_DUE_SOON, days_left=1), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "is 2 days late"),
        ("fi", "on 2 päivää myöhässä"),
        ("sv", "är 2 dagar försenad"),
        ("de", "ist 2 Tage überfällig"),
    ],
)
def test_two_days_stay_plural(language: str, expected: str) -> None:
    assert expected in describe(_event(EventKind.TASK_LATE, days_late=2), language)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "task “Buy buses” is due today (2026-03-17)"),
        ("fi", "tehtävän ”Buy buses” määräpäivä on tänään (2026-03-17)"),
        ("sv", "uppgiften ”Buy buses” förfaller i dag (2026-03-17)"),
        ("de", "Aufgabe „Buy buses“ ist heute fällig (2026-03-17)"),
    ],
)
def test_due_today_says_today(language: str, expected: str) -> None:
    # A task due the day of the check read "is due in 0 days".
    assert describe(_event(EventKind.TASK_DUE_SOON, days_left=0), language) == expected
