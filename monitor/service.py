"""Checking configured sources: once (``check``) or on a schedule (``run``)."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from monitor.config import Config, SourceConfig
from monitor.fetch import Fetcher, FetchPolicy
from monitor.pipeline import CheckReport, PageObservation, fetch_pages, record_check
from notifiers.deliver import Delivery, deliver_pending
from notifiers.targets import Target
from storage.db import Database

logger = logging.getLogger(__name__)

DELIVERY_INTERVAL = timedelta(minutes=1)


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
        allowed_hosts=frozenset(hosts),
    )


def check_sources(
    db: Database,
    config: Config,
    targets: Mapping[str, Target],
    sources: Sequence[SourceConfig] | None = None,
) -> tuple[list[CheckReport], list[Delivery]]:
    """Check each source once, then deliver what the checks queued."""
    chosen = list(sources if sources is not None else config.sources)
    policy = fetch_policy(config, chosen)

    async def fetch_all() -> list[list[PageObservation]]:
        async with Fetcher(policy) as fetcher:
            return list(
                await asyncio.gather(*(fetch_pages(fetcher, s.pages) for s in chosen))
            )

    observed = asyncio.run(fetch_all())
    reports = [
        record_check(
            db,
            source.name,
            observations,
            targets=targets,
            failures_before_alert=source.failures_before_alert,
        )
        for source, observations in zip(chosen, observed, strict=True)
    ]
    deliveries = deliver_pending(db.sessions, targets)
    return reports, deliveries


def run_forever(db: Database, config: Config, targets: Mapping[str, Target]) -> None:
    """Check every source on its interval until SIGINT or SIGTERM."""
    scheduler = BlockingScheduler(timezone=UTC)
    now = datetime.now(UTC)
    for source in config.sources:
        scheduler.add_job(
            _check_one,
            "interval",
            args=(db, config, targets, source),
            minutes=source.interval_minutes,
            jitter=int(source.jitter_seconds) or None,
            next_run_time=now + timedelta(seconds=random.uniform(0, 5)),
            id=f"source:{source.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.add_job(
        deliver_pending,
        "interval",
        args=(db.sessions, targets),
        seconds=DELIVERY_INTERVAL.total_seconds(),
        id="deliveries",
        max_instances=1,
        coalesce=True,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: finishing checks in flight, then stopping", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    logger.info("watching %d sources", len(config.sources))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        logger.info("interrupted: stopping")


def _check_one(
    db: Database, config: Config, targets: Mapping[str, Target], source: SourceConfig
) -> None:
    try:
        check_sources(db, config, targets, [source])
    except Exception:
        logger.exception("check of %s failed", source.name)
