"""Scheduling: cadences, daily moments across DST, claims, locks, late runs.

The clock is injected (or moved with time-machine); nothing here waits for a slot
in real time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from monitor import scheduling
from monitor.config import Config, Settings, parse_config
from monitor.locks import DatabaseBusy, acting_on, sqlite_lock_path
from monitor.scheduling import (
    Claim,
    Claims,
    DailyAt,
    DailyTrigger,
    Every,
    HookRun,
    Periodic,
    PlanwatchScheduler,
    Timer,
    daily_moment,
    hook_job,
    register_daily,
    registered_hooks,
    unregister,
)
from parsers.errors import ConfigError
from storage.db import Database, open_database
from storage.models import ScheduledJob

HELSINKI = ZoneInfo("Europe/Helsinki")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# The PostgreSQL case of the shared ``db_url`` fixture only (a fresh schema).
ONLY_POSTGRES = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

# -- cadences -----------------------------------------------------------------------


def test_every_keeps_its_grid_and_skips_missed_slots() -> None:
    hourly = Every(timedelta(hours=1))
    slot = utc(2026, 5, 1, 10)

    assert hourly.next_slot(slot, utc(2026, 5, 1, 10, 0, 3)) == utc(2026, 5, 1, 11)
    # Eight hours asleep: the next slot is the first one after now, not eight
    # slots to catch up on.
    assert hourly.next_slot(slot, utc(2026, 5, 1, 18, 20)) == utc(2026, 5, 1, 19)
    assert hourly.next_slot(slot, utc(2026, 5, 1, 19)) == utc(2026, 5, 1, 20)
    # A check that ran late is not followed by another a moment later.
    assert hourly.next_slot(slot, utc(2026, 5, 1, 18, 40)) == utc(2026, 5, 1, 20)
    assert hourly.next_slot(slot, utc(2026, 5, 1, 10, 40)) == utc(2026, 5, 1, 12)


def test_every_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        Every(timedelta(0))
    with pytest.raises(ValueError, match="jitter must not be negative"):
        Every(timedelta(hours=1), timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        # Spring forward, 29 March 2026: 03:00 EET jumps to 04:00 EEST.
        (date(2026, 3, 28), time(9, 0), utc(2026, 3, 28, 7, 0)),
        (date(2026, 3, 29), time(9, 0), utc(2026, 3, 29, 6, 0)),
        (date(2026, 3, 29), time(2, 59), utc(2026, 3, 29, 0, 59)),
        (date(2026, 3, 29), time(3, 30), utc(2026, 3, 29, 1, 30)),  # skipped: 04:30
        (date(2026, 3, 29), time(4, 0), utc(2026, 3, 29, 1, 0)),
        # Fall back, 25 October 2026: 04:00 EEST goes back to 03:00 EET.
        (date(2026, 10, 24), time(9, 0), utc(2026, 10, 24, 6, 0)),
        (date(2026, 10, 25), time(3, 30), utc(2026, 10, 25, 0, 30)),  # first of two
        (date(2026, 10, 25), time(4, 0), utc(2026, 10, 25, 2, 0)),
        (date(2026, 10, 25), time(9, 0), utc(2026, 10, 25, 7, 0)),
    ],
)
def test_daily_moment_in_helsinki_across_both_2026_transitions(
    day: date, at: time, expected: datetime
) -> None:
    assert daily_moment(day, at, HELSINKI) == expected


@pytest.mark.parametrize("at", [time(0, 0), time(3, 30), time(9, 0), time(23, 59)])
@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 3, 26), date(2026, 4, 1)), (date(2026, 10, 22), date(2026, 10, 28))],
)
def test_daily_trigger_fires_once_per_local_day(
    at: time, start: date, end: date
) -> None:
    trigger = DailyTrigger(DailyAt(at, HELSINKI))
    begin = now = datetime.combine(start, time(12), tzinfo=HELSINKI).astimezone(UTC)
    previous = None
    fired = []
    while True:
        moment = trigger.get_next_fire_time(previous, now)
        if moment.astimezone(HELSINKI).date() >= end:
            break
        assert moment >= now
        fired.append(moment)
        previous, now = moment, moment + timedelta(microseconds=1)

    every_day = [start + timedelta(days=n) for n in range((end - start).days)]
    expected = [
        daily_moment(day, at, HELSINKI)
        for day in every_day
        if daily_moment(day, at, HELSINKI) > begin
    ]
    assert fired == expected


# -- claims and the timer, with an injected clock -----------------------------------


@dataclass
class FakeScheduler:
    """Stands in for APScheduler: records the jobs and where they are aimed."""

    jobs: dict[str, tuple[Any, tuple[Any, ...]]] = field(default_factory=dict)
    aimed: dict[str, datetime] = field(default_factory=dict)

    def add_job(self, func: Any, trigger: Any, *, args: Any, id: str, **_: Any) -> None:
        self.jobs[id] = (func, args)
        self.aimed[id] = _["next_run_time"]

    def modify_job(self, job_id: str, *, next_run_time: datetime) -> None:
        self.aimed[job_id] = next_run_time

    def fire(self, job_id: str) -> None:
        func, args = self.jobs[job_id]
        func(*args)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def test_daily_job_runs_once_per_local_day_across_both_transitions(
    db: Database,
) -> None:
    for start, days in ((utc(2026, 3, 26, 12), 6), (utc(2026, 10, 22, 12), 6)):
        for at in (time(3, 30), time(9, 0)):
            runs = _hourly_daily_runs(db, start, days, at)
            local_days = [r.astimezone(HELSINKI).date() for r in runs]
            first = start.astimezone(HELSINKI).date()
            every_day = [first + timedelta(days=n) for n in range(days + 1)]
            assert local_days == [
                day
                for day in every_day
                if start < daily_moment(day, at, HELSINKI) < start + timedelta(days)
            ]
            assert all(
                run >= daily_moment(day, at, HELSINKI)
                and run - daily_moment(day, at, HELSINKI) < timedelta(seconds=1)
                for run, day in zip(runs, local_days, strict=True)
            )


def _hourly_daily_runs(
    db: Database, start: datetime, days: int, at: time
) -> list[datetime]:
    """Run a daily job's timer for ``days``; when did it work?"""
    clock = Clock(start)
    scheduler = FakeScheduler()
    timer = Timer(scheduler, Claims(db), clock=clock)  # type: ignore[arg-type]
    runs: list[datetime] = []
    key = f"daily:test-{at:%H%M}-{start:%m}"

    def work(claim: Claim) -> str:
        runs.append(clock.now)
        return "ok"

    timer.add(Periodic(key, DailyAt(at, HELSINKI), work))
    end = start + timedelta(days=days)
    while clock.now < end:
        if clock.now >= scheduler.aimed[key]:
            scheduler.fire(key)
        # Time passes until the timer is due, or an hour, whichever comes first.
        clock.now = min(scheduler.aimed[key], clock.now + timedelta(hours=1), end)
    return runs


