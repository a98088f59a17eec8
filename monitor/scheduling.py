"""When periodic work is due, and which process does it.

Every periodic job (checking a source, delivering the outbox, a daily job) has one row
in the ``schedules`` table: the slot it is next due for and the moment it is due
(the slot plus jitter). The row, not any process's memory, decides:

- a late job (the machine slept, the process was down) runs once when it can: the
  next slot is the first one of the job's cadence after *now*, so missed slots are
  skipped, never replayed;
- on PostgreSQL any number of ``planwatch run`` processes share the rows: a process
  claims a due row with ``SELECT ... FOR UPDATE SKIP LOCKED`` and keeps the row
  locked, in an open transaction, until the job's results are committed together
  with the row's next slot. A second process skips the locked row, so every due slot
  runs exactly once; if the holder dies, PostgreSQL ends its session, the row is
  unlocked with the old slot, and the next process whose timer fires takes it over.
  ``idle_in_transaction_session_timeout`` (kept alive by the holder while it works)
  frees the row of a machine that vanished without closing its connection;
- on SQLite one process acts at a time (see ``monitor.locks``), so a claim needs no
  row lock.

APScheduler (3.x) is each process's timer: one job per row, never overlapping
(``max_instances=1``), coalescing missed runs into one, with no misfire limit; after
every firing the job is moved to the row's due time.

Other areas hook their own periodic work in with `register_daily` (a local time of
day in the configured time zone, e.g. staleness checks) and `register_periodic`
(every so often, e.g. digests that keep their own moments).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Connection, RootTransaction, bindparam, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from monitor.locks import writing
from storage.db import Database
from storage.models import ScheduledJob

if TYPE_CHECKING:
    from monitor.config import Config
    from notifiers.targets import Target

logger = logging.getLogger(__name__)

T = TypeVar("T")

RUNNER = f"{socket.gethostname()}:{os.getpid()}"

# How long a vanished holder keeps a row: PostgreSQL ends a session idle this long
# inside a transaction. A holder at work proves it is alive every KEEPALIVE.
CLAIM_TIMEOUT = timedelta(minutes=2)
KEEPALIVE = timedelta(seconds=20)
# The scheduler never sleeps longer than this: a monotonic wait does not count time
# the machine spent suspended, the wall clock does.
MAX_SLEEP = 30.0


# -- cadences -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``interval``, each slot delayed by a random ``0..jitter``."""

    interval: timedelta
    jitter: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise ValueError(f"interval must be positive, got {self.interval}")
        if self.jitter < timedelta(0):
            raise ValueError(f"jitter must not be negative, got {self.jitter}")

    def first_slot(self, now: datetime) -> datetime:
        # A new job starts soon, not after a whole interval; the jitter spreads many
        # new jobs out.
        return now

    def next_slot(self, slot: datetime, now: datetime) -> datetime:
        """The first slot on ``slot``'s grid at least half an interval after ``now``.

        Missed slots are skipped, and a late check is not followed by another a
        moment later: checks stay at least half an interval apart.
        """
        missed = max(0, (now - slot) // self.interval)
        following = slot + (missed + 1) * self.interval
        if following - now < self.interval / 2:
            following += self.interval
        return following

    def delay(self, rng: random.Random) -> timedelta:
        return self.jitter * rng.random()

    def describe(self) -> str:
        return f"every {self.interval}"


@dataclass(frozen=True, slots=True)
class DailyAt:
    """Once a day at a local time of day in a time zone."""

    at: time
    zone: tzinfo

    def first_slot(self, now: datetime) -> datetime:
        return self.next_slot(None, now)

    def next_slot(self, slot: datetime | None, now: datetime) -> datetime:
        """The first daily moment later than ``now`` (and than ``slot``'s day)."""
        day = now.astimezone(self.zone).date()
        if slot is not None:
            day = max(day, slot.astimezone(self.zone).date())
        while True:
            moment = daily_moment(day, self.at, self.zone)
            if moment > now and (slot is None or moment > slot):
                return moment
            day += timedelta(days=1)

    def delay(self, rng: random.Random) -> timedelta:
        return timedelta(0)

    def describe(self) -> str:
        return f"daily at {self.at:%H:%M} {self.zone}"


Cadence = Every | DailyAt


def daily_moment(day: date, at: time, zone: tzinfo) -> datetime:
    """The UTC moment the wall clock in ``zone`` reads ``at`` on ``day``.

    A time the clock skips (spring forward) comes as late as the skip: 03:30 on
    29 March 2026 in Helsinki is 04:30 summer time, 01:30 UTC. A time the clock shows
    twice (autumn) is its first occurrence: 03:30 on 25 October 2026 in Helsinki is
    03:30 summer time, 00:30 UTC. (PEP 495's fold=0 reading, as notifiers' digests.)
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


class DailyTrigger(BaseTrigger):  # type: ignore[misc]
    """APScheduler trigger for `DailyAt`: once per local day, whatever DST does.

    APScheduler 3's CronTrigger fires a time inside the repeated autumn hour twice.
    """

    def __init__(self, cadence: DailyAt) -> None:
        self.cadence = cadence

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime:
        moment = self.cadence.next_slot(previous_fire_time, now - _TICK)
        return moment.astimezone(now.tzinfo)

    def __str__(self) -> str:
        return self.cadence.describe()


_TICK = timedelta(microseconds=1)


# -- claims -------------------------------------------------------------------------


@dataclass(slots=True)
class Claim:
    """One job's row, as one process found it; ``due`` means this process holds it."""

    key: str
    state: Literal["due", "not_due", "busy"]
    slot: datetime
    due_at: datetime
    db: Database
    _connection: Connection | None = None
    _next: tuple[datetime, datetime] | None = None

    @property
    def due(self) -> bool:
        return self.state == "due"

    def keepalive(self) -> None:
        """Show PostgreSQL this holder is alive (call at least every KEEPALIVE)."""
        if self._connection is not None:
            self._connection.execute(text("SELECT 1"))

    def hold_while(self, work: Callable[[], T]) -> T:
        """Run ``work`` in a helper thread, keeping the claim alive meanwhile.

        For work that does not write through ``db`` (the claim's connection is
        used by one thread at a time): sending the outbox, say.
        """
        if self._connection is None:
            return work()
        with ThreadPoolExecutor(1, thread_name_prefix="planwatch-hold") as pool:
            future = pool.submit(work)
            while True:
                try:
                    return future.result(timeout=KEEPALIVE.total_seconds())
                except FutureTimeout:
                    self.keepalive()

    def reschedule(self, slot: datetime, due_at: datetime) -> None:
        """Set the row's next slot; it is written when the claim ends well."""
        self._next = (slot, due_at)


class _ClaimedDatabase(Database):
    """The claim's own connection, seen as a Database: sessions nest in savepoints.

    Whatever a job writes through it commits together with the row's next slot.
    """

    def __init__(self, db: Database, connection: Connection) -> None:
        super().__init__(db.engine)
        self.sessions = sessionmaker(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        self.readers = self.sessions

    def close(self) -> None:
        """The engine belongs to the real Database."""


class Claims:
    """Claiming rows of ``schedules`` for this process."""

    def __init__(self, db: Database, runner: str = RUNNER) -> None:
        self.db = db
        self.runner = runner
        self.shared = db.dialect == "postgresql"

    def ensure(
        self, key: str, slot: datetime, due_at: datetime, latest: datetime
    ) -> None:
        """Create the row if it is missing; pull in a due time later than ``latest``.

        The second keeps a shortened interval from waiting out the old, long one.
        """
        with writing(self.db), self.db.sessions.begin() as session:
            row = session.get(ScheduledJob, key)
            if row is not None:
                if row.due_at > latest:
                    row.slot, row.due_at = slot, due_at
                return
        try:
            with writing(self.db), self.db.sessions.begin() as session:
                session.add(ScheduledJob(key=key, slot=slot, due_at=due_at, runs=0))
        except IntegrityError:
            logger.debug("%s: another process created its schedule first", key)

    @contextmanager
    def claim(
        self, key: str, now: datetime, *, wait: bool = False, force: bool = False
    ) -> Iterator[Claim]:
        """Take ``key``'s row if it is due (or ``force``d), for the ``with`` block.

        ``wait`` waits for a holder to finish instead of reporting "busy". Leaving the
        block normally commits what the job wrote and the row's next slot; an
        exception rolls the job back but still moves the row on, so a job that keeps
        failing does not run in a tight loop.
        """
        if not self.shared:
            yield from self._claim_local(key, now, force)
            return

        with self.db.engine.connect() as connection:
            transaction = connection.begin()
            timeout_ms = int(CLAIM_TIMEOUT.total_seconds() * 1000)
            connection.execute(
                text(f"SET LOCAL idle_in_transaction_session_timeout = {timeout_ms}")
            )
            locked = connection.execute(
                select(ScheduledJob.slot, ScheduledJob.due_at)
                .where(ScheduledJob.key == key)
                .with_for_update(skip_locked=not wait)
            ).first()
            if locked is None:
                transaction.rollback()
                yield self._busy(key)
                return
            slot, due_at = locked
            if due_at > now and not force:
                transaction.rollback()
                yield Claim(key, "not_due", slot, due_at, self.db)
                return

            claim = Claim(
                key,
                "due",
                slot,
                due_at,
                _ClaimedDatabase(self.db, connection),
                connection,
            )
            try:
                yield claim
            except BaseException:
                _roll_back(transaction)
                if not connection.invalidated:
                    self._move_on(key, claim)
                raise
            # A failure from here on (the connection died) loses the job's work:
            # the row keeps its slot, to be done again by whoever claims it next.
            try:
                self._finish(connection, key, claim)
                transaction.commit()
            except BaseException:
                _roll_back(transaction)
                raise

    def _claim_local(self, key: str, now: datetime, force: bool) -> Iterator[Claim]:
        with self.db.readers() as session:
            row = session.get(ScheduledJob, key)
            if row is None:
                raise KeyError(f"no schedule row {key!r}: call Claims.ensure first")
            slot, due_at = row.slot, row.due_at
        if due_at > now and not force:
            yield Claim(key, "not_due", slot, due_at, self.db)
            return

        claim = Claim(key, "due", slot, due_at, self.db)
        try:
            yield claim
        finally:
            self._move_on(key, claim)

    def _busy(self, key: str) -> Claim:
        # Someone holds the row; its committed values are the slot being worked on.
        with self.db.readers() as session:
            row = session.get(ScheduledJob, key)
            if row is None:
                raise KeyError(f"no schedule row {key!r}: call Claims.ensure first")
            return Claim(key, "busy", row.slot, row.due_at, self.db)

    def _finish(self, connection: Connection, key: str, claim: Claim) -> None:
        if claim._next is None:
            return
        slot, due_at = claim._next
        moved = {
            "job": key,
            "next_slot": slot,
            "next_due_at": due_at,
            "ran_at": claim.due_at,
            "runner": self.runner,
        }
        connection.execute(_MOVE_ON, moved)

    def _move_on(self, key: str, claim: Claim) -> None:
        if claim._next is None:
            return
        with writing(self.db), self.db.engine.begin() as connection:
            self._finish(connection, key, claim)


# Built once: every finished claim runs it with its own values.
_MOVE_ON = (
    update(ScheduledJob)
    .where(ScheduledJob.key == bindparam("job"))
    .values(
        slot=bindparam("next_slot", type_=ScheduledJob.slot.type),
        due_at=bindparam("next_due_at", type_=ScheduledJob.due_at.type),
        last_run_at=bindparam("ran_at", type_=ScheduledJob.last_run_at.type),
        last_runner=bindparam("runner", type_=ScheduledJob.last_runner.type),
        runs=ScheduledJob.runs + 1,
    )
)


def _roll_back(transaction: RootTransaction) -> None:
    if transaction.is_active:
        with contextlib.suppress(Exception):  # a dead connection has nothing to undo
            transaction.rollback()


# -- the scheduler ------------------------------------------------------------------


class PlanwatchScheduler(BlockingScheduler):  # type: ignore[misc]
    """APScheduler's blocking scheduler, waking at least every MAX_SLEEP seconds."""

    def _process_jobs(self) -> float | None:
        wait: float | None = super()._process_jobs()
        return MAX_SLEEP if wait is None else min(wait, MAX_SLEEP)


@dataclass(frozen=True, slots=True)
class Periodic:
    """One periodic job: a key in ``schedules``, a cadence and the work.

    ``work`` gets the claim (its ``db`` writes in the claim's transaction) and returns
    a short description of what it did, for the log.
    """

    key: str
    cadence: Cadence
    work: Callable[[Claim], str | None]


@dataclass(slots=True)
class Timer:
    """Drives `Periodic` jobs from one APScheduler scheduler and one `Claims`."""

    scheduler: BlockingScheduler
    claims: Claims
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)
    # How far past a row's due time this process's timer fires: spreads the
    # processes of a cluster, so that they do not all query at the same instant.
    spread: timedelta = timedelta(seconds=0.25)
    _in_flight: int = 0
    _stopped: bool = False
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def add(self, job: Periodic) -> None:
        now = self.clock()
        slot = job.cadence.first_slot(now)
        due_at = slot + job.cadence.delay(self.rng)
        self.claims.ensure(job.key, slot, due_at, now + _longest_wait(job.cadence))
        trigger: Any = (
            DailyTrigger(job.cadence)
            if isinstance(job.cadence, DailyAt)
            else "interval"
        )
        options: dict[str, Any] = {}
        if isinstance(job.cadence, Every):
            options["seconds"] = job.cadence.interval.total_seconds()
        self.scheduler.add_job(
            self.fire,
            trigger,
            args=(job,),
            id=job.key,
            name=job.key,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=now,
            **options,
        )

    def stop(self) -> int:
        """Start no more work; return how many jobs are at work now."""
        with self._idle:
            self._stopped = True
            return self._in_flight

    def wait_idle(self) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0)

    def fire(self, job: Periodic) -> None:
        """One firing of ``job``'s timer: claim its row, work if due, re-aim."""
        with self._idle:
            if self._stopped:
                return
            self._in_flight += 1
        try:
            self._fire(job)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _fire(self, job: Periodic) -> None:
        now = self.clock()
        try:
            with self.claims.claim(job.key, now) as claim:
                if claim.due:
                    self._work(job, claim)
        except Exception:
            logger.exception("%s: the scheduler could not run it", job.key)
            self._aim(job, now + timedelta(seconds=MAX_SLEEP))
            return
        self._aim(job, self._next_look(job, claim))

    def _work(self, job: Periodic, claim: Claim) -> None:
        started = _time.monotonic()
        late = self.clock() - claim.due_at
        try:
            summary = job.work(claim)
        except Exception:
            logger.exception("%s failed", job.key)
            summary = "failed"
        finally:
            # The next slot counts from when the work ended, so a check that takes
            # longer than its interval is not followed by an immediate second one.
            now = self.clock()
            slot = job.cadence.next_slot(claim.slot, now)
            claim.reschedule(slot, slot + job.cadence.delay(self.rng))
        if summary is not None:
            logger.info(
                "%s: %s (%.2f s%s)",
                job.key,
                summary,
                _time.monotonic() - started,
                f", {late.total_seconds():.0f} s late" if late > _LATE else "",
            )

    def _next_look(self, job: Periodic, claim: Claim) -> datetime:
        if claim.state == "due" and claim._next is not None:
            return claim._next[1]
        if claim.state == "busy":
            # Another process works on this slot and will move the row to the next
            # one; look again then (a holder that dies leaves the slot to us).
            upcoming = job.cadence.next_slot(claim.slot, claim.slot)
            return upcoming + job.cadence.delay(self.rng)
        return claim.due_at

    def _aim(self, job: Periodic, moment: datetime) -> None:
        if self._stopped:
            return
        when = moment + self.spread * self.rng.random()
        try:
            self.scheduler.modify_job(job.key, next_run_time=when)
        except Exception:  # the scheduler is shutting down, or the job is gone
            logger.debug("could not re-aim %s", job.key)


