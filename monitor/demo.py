"""``planwatch demo``: the whole pipeline on real Kausal Watch pages, on 127.0.0.1.

It serves the lab-2024 "before" pages, checks them (the baseline), switches the
server to the "after" pages, checks again, and delivers the notification to a real
receiver on 127.0.0.1 through Apprise's ``json://`` target.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.fetch import Fetcher, FetchPolicy
from monitor.localserve import (
    ReceiverState,
    SavedPage,
    SiteState,
    read_fixture,
    receiver,
    serve_site,
)
from monitor.pipeline import CheckReport, PageObservation, fetch_pages, record_check
from notifiers.deliver import Delivery, deliver_pending
from notifiers.targets import Target
from parsers.errors import PlanwatchError
from storage.db import Database, open_database

LAB = Path(__file__).resolve().parent.parent / "fixtures" / "kausal-watch" / "lab-2024"
LANGUAGES = ("fi", "en")  # Finnish is the demo plan's primary language: no prefix


@dataclass(frozen=True, slots=True)
class DemoResult:
    baseline: CheckReport
    after: CheckReport
    deliveries: list[Delivery]
    received: list[dict[str, object]]
    database: Path


def lab_pages(phase: str, lab: Path = LAB) -> dict[str, SavedPage]:
    """Path -> page for one phase ("before" or "after") of the lab-2024 site."""
    pages = {}
    for name, path in _page_paths():
        for lang in LANGUAGES:
            prefix = "" if lang == "fi" else f"/{lang}"
            body = read_fixture(lab / phase / "html" / f"{name}.{lang}.html")
            pages[prefix + path] = SavedPage(body)
    return pages


def _page_paths() -> Iterator[tuple[str, str]]:
    yield "action-list", "/actions"
    for org in range(1, 6):
        yield f"organization-{org}", f"/organizations/{org}"
    for action in range(1, 11):
        yield f"action-{action}", f"/actions/{action}"


def run_demo(database: Path, lab: Path = LAB) -> DemoResult:
    _replaceable(database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    db = open_database(str(database))
    site = SiteState(pages=lab_pages("before", lab))
    inbox = ReceiverState()
    try:
        with serve_site(site) as base, receiver(inbox) as receiver_url:
            urls = [base + path for path in site.pages]
            target = Target("demo-receiver", receiver_url.replace("http", "json", 1))
            targets = {target.name: target}

            baseline = _check(db, urls, targets)
            site.replace(lab_pages("after", lab))
            after = _check(db, urls, targets)
            deliveries = deliver_pending(db.sessions, targets)
            received = [m.json() for m in inbox.wait_for(len(deliveries), 5.0)]
    finally:
        db.close()
    return DemoResult(baseline, after, deliveries, received, database)


def _replaceable(database: Path) -> None:
    """Refuse to delete anything but a missing or empty file or an earlier demo's
    history: ``demo --db planwatch.sqlite`` deleted the real history it named."""
    if not database.exists() or (database.is_file() and not database.stat().st_size):
        return
    try:
        uri = f"{database.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            rows = connection.execute("SELECT name FROM sources ORDER BY name")
            sources = [str(name) for (name,) in rows]
    except sqlite3.Error:
        sources = None
    if sources is not None and set(sources) <= {"demo"}:
        return
    holds = (
        f"the history of {', '.join(sources)}"
        if sources is not None
        else "something that is not a planwatch demo's history"
    )
    raise PlanwatchError(
        f"{database} holds {holds}; the demo starts afresh and would delete it: "
        "give --db a new file's path"
    )


def _check(db: Database, urls: list[str], targets: dict[str, Target]) -> CheckReport:
    policy = FetchPolicy(
        user_agent="planwatch-demo/0.1",
        contact="demo@127.0.0.1",
        min_delay_per_host=0.0,
        jitter=0.0,
        respect_robots=True,
    )

    async def fetch_all() -> list[PageObservation]:
        async with Fetcher(policy) as fetcher:
            return await fetch_pages(fetcher, urls)

    observations = asyncio.run(fetch_all())
    return record_check(db, "demo", observations, targets=targets)