def test_interval_job_late_by_hours_runs_once(db: Database) -> None:
    clock = Clock(utc(2026, 6, 1, 8))
    scheduler = FakeScheduler()
    timer = Timer(scheduler, Claims(db), clock=clock)  # type: ignore[arg-type]
    runs: list[datetime] = []
    timer.add(Periodic("source:late", Every(timedelta(hours=1)), _counting(runs)))

    scheduler.fire("source:late")
    clock.now += timedelta(hours=8, minutes=20)  # the machine slept
    for _ in range(3):  # however often the timer fires now, one run
        scheduler.fire("source:late")

    assert len(runs) == 2
    with db.sessions() as session:
        row = session.get(ScheduledJob, "source:late")
        assert row is not None
        assert row.slot == utc(2026, 6, 1, 17)
        assert row.runs == 2
    assert scheduler.aimed["source:late"] >= utc(2026, 6, 1, 17)


def test_a_process_taking_over_keeps_the_slot_a_late_check_left(db: Database) -> None:
    """A check that ends late puts its next slot up to 1.5 intervals away (checks
    stay half an interval apart); a process starting just then must wait for that
    slot, not take the row for one left over from a longer interval and check the
    source again at once (seen as two fetches 0.4 s apart in the SQLite takeover
    test)."""
    hourly = Every(timedelta(hours=1), timedelta(minutes=5))
    clock = Clock(utc(2026, 6, 1, 10))
    runs: list[datetime] = []

    def slow(claim: Claim) -> str:
        runs.append(clock.now)
        clock.now += timedelta(minutes=40)  # the check ends at 10:45
        return "ok"

    first = FakeScheduler()
    Timer(first, Claims(db), clock=clock).add(Periodic("source:s", hourly, slow))  # type: ignore[arg-type]
    clock.now += timedelta(minutes=5)  # past the first slot's jitter
    first.fire("source:s")
    with db.sessions() as session:
        row = session.get(ScheduledJob, "source:s")
        assert row is not None
        assert row.slot == utc(2026, 6, 1, 12)

    clock.now += timedelta(minutes=1)  # the first process exits, another starts
    second = FakeScheduler()
    Timer(second, Claims(db), clock=clock).add(Periodic("source:s", hourly, slow))  # type: ignore[arg-type]
    second.fire("source:s")

    assert second.aimed["source:s"] >= utc(2026, 6, 1, 12)
    clock.now = utc(2026, 6, 1, 11, 30)
    second.fire("source:s")
    assert runs == [utc(2026, 6, 1, 10, 5)]


