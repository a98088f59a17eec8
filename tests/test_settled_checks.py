"""A check that repeats a settled one is recorded without diffing: same result.

Each scenario runs twice, on two databases: once the full way (no settled checks
remembered, as a one-shot ``check``), once as ``planwatch run`` does (settled checks
remembered, so repeats of the same parsed pages take `monitor.settled.repeat`). The
events of every check, and every row of every table afterwards, must be equal; and
the short way must have been taken, or the comparison proves nothing.

Repeated pages are the same parse objects with a new fetch time, as a 304 or a
same-body answer gives them. The scenarios cross staleness lines, tasks falling due
and late, reminders, a flip between two values, an action vanishing for two checks,
and a failing page.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from monitor import settled
from monitor.pipeline import PageObservation, record_check
from monitor.rules import ChangeRules
from monitor.settled import SettledChecks
from parsers.records import TimelinessLimits
from storage.db import Database, open_database
from storage.models import Base
from tests import change_series as series
from tests.change_pages import Item, failed, org_page, with_status

START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
LIMITS = TimelinessLimits(target=1, acceptable=2, stale=3)
RULES = ChangeRules(
    timezone="Europe/Helsinki", due_soon_days=2, reminder_gaps=(1, 2), flip_hours=48
)
WALL_CLOCK = frozenset({"started_at", "finished_at"})  # when the test ran


@dataclass
class Pages:
    """The pages of one site as a scenario moves them: parsed once per edit."""

    items: list[Item]
    seen: datetime
    observations: tuple[PageObservation, ...] = ()

    def edit(self, items: list[Item], at: datetime) -> None:
        self.items, self.seen = items, at
        self.observations = (
            org_page("1", items[:2], at, limits=LIMITS),
            org_page("2", items[2:], at, limits=LIMITS),
        )

    def check_at(self, at: datetime) -> tuple[PageObservation, ...]:
        """The pages as a check at ``at`` sees them: each one 304, parse reused."""
        return tuple(
            replace(o, fetched_at=at, fetch_outcome="not_modified", status_code=304)
            for o in self.observations
        )


def first_items() -> list[Item]:
    due = START.date() + timedelta(days=5)
    return [
        Item("a1", updated=START - timedelta(days=1)),
        Item("a2", updated=START, tasks=(("t1", "IN_PROGRESS", due),)),
        Item("a3", updated=START - timedelta(hours=12)),
        Item("a4", updated=START, tasks=(("t2", "NOT_STARTED", due + timedelta(3)),)),
    ]


Step = tuple[timedelta, str]  # (time after the previous check, what happens)


def play(
    db: Database,
    steps: Sequence[Step],
    remembered: SettledChecks | None,
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    pages = Pages(first_items(), START)
    pages.edit(pages.items, START)
    at = START
    found = []
    for gap, what in steps:
        at += gap
        observations = _happen(pages, what, at)
        report = record_check(
            db, "site", observations, rules=RULES, settled_checks=remembered
        )
        found.append((report.outcome.value, [_event(e) for e in report.events]))
    return found


def _happen(pages: Pages, what: str, at: datetime) -> tuple[PageObservation, ...]:
    items = pages.items
    if what == "repeat":
        return pages.check_at(at)
    if what == "fail":
        return (*pages.check_at(at)[:1], failed(pages.observations[1].url, at))
    if what == "update":  # every action's information updated now
        pages.edit([replace(i, updated=at) for i in items], at)
    elif what == "flip":  # a2's status flips between two values
        status = "late" if items[1].status == "on_time" else "on_time"
        pages.edit(with_status(items, "a2", status), at)
    elif what == "vanish":  # a3 leaves the pages
        pages.edit([i for i in items if i.id != "a3"], at)
    elif what == "return" and len(items) < 4:  # a3 is back
        pages.edit([*items[:2], first_items()[2], *items[2:]], at)
    elif what == "finish":  # a2's task done
        done = ("t1", "COMPLETED", START.date())
        pages.edit([items[0], replace(items[1], tasks=(done,)), *items[2:]], at)
    return pages.check_at(at)


def _event(event: Any) -> tuple[Any, ...]:
    return (
        event.kind.value,
        event.action_id,
        event.organization_id,
        event.field,
        event.before,
        event.after,
        sorted(event.detail.items(), key=lambda kv: kv[0]),
    )


def every_row(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    with db.readers() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in WALL_CLOCK]
            rows = session.execute(select(*columns)).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    full = open_database(str(tmp_path / "full.sqlite"))
    short = open_database(str(tmp_path / "short.sqlite"))
    yield full, short
    full.close()
    short.close()


@pytest.fixture
def repeats(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each check offered a settled one took the short way."""
    taken: list[bool] = []
    original = settled.repeat

    def counting(*args: Any) -> bool:
        done = original(*args)
        if args[-1] is not None:
            taken.append(done)
        return done

    monkeypatch.setattr(settled, "repeat", counting)
    return taken