_LATE = timedelta(seconds=60)


def _longest_wait(cadence: Cadence) -> timedelta:
    """How far ahead a row's due time can lie when this cadence set it: a check that
    ended late puts the next slot up to 1.5 intervals away (``Every.next_slot``)."""
    if isinstance(cadence, Every):
        return cadence.interval * 3 / 2 + cadence.jitter
    return timedelta(days=1, hours=1)


# -- hooks for other areas ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HookRun:
    """What a daily or periodic hook gets: when it runs, for which slot, and where.

    ``db`` writes in the claim's transaction; ``day`` is the local date of a daily
    hook's slot (None for periodic hooks). A hook that goes two minutes without
    touching ``db`` (sending messages, say) calls ``keepalive`` in between, or
    PostgreSQL ends the claim.
    """

    name: str
    slot: datetime
    now: datetime
    day: date | None
    db: Database
    config: Config
    targets: Mapping[str, Target]
    keepalive: Callable[[], None] = lambda: None


Hook = Callable[[HookRun], str | None]


@dataclass(frozen=True, slots=True)
class _Registered:
    name: str
    hook: Hook
    at: time | None = None
    every: timedelta | None = None


_HOOKS: dict[str, _Registered] = {}


def register_daily(name: str, hook: Hook, *, at: time | None = None) -> None:
    """Run ``hook`` once a day at ``at`` (default: config ``daily_at``), local time.

    The time zone is config ``timezone``. Across every ``planwatch run`` sharing a
    database the hook runs once per local day; a day the machine slept through runs
    once when it wakes. Register at import time of your module, before ``run``.
    """
    _register(_Registered(name, hook, at=at))