def test_a_shortened_interval_pulls_in_a_slot_the_old_one_left(db: Database) -> None:
    clock = Clock(utc(2026, 6, 1, 10))
    runs: list[datetime] = []
    daily_ish = Periodic("source:s", Every(timedelta(hours=6)), _counting(runs))
    scheduler = FakeScheduler()
    Timer(scheduler, Claims(db), clock=clock).add(daily_ish)  # type: ignore[arg-type]
    scheduler.fire("source:s")  # next slot 16:00

    clock.now += timedelta(minutes=5)
    hourly = Periodic("source:s", Every(timedelta(hours=1)), _counting(runs))
    scheduler = FakeScheduler()
    Timer(scheduler, Claims(db), clock=clock).add(hourly)  # type: ignore[arg-type]
    scheduler.fire("source:s")

    assert len(runs) == 2  # the hourly cadence did not wait for 16:00


def _counting(runs: list[datetime]) -> Any:
    def work(claim: Claim) -> str:
        runs.append(claim.due_at)
        return "ok"

    return work


def test_a_failing_job_still_moves_on(db: Database) -> None:
    clock = Clock(utc(2026, 6, 1, 8))
    scheduler = FakeScheduler()
    timer = Timer(scheduler, Claims(db), clock=clock)  # type: ignore[arg-type]

    def broken(claim: Claim) -> str:
        raise RuntimeError("boom")

    timer.add(Periodic("source:broken", Every(timedelta(minutes=5)), broken))
    scheduler.fire("source:broken")
    with db.sessions() as session:
        row = session.get(ScheduledJob, "source:broken")
        assert row is not None
        assert row.slot == utc(2026, 6, 1, 8, 5)


@ONLY_POSTGRES
def test_postgres_claims_one_holder_and_takeover_when_it_dies(
    db_url: str,
) -> None:
    first, second = open_database(db_url), open_database(db_url)
    try:
        a, b = Claims(first, runner="a"), Claims(second, runner="b")
        now = utc(2026, 6, 1, 8)
        a.ensure("source:x", now, now, now)

        with a.claim("source:x", now) as held:
            assert held.due
            with b.claim("source:x", now) as other:
                assert other.state == "busy"
            held.reschedule(now + timedelta(hours=1), now + timedelta(hours=1))
        with b.claim("source:x", now) as after:
            assert after.state == "not_due"
            assert after.due_at == now + timedelta(hours=1)

        later = now + timedelta(hours=2)

        def hold_and_die() -> None:
            with a.claim("source:x", later) as held:
                assert held.due
                held.reschedule(later + timedelta(hours=1), later + timedelta(hours=1))
                # The holder's process dies: PostgreSQL ends its session.
                connection = held._connection
                assert connection is not None
                pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
                with second.engine.connect() as admin:
                    admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                    admin.commit()
                    _wait_gone(admin, pid)
                with b.claim("source:x", later) as taken:
                    assert taken.due  # the slot the dead holder had is still to do
                    assert taken.slot == now + timedelta(hours=1)
                    taken.reschedule(now + timedelta(hours=3), later)
                held.keepalive()  # the holder finds out

        with pytest.raises(DBAPIError):
            hold_and_die()
        with second.sessions() as session:
            row = session.get(ScheduledJob, "source:x")
            assert row is not None
            assert row.slot == now + timedelta(hours=3)  # as the taker left it
            assert row.last_runner == "b"
    finally:
        first.close()
        second.close()


