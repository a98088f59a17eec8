"""Checking configured sources: once (``check``) or on a schedule (``run``).

A check of one source goes the same way in both: claim the source's row in
``schedules`` (``monitor.scheduling``), load what is known of its pages, fetch them
(conditionally: ``monitor.conditional``) on the process's one fetch loop, observe
them (unchanged pages reuse their last parse), record the check, then store the
validators to send next time. On PostgreSQL all of it commits in the claim's
transaction, together with the source's next slot.

``run`` holds the right to act on the database (``monitor.locks``) and drives one
timer per source, one for the outbox and one per registered hook. SIGTERM or SIGINT
stops the timers, lets the checks in flight finish and record, and returns.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor as Threads
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor

from monitor import conditional
from monitor.api_source import with_api
from monitor.conditional import PageMemory, Tally
from monitor.config import Config, SourceConfig
from monitor.discover import SiteCache, source_pages
from monitor.fetch import FetchPolicy, FetchResult
from monitor.locks import acting_on, writing
from monitor.pipeline import CheckReport, record_check
from monitor.rules import ChangeRules
from monitor.scheduling import (
    Claim,
    Claims,
    Every,
    Periodic,
    PlanwatchScheduler,
    Timer,
    hook_job,
    registered_hooks,
)
from monitor.settled import SettledChecks
from monitor.workers import FetchLoop
from notifiers.deliver import Delivery, deliver_pending
from notifiers.targets import Target
from storage.db import Database

logger = logging.getLogger(__name__)

DELIVERY_INTERVAL = timedelta(minutes=1)
# Checks running at once in one process; their fetches share one loop and are paced
# per host by the one Fetcher. Each holds a database connection while it runs.
PARALLEL_CHECKS = 8

PageCallback = Callable[[str, FetchResult], None]


def fetch_policy(config: Config, sources: Sequence[SourceConfig]) -> FetchPolicy:
    hosts = set()
    for source in sources:
        for url in source.pages:
            host = url.split("://", 1)[1].split("/", 1)[0].split(":")[0]
            hosts.add(host)
    settings = config.planwatch
    return FetchPolicy(
        user_agent=settings.user_agent,
        contact=settings.contact,
        min_delay_per_host=settings.min_delay_seconds,
        # Random jitter of up to half the minimum delay on top of it.
        jitter=settings.min_delay_seconds / 2,
        allowed_hosts=frozenset(hosts),
    )


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """One check of one source, as the service saw it."""

    report: CheckReport
    tally: Tally
    fetch_seconds: float

    def summary(self) -> str:
        report = self.report
        return (
            f"{report.outcome.value}, {report.pages} pages ({self.tally.describe()}), "
            f"{len(report.events)} changes, fetched in {self.fetch_seconds:.2f} s"
        )


class Checker:
    """What one process needs to check sources: its fetch loop and page memory.

    ``settled`` remembers each source's last settled check, so that checks which
    only repeat it are recorded without diffing again (`monitor.settled`).
    """

    def __init__(
        self,
        config: Config,
        targets: Mapping[str, Target],
        loop: FetchLoop,
        memory: PageMemory | None = None,
    ) -> None:
        self.config = config
        self.targets = targets
        self.loop = loop
        self.memory = memory if memory is not None else PageMemory()
        self.settled = SettledChecks()
        self.sites = SiteCache()  # what site discovery found, per site

    def check(
        self,
        db: Database,
        source: SourceConfig,
        *,
        keepalive: Callable[[], None] | None = None,
        on_page: PageCallback | None = None,
    ) -> SourceCheck:
        """Check ``source`` once, writing through ``db`` (a claim's or the real one)."""
        now = datetime.now(UTC)
        pages = source_pages(source, self.loop, self.sites)  # site = ...: expanded
        known = self.memory.load(db, source.name, pages)

        def page_done(result: FetchResult) -> None:
            if on_page is not None:
                on_page(source.name, result)

        started = time.monotonic()
        fetching = conditional.fetch_all(
            self.loop.fetcher, pages, known, now, page_done
        )
        results = self.loop.run(fetching, keepalive=keepalive)
        fetch_seconds = time.monotonic() - started

        observations, tally = conditional.observe_all(db, results, known, self.memory)
        observations = with_api(source, observations, self.loop, self.config.planwatch)
        with writing(db):
            report = record_check(
                db,
                source.name,
                observations,
                targets=self.targets,
                rules=ChangeRules.from_config(source),
                settled_checks=self.settled,
            )
            conditional.save_validators(db, source.name, results, known)
        return SourceCheck(report, tally, fetch_seconds)


def source_key(source: SourceConfig) -> str:
    return f"source:{source.name}"


def cadence_of(source: SourceConfig) -> Every:
    return Every(
        timedelta(minutes=source.interval_minutes),
        timedelta(seconds=source.jitter_seconds),
    )


# -- once ---------------------------------------------------------------------------


def check_sources(
    db: Database,
    config: Config,
    targets: Mapping[str, Target],
    sources: Sequence[SourceConfig] | None = None,
    *,
    on_page: PageCallback | None = None,
    lock: bool = True,
) -> tuple[list[CheckReport], list[Delivery]]:
    """Check each source once, now, then deliver what the checks queued.

    A check that a ``planwatch run`` sharing the database has in flight is waited
    for; each source's schedule then counts from this check.
    """
    chosen = list(sources if sources is not None else config.sources)
    with (
        _maybe_acting(db, "check", lock),
        FetchLoop(fetch_policy(config, chosen)) as loop,
    ):
        checker = Checker(config, targets, loop)
        claims = Claims(db)
        with Threads(max_workers=max(1, min(PARALLEL_CHECKS, len(chosen)))) as pool:
            futures = [
                pool.submit(check_now, checker, claims, db, s, on_page) for s in chosen
            ]
            reports = [future.result().report for future in futures]
        deliveries = _deliver_now(db, claims, targets)
    return reports, deliveries


@contextmanager
def _maybe_acting(db: Database, command: str, lock: bool) -> Iterator[None]:
    if not lock:
        yield
        return
    with acting_on(db, command):
        yield


def check_now(
    checker: Checker,
    claims: Claims,
    db: Database,
    source: SourceConfig,
    on_page: PageCallback | None = None,
) -> SourceCheck:
    """Check ``source`` now, due or not; its next slot counts from now."""
    cadence = cadence_of(source)
    now = datetime.now(UTC)
    claims.ensure(source_key(source), now, now, now + cadence.interval)
    with claims.claim(source_key(source), now, wait=True, force=True) as claim:
        done = checker.check(
            claim.db, source, keepalive=claim.keepalive, on_page=on_page
        )
        slot = datetime.now(UTC)
        claim.reschedule(slot + cadence.interval, slot + cadence.interval)
    logger.info("%s: %s", source_key(source), done.summary())
    return done


def _deliver_now(
    db: Database, claims: Claims, targets: Mapping[str, Target]
) -> list[Delivery]:
    now = datetime.now(UTC)
    claims.ensure("deliveries", now, now, now + DELIVERY_INTERVAL)
    with claims.claim("deliveries", now, wait=True, force=True) as claim:
        return claim.hold_while(lambda: deliver_pending(db.sessions, targets))


# -- on a schedule ------------------------------------------------------------------


def run_forever(
    db: Database,
    config: Config,
    targets: Mapping[str, Target],
    *,
    wait: bool = False,
    exclusive: bool = False,
) -> None:
    """Check every source on its interval until SIGTERM or SIGINT.

    ``wait``: when another planwatch holds the database, wait for it instead of
    failing; ``exclusive`` (PostgreSQL): act alone instead of sharing the work.
    """
    policy = fetch_policy(config, config.sources)
    with (
        acting_on(db, "run", wait=wait, exclusive=exclusive),
        FetchLoop(policy) as loop,
    ):
        service = _Service(db, config, targets, Checker(config, targets, loop))
        service.start()


class _Service:
    def __init__(
        self,
        db: Database,
        config: Config,
        targets: Mapping[str, Target],
        checker: Checker,
    ) -> None:
        self.db = db
        self.config = config
        self.targets = targets
        self.checker = checker
        self.scheduler = PlanwatchScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(PARALLEL_CHECKS)},
        )
        self.timer = Timer(self.scheduler, Claims(db))
        self._stopping = False

    def start(self) -> None:
        for source in self.config.sources:
            self.timer.add(self._source_job(source))
        self.timer.add(self._delivery_job())
        for job in self._hook_jobs():
            self.timer.add(job)

        previous = {
            signum: signal.signal(signum, self._stop)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        logger.info(
            "watching %d sources on %s",
            len(self.config.sources),
            self.db.engine.url.render_as_string(hide_password=True),
        )
        try:
            self.scheduler.start()
            self.timer.wait_idle()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info("stopped: the checks in flight finished")

    def _source_job(self, source: SourceConfig) -> Periodic:
        def work(claim: Claim) -> str:
            done = self.checker.check(claim.db, source, keepalive=claim.keepalive)
            return done.summary()

        return Periodic(source_key(source), cadence_of(source), work)

    def _delivery_job(self) -> Periodic:
        def work(claim: Claim) -> str | None:
            # Through the real database, not the claim's transaction: each message
            # is marked sent as soon as it is (the outbox has claims of its own).
            deliveries = claim.hold_while(
                lambda: deliver_pending(self.db.sessions, self.targets)
            )
            if not deliveries:
                return None
            sent = sum(1 for d in deliveries if d.status == "sent")
            return f"{sent} of {len(deliveries)} notifications sent"

        return Periodic("deliveries", Every(DELIVERY_INTERVAL), work)

    def _hook_jobs(self) -> list[Periodic]:
        settings = self.config.planwatch
        zone = ZoneInfo(settings.timezone)
        return [
            hook_job(entry, zone, settings.daily_at, self.config, self.targets)
            for entry in registered_hooks()
        ]

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping:
            return
        self._stopping = True
        in_flight = self.timer.stop()
        logger.info(
            "%s: finishing %d checks in flight, then stopping",
            signal.Signals(signum).name,
            in_flight,
        )
        # Not shutdown(wait=True): it holds APScheduler's job store lock while it
        # waits, and a finishing job needs that lock to re-aim its timer.
        self.scheduler.shutdown(wait=False)