def register_periodic(name: str, hook: Hook, *, every: timedelta) -> None:
    """Run ``hook`` every ``every`` (once per period across all processes)."""
    if every <= timedelta(0):
        raise ValueError(f"hook {name!r}: every must be positive, got {every}")
    _register(_Registered(name, hook, every=every))


def _register(entry: _Registered) -> None:
    if not entry.name or any(c.isspace() for c in entry.name):
        raise ValueError(f"hook name must be a word, got {entry.name!r}")
    _HOOKS[entry.name] = entry


def registered_hooks() -> Sequence[_Registered]:
    return list(_HOOKS.values())


def unregister(name: str) -> None:
    _HOOKS.pop(name, None)


def hook_job(
    entry: _Registered,
    zone: tzinfo,
    default_at: time,
    config: Config,
    targets: Mapping[str, Target],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Periodic:
    """The `Periodic` job that runs a registered hook."""
    cadence: Cadence
    if entry.every is not None:
        cadence, key = Every(entry.every), f"every:{entry.name}"
    else:
        cadence, key = DailyAt(entry.at or default_at, zone), f"daily:{entry.name}"

    def work(claim: Claim) -> str | None:
        day = (
            claim.slot.astimezone(zone).date() if isinstance(cadence, DailyAt) else None
        )
        run = HookRun(
            entry.name,
            claim.slot,
            clock(),
            day,
            claim.db,
            config,
            targets,
            claim.keepalive,
        )
        return entry.hook(run)

    return Periodic(key, cadence, work)