def same_both_ways(
    databases: tuple[Database, Database], steps: Sequence[Step], taken: list[bool]
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    full, short = databases
    by_full = play(full, steps, None)
    by_short = play(short, steps, SettledChecks())
    assert by_short == by_full
    assert every_row(short) == every_row(full)
    return by_full


SIX_HOURS = timedelta(hours=6)
TIMELINE: list[Step] = [
    (timedelta(0), "repeat"),  # baseline
    *[(SIX_HOURS, "repeat")] * 6,
    (SIX_HOURS, "flip"),
    *[(SIX_HOURS, "repeat")] * 3,
    (SIX_HOURS, "flip"),  # back: held as a flip
    *[(SIX_HOURS, "repeat")] * 3,
    (SIX_HOURS, "vanish"),
    *[(SIX_HOURS, "repeat")] * 4,  # missing twice: removed
    (SIX_HOURS, "fail"),
    *[(SIX_HOURS, "repeat")] * 3,
    (SIX_HOURS, "return"),
    *[(SIX_HOURS, "repeat")] * 12,  # staleness lines, tasks due soon and late
    (SIX_HOURS, "finish"),
    *[(SIX_HOURS, "repeat")] * 8,  # reminders
    (SIX_HOURS, "update"),
    *[(SIX_HOURS, "repeat")] * 24,
]


def test_repeats_of_a_settled_check_give_what_the_full_check_gives(
    databases: tuple[Database, Database], repeats: list[bool]
) -> None:
    checks = same_both_ways(databases, TIMELINE, repeats)

    kinds = {kind for _, events in checks for kind, *_ in events}
    # The timeline does cross what the clock decides, and takes the short way.
    assert {"became_stale", "task_due_soon", "task_late", "action_removed"} <= kinds
    assert sum(repeats) >= 20
    assert not all(repeats)  # the clock sends some repeats the full way


def test_a_staleness_line_crossed_between_repeats_is_reported_by_the_full_way(
    databases: tuple[Database, Database], repeats: list[bool]
) -> None:
    day = timedelta(days=1)
    steps: list[Step] = [(timedelta(0), "repeat"), (SIX_HOURS, "repeat")]
    steps += [(day, "repeat")] * 6

    checks = same_both_ways(databases, steps, repeats)

    alerted = [i for i, (_, events) in enumerate(checks) if events]
    assert alerted  # a1 went stale on one of the daily repeats
    assert any(repeats[: alerted[0]])  # the repeats before it took the short way
    assert not repeats[alerted[0]]  # ... that one was left to the full way


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 3, 6, 12, 24, 50]).map(lambda h: timedelta(hours=h)),
            st.sampled_from(
                ["repeat"] * 6 + ["flip", "vanish", "return", "fail", "update"]
            ),
        ),
        min_size=2,
        max_size=40,
    )
)
def test_any_sequence_of_checks_gives_the_same_both_ways(
    tmp_path: Path, steps: list[Step]
) -> None:
    where = tmp_path / next(_RUNS)
    where.mkdir()
    full = open_database(str(where / "full.sqlite"))
    short = open_database(str(where / "short.sqlite"))
    try:
        steps = [(timedelta(0), "repeat"), *steps]
        assert play(short, steps, SettledChecks()) == play(full, steps, None)
        assert every_row(short) == every_row(full)
    finally:
        full.close()
        short.close()


_RUNS = (f"run{n}" for n in itertools.count())


def test_series_2024_with_repeats_gives_the_same_both_ways(
    databases: tuple[Database, Database], repeats: list[bool]
) -> None:
    full, short = databases
    remembered = SettledChecks()
    names = ("r00", "r01", "r02", "r03", "r04", "r05", "r05b", "r06", "r07")
    for name in names:
        first = series.observations(name)
        for n in range(3):  # the round, then twice again as 304s
            at = series.check_time(name) + timedelta(minutes=n)
            pages = (
                first
                if n == 0
                else tuple(replace(o, fetched_at=at, body=None) for o in first)
            )
            rules = ChangeRules(timezone=series.TIMEZONE)
            by_full = record_check(full, "s", pages, observed_at=at, rules=rules)
            by_short = record_check(
                short,
                "s",
                pages,
                observed_at=at,
                rules=rules,
                settled_checks=remembered,
            )
            assert by_short.outcome == by_full.outcome
            assert [_event(e) for e in by_short.events] == [
                _event(e) for e in by_full.events
            ]
    assert every_row(short) == every_row(full)
    assert any(repeats)


def test_repeats_on_either_database_give_the_full_check_s_events(
    db: Database, tmp_path: Path, repeats: list[bool]
) -> None:
    # The short way's plain statements on SQLite and PostgreSQL alike.
    full = open_database(str(tmp_path / "full.sqlite"))
    try:
        by_full = play(full, TIMELINE, None)
    finally:
        full.close()

    assert play(db, TIMELINE, SettledChecks()) == by_full
    assert sum(repeats) >= 20
