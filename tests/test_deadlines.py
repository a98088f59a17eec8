"""Staleness lines, task deadlines in the plan's time zone, and the reminder cadence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.config import parse_config
from monitor.deadlines import (
    Assessment,
    Cadence,
    Condition,
    DeadlineRules,
    Entry,
    assess,
    reconcile,
)
from monitor.pipeline import record_check
from monitor.rules import ChangeRules
from monitor.staleness import DEFAULT_LIMITS, age, is_stale
from parsers.records import TimelinessLimits
from storage.db import Database, open_database
from storage.events import EventKind
from storage.models import DeadlineEntry
from storage.state import ActionState, TaskState
from tests.change_pages import Item, org_page

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2027, 1, 14, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def rules(**changes: object) -> DeadlineRules:
    values: dict[str, object] = {"limits": DEFAULT_LIMITS, "timezone": HELSINKI}
    values.update(changes)
    return DeadlineRules(**values)  # type: ignore[arg-type]


def stale_state(**fields: object) -> ActionState:
    return ActionState(id="1", status_summary="ON_TIME", **fields)  # type: ignore[arg-type]


# -- the cadence -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "index"),
    [(0, 0), (6.9, 0), (7, 1), (36.9, 1), (37, 2), (66, 2), (67, 3), (400, 14)],
)
def test_reminders_come_after_7_days_then_every_30(days: float, index: int) -> None:
    assert Cadence((7, 30)).index(timedelta(days=days)) == index


def test_no_gaps_means_no_reminders_and_one_gap_repeats() -> None:
    assert Cadence(()).index(timedelta(days=365)) == 0
    assert Cadence((10,)).index(timedelta(days=35)) == 3


# -- staleness -------------------------------------------------------------------------


def test_age_is_measured_from_the_latest_possible_update() -> None:
    # "6 months ago" seen now: somewhere between 197 and 167 days old.
    interval = stale_state(
        updated_earliest=(NOW - 197 * DAY).isoformat(),
        updated_latest=(NOW - 167 * DAY).isoformat(),
    )
    assert is_stale(interval, NOW, DEFAULT_LIMITS) is False
    assert is_stale(interval, NOW + 14 * DAY, DEFAULT_LIMITS) is True
    exact = stale_state(updated_exact=(NOW - 181 * DAY).isoformat())
    assert is_stale(exact, NOW, DEFAULT_LIMITS) is True
    found = age(exact, NOW)
    assert found is not None
    assert found.passed(DEFAULT_LIMITS) == "stale"
    assert found.exact


def test_finished_merged_or_undated_actions_are_never_stale() -> None:
    old = (NOW - 400 * DAY).isoformat()
    assert (
        is_stale(stale_state(updated_exact=old, merged_with="6"), NOW, DEFAULT_LIMITS)
        is None
    )
    done = ActionState(id="1", status_summary="COMPLETED", updated_exact=old)
    assert is_stale(done, NOW, DEFAULT_LIMITS) is None
    assert is_stale(stale_state(), NOW, DEFAULT_LIMITS) is None
    cancelled = ActionState(id="1", status="cancelled", updated_exact=old)
    assert is_stale(cancelled, NOW, DEFAULT_LIMITS) is None


def test_an_action_whose_status_no_page_showed_is_not_judged() -> None:
    old = (NOW - 400 * DAY).isoformat()
    task = TaskState(id="7", state="IN_PROGRESS", due_at="2026-01-01")
    unknown = ActionState(id="1", updated_exact=old, tasks=(task,))
    assert is_stale(unknown, NOW, DEFAULT_LIMITS) is None
    found = assess({"1": unknown}, NOW, rules())
    assert not found.holding
    assert found.unknown == {"stale:1", "tasks:1"}


def test_the_lines_passed_are_named() -> None:
    limits = TimelinessLimits(30, 60, 180)
    for days, line in [(10, None), (31, "target"), (61, "acceptable"), (181, "stale")]:
        found = age(stale_state(updated_exact=(NOW - days * DAY).isoformat()), NOW)
        assert found is not None
        assert found.passed(limits) == line


# -- tasks -----------------------------------------------------------------------------


def with_task(due: str, state: str = "IN_PROGRESS") -> dict[str, ActionState]:
    task = TaskState(id="7", state=state, due_at=due, names={"en": "Procure buses"})
    return {"1": stale_state(tasks=(task,))}


def test_a_task_is_late_from_the_day_after_its_due_date_in_the_plans_zone() -> None:
    # 22:30 UTC on the due date is already the next day in Helsinki.
    evening = datetime(2027, 1, 14, 22, 30, tzinfo=UTC)
    late = assess(with_task("2027-01-14"), evening, rules())
    assert [c.kind for c in late.holding.values()] == [EventKind.TASK_LATE]
    [condition] = late.holding.values()
    assert condition.facts["days_late"] == 1
    assert condition.started_at == datetime(2027, 1, 15, tzinfo=HELSINKI)

    in_utc = assess(with_task("2027-01-14"), evening, rules(timezone=UTC))
    assert [c.kind for c in in_utc.holding.values()] == [EventKind.TASK_DUE_SOON]


def test_due_soon_has_a_configurable_window_and_closed_tasks_never_count() -> None:
    assert not assess(with_task("2027-02-20"), NOW, rules()).holding
    soon = assess(with_task("2027-02-20"), NOW, rules(due_soon_days=40)).holding
    assert [c.facts["days_left"] for c in soon.values()] == [37]
    for state in ("COMPLETED", "CANCELLED"):
        assert not assess(with_task("2026-01-01", state), NOW, rules()).holding


# -- the ledger ------------------------------------------------------------------------


def condition(days_ago: float) -> Condition:
    return Condition(
        EventKind.TASK_LATE, "late:1:7", "1", NOW - timedelta(days=days_ago), {}
    )


def holding(*conditions: Condition) -> Assessment:
    return Assessment(holding={c.subject: c for c in conditions})


def entry(index: int, kind: EventKind = EventKind.TASK_LATE) -> Entry:
    subject = "late:1:7" if kind is EventKind.TASK_LATE else "stale:1"
    return Entry(kind, subject, "1", NOW - 100 * DAY, index)


def test_a_new_condition_alerts_once_and_the_baseline_notes_it_silently() -> None:
    cadence = Cadence()
    [step] = reconcile(holding(condition(2)), [], NOW, cadence, baseline=False)
    assert (step.alert, step.index, step.reminder) == (EventKind.TASK_LATE, 0, 0)
    [step] = reconcile(holding(condition(50)), [], NOW, cadence, baseline=True)
    assert (step.alert, step.index) == (None, 2)


def test_after_a_long_gap_only_the_latest_reminder_goes_out() -> None:
    steps = reconcile(
        holding(condition(100)), [entry(1)], NOW, Cadence(), baseline=False
    )
    assert [(s.alert, s.index, s.reminder) for s in steps] == [
        (EventKind.TASK_LATE, 4, 4)
    ]
    assert (
        reconcile(holding(condition(100)), [entry(4)], NOW, Cadence(), baseline=False)
        == []
    )


def test_ending_conditions_leave_the_ledger_and_only_freshness_is_announced() -> None:
    fresh = Assessment(fresh={"1"})
    [stale_step] = reconcile(
        fresh, [entry(0, EventKind.BECAME_STALE)], NOW, Cadence(), baseline=False
    )
    assert (stale_step.alert, stale_step.index) == (EventKind.NO_LONGER_STALE, None)
    [task_step] = reconcile(Assessment(), [entry(3)], NOW, Cadence(), baseline=False)
    assert (task_step.alert, task_step.index) == (None, None)
    # An action whose tasks this check could not read keeps its entries.
    unknown = Assessment(unknown={"tasks:1"})
    assert reconcile(unknown, [entry(3)], NOW, Cadence(), baseline=False) == []


def test_a_restart_never_repeats_a_reminder(db_url: str) -> None:
    due = date(2026, 12, 20)
    items = [Item("1", tasks=(("7", "IN_PROGRESS", due),), updated=NOW - DAY)]
    source_rules = ChangeRules(timezone="Europe/Helsinki")

    def check(database: Database, at: datetime) -> list[str]:
        report = record_check(
            database,
            "plan",
            [org_page("1", items, at)],
            observed_at=at,
            rules=source_rules,
        )
        return [e.kind.value for e in report.events]

    first = open_database(db_url)
    assert check(first, datetime(2026, 12, 22, 9, tzinfo=UTC)) == []  # the baseline
    assert check(first, datetime(2026, 12, 27, 9, tzinfo=UTC)) == []
    assert check(first, datetime(2026, 12, 28, 9, tzinfo=UTC)) == ["task_late"]
    first.close()

    again = open_database(db_url)
    assert check(again, datetime(2026, 12, 28, 10, tzinfo=UTC)) == []
    assert check(again, datetime(2027, 1, 27, 9, tzinfo=UTC)) == ["task_late"]
    with again.session() as session:
        [row] = session.scalars(select(DeadlineEntry)).all()
        assert (row.subject, row.alert_index, row.alerts) == ("late:1:7", 2, 2)
    again.close()


# -- configuration ---------------------------------------------------------------------


def test_a_source_can_move_the_staleness_lines(db: Database) -> None:
    config = parse_config(
        {
            "sources": [
                {
                    "name": "plan",
                    "pages": ["https://plan.example/organizations/1"],
                    "stale_days": [14, 30, 90],
                    "timezone": "Europe/Helsinki",
                    "due_soon_days": 10,
                    "reminder_days": [3],
                }
            ]
        }
    )
    source_rules = ChangeRules.from_config(config.sources[0])
    assert source_rules.limits == TimelinessLimits(14, 30, 90)
    assert source_rules.cadence == Cadence((3,))

    updated = datetime(2026, 9, 1, tzinfo=UTC)
    items = [Item("1", updated=updated)]
    seen = []
    for at in (updated + 80 * DAY, updated + 91 * DAY):
        page = org_page("1", items, at, limits=TimelinessLimits(30, 60, 180))
        seen.append(
            record_check(db, "plan", [page], observed_at=at, rules=source_rules)
        )
    assert [e.kind.value for e in seen[1].events] == ["became_stale"]
    assert seen[1].events[0].detail["limit_days"] == 90