def _wait_gone(admin: Any, pid: int) -> None:
    """pg_terminate_backend only signals the backend; wait until it has gone."""
    for _ in range(200):
        alive = admin.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
        ).scalar()
        admin.commit()
        if not alive:
            return
        threading.Event().wait(0.02)
    raise AssertionError(f"backend {pid} did not end")


@ONLY_POSTGRES
def test_postgres_claim_commits_the_jobs_writes_with_the_slot(db_url: str) -> None:
    db = open_database(db_url)
    try:
        claims = Claims(db)
        now = utc(2026, 6, 1, 8)
        claims.ensure("source:y", now, now, now)

        def failing_job() -> None:
            with claims.claim("source:y", now) as claim:
                with claim.db.sessions.begin() as session:
                    written = ScheduledJob(key="written", slot=now, due_at=now, runs=0)
                    session.add(written)
                claim.reschedule(now + timedelta(hours=1), now + timedelta(hours=1))
                raise RuntimeError("the job failed after writing")

        with pytest.raises(RuntimeError):
            failing_job()
        with db.sessions() as session:
            assert session.get(ScheduledJob, "written") is None  # rolled back
            row = session.get(ScheduledJob, "source:y")
            assert row is not None
            assert row.slot == now + timedelta(hours=1)
    finally:
        db.close()


def test_registered_daily_hook_runs_once_a_local_day_in_the_configured_zone(
    db: Database,
) -> None:
    config = Config(
        planwatch=Settings(timezone="Europe/Helsinki", daily_at=time(3, 30))
    )
    seen: list[HookRun] = []

    def staleness(run: HookRun) -> str:
        seen.append(run)
        return "checked"

    register_daily("test-staleness", staleness)
    try:
        (entry,) = [e for e in registered_hooks() if e.name == "test-staleness"]
    finally:
        unregister("test-staleness")
    zone = ZoneInfo(config.planwatch.timezone)
    clock = Clock(utc(2026, 10, 23, 12))
    job = hook_job(entry, zone, config.planwatch.daily_at, config, {}, clock=clock)
    scheduler = FakeScheduler()
    timer = Timer(scheduler, Claims(db), clock=clock)  # type: ignore[arg-type]
    timer.add(job)
    while clock.now < utc(2026, 10, 27, 12):
        if clock.now >= scheduler.aimed[job.key]:
            scheduler.fire(job.key)
        clock.now = min(scheduler.aimed[job.key], clock.now + timedelta(hours=1))

    assert job.key == "daily:test-staleness"
    assert [run.day for run in seen] == [
        date(2026, 10, 24),
        date(2026, 10, 25),  # the night the clocks go back: once
        date(2026, 10, 26),
        date(2026, 10, 27),
    ]
    assert [run.slot for run in seen] == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
        utc(2026, 10, 27, 1, 30),
    ]
    assert all(run.config is config for run in seen)


def test_config_names_the_bad_time_zone() -> None:
    with pytest.raises(ConfigError, match=r"planwatch.timezone = 'Europe/Helsingfors'"):
        parse_config({"planwatch": {"timezone": "Europe/Helsingfors"}})


@ONLY_POSTGRES
def test_postgres_ends_a_silent_claim_and_keeps_a_live_one(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A holder that goes quiet (its machine vanished) loses the row after
    # CLAIM_TIMEOUT; one that keeps it alive does not. Here 1 s instead of 2 min.
    monkeypatch.setattr(scheduling, "CLAIM_TIMEOUT", timedelta(seconds=1))
    monkeypatch.setattr(scheduling, "KEEPALIVE", timedelta(seconds=0.2))
    db = open_database(db_url)
    try:
        claims = Claims(db)
        now = utc(2026, 6, 1, 8)
        claims.ensure("source:quiet", now, now, now)
        claims.ensure("source:alive", now, now, now)

        def silent() -> None:
            with claims.claim("source:quiet", now) as claim:
                threading.Event().wait(2)
                claim.reschedule(now + timedelta(hours=1), now + timedelta(hours=1))

        with pytest.raises(DBAPIError):
            silent()
        with claims.claim("source:alive", now) as claim:
            claim.hold_while(lambda: threading.Event().wait(2))
            claim.reschedule(now + timedelta(hours=1), now + timedelta(hours=1))
        with db.sessions() as session:
            quiet = session.get(ScheduledJob, "source:quiet")
            alive = session.get(ScheduledJob, "source:alive")
            assert quiet is not None
            assert alive is not None
            assert quiet.slot == now  # still to do, by whoever claims it next
            assert alive.slot == now + timedelta(hours=1)
    finally:
        db.close()


# -- APScheduler, and a wall clock that jumps ---------------------------------------


def test_scheduler_runs_a_job_once_after_the_machine_slept(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scheduler's waits count only time the machine was awake; it must look at
    # the wall clock on its own every MAX_SLEEP seconds (30; here 0.1).
    monkeypatch.setattr(scheduling, "MAX_SLEEP", 0.1)
    db = open_database(str(tmp_path / "sleep.sqlite"))
    scheduler = PlanwatchScheduler(timezone=UTC)
    ran = threading.Semaphore(0)
    runs: list[datetime] = []

    def work(claim: Claim) -> str:
        runs.append(datetime.now(UTC))
        ran.release()
        return "ok"

    with time_machine.travel(utc(2026, 6, 1, 8), tick=True) as traveller:
        timer = Timer(scheduler, Claims(db))
        timer.add(Periodic("source:sleepy", Every(timedelta(minutes=10)), work))
        thread = threading.Thread(target=scheduler.start, daemon=True)
        thread.start()
        try:
            assert ran.acquire(timeout=10)
            traveller.shift(timedelta(hours=8))  # the lid was closed all night
            assert ran.acquire(timeout=10)
            timer.wait_idle()  # the job has re-aimed its timer
            job = scheduler.get_job("source:sleepy")
            woke = datetime.now(UTC)
        finally:
            timer.stop()
            scheduler.shutdown(wait=False)
            thread.join(5)
            timer.wait_idle()
            db.close()

    assert len(runs) == 2
    assert runs[1] - runs[0] >= timedelta(hours=8)
    assert job.next_run_time > woke + timedelta(minutes=5)


# -- locks --------------------------------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Any) -> Iterator[Database]:
    db = open_database(str(tmp_path / "locks.sqlite"))
    yield db
    db.close()


def test_second_sqlite_holder_is_refused_naming_the_first(sqlite_db: Database) -> None:
    with acting_on(sqlite_db, "run"):
        with pytest.raises(DatabaseBusy) as refused, acting_on(sqlite_db, "run"):
            pass  # pragma: no cover
        message = str(refused.value)
        assert "planwatch run (pid " in message
        assert "--wait" in message
        assert str(sqlite_lock_path(sqlite_db)).removesuffix(".lock") in message
    with acting_on(sqlite_db, "check"):  # free again
        pass


def test_sqlite_waiter_takes_over_when_the_holder_ends(sqlite_db: Database) -> None:
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with acting_on(sqlite_db, "run"):
            order.append("first in")
            holding.set()
            release.wait(10)
            order.append("first out")

    def second() -> None:
        with acting_on(sqlite_db, "run", wait=True):
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=second)
    two.start()
    release.set()
    one.join(10)
    two.join(10)
    assert order == ["first in", "first out", "second in"]


@ONLY_POSTGRES
def test_postgres_processes_share_unless_one_is_exclusive(db_url: str) -> None:
    one, two = open_database(db_url), open_database(db_url)
    try:
        with (
            acting_on(one, "run"),
            acting_on(two, "run"),
            pytest.raises(DatabaseBusy, match="--exclusive needs the database"),
            acting_on(two, "run", exclusive=True),
        ):
            pass  # pragma: no cover
        with (
            acting_on(one, "run", exclusive=True),
            pytest.raises(DatabaseBusy, match=r"planwatch run \(pid"),
            acting_on(two, "check"),
        ):
            pass  # pragma: no cover
        with acting_on(two, "run", exclusive=True):
            pass
    finally:
        one.close()
        two.close()
