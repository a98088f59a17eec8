"""Conditional requests end to end: 304s and unchanged bodies reuse the last parse.

A series of checks against a site on 127.0.0.1 that answers with ETags (and 304s)
must find exactly what the same series finds against a site that sends the same
bytes without validators (every page parsed every time): the same outcomes, the same
events, no page failed, no action missing. Both for a long-running process (pages
remembered in memory) and for one-shot checks (the stored body parsed again).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from rich.console import Console
from sqlalchemy import select

from monitor.conditional import FULL_FETCH_EVERY, body_hash
from monitor.config import Config, Settings, SourceConfig
from monitor.demo import lab_pages
from monitor.pipeline import CheckOutcome, CheckReport
from monitor.progress import page_progress
from monitor.service import Checker, check_sources, fetch_policy
from monitor.workers import FetchLoop
from storage.db import Database, open_database
from storage.events import Event
from storage.models import ActionRecord, PageValidators
from tests.sched_site import LabSite, Mode, serving

PATHS = (
    "/actions",
    "/en/actions",
    "/organizations/2",
    "/actions/1",
    "/actions/3",
    "/actions/5",
)
EDITED = ("/actions/3", "/actions/5")  # switched to the pages after real edits


def _pages(phase: str, paths: tuple[str, ...] = PATHS) -> dict[str, bytes]:
    every = lab_pages(phase)
    return {path: every[path].body for path in paths}


def _config(base: str) -> Config:
    return Config(
        planwatch=Settings(contact="tests@127.0.0.1", min_delay_seconds=0),
        sources=[SourceConfig(name="lab", pages=[base + p for p in PATHS])],
    )


@dataclass(frozen=True)
class Step:
    outcome: CheckOutcome
    failed_pages: int
    events: tuple[tuple[Any, ...], ...]
    statuses: tuple[int, ...]


def _event_key(event: Event) -> tuple[Any, ...]:
    return (
        event.kind.value,
        event.action_id,
        event.organization_id,
        event.field,
        repr(event.before),
        repr(event.after),
    )


def _series(db: Database, mode: Mode, *, warm: bool) -> list[Step]:
    """Five checks: baseline, unchanged, two pages edited, unchanged, unchanged."""
    site = LabSite(_pages("before"), mode=mode)
    steps = []
    with serving(site):
        config = _config(site.base)
        with _checker(config, warm) as check:
            for number in range(5):
                if number == 2:
                    site.replace(_pages("after", EDITED))
                seen = len(site.hits)
                report = check(db)
                statuses = tuple(
                    hit.status for hit in site.hits[seen:] if hit.path in PATHS
                )
                steps.append(
                    Step(
                        report.outcome,
                        report.failed_pages,
                        tuple(sorted(_event_key(e) for e in report.events)),
                        statuses,
                    )
                )
    return steps


@dataclass
class _Check:
    config: Config
    checker: Checker | None

    def __call__(self, db: Database) -> CheckReport:
        if self.checker is None:  # a one-shot `planwatch check`: nothing in memory
            reports, _ = check_sources(db, self.config, {})
            return reports[0]
        return self.checker.check(db, self.config.sources[0]).report


@contextmanager
def _checker(config: Config, warm: bool) -> Iterator[_Check]:
    if not warm:
        yield _Check(config, None)
        return
    with FetchLoop(fetch_policy(config, config.sources)) as loop:
        yield _Check(config, Checker(config, {}, loop))


@pytest.fixture(scope="module")
def plain_steps(tmp_path_factory: pytest.TempPathFactory) -> list[Step]:
    path = tmp_path_factory.mktemp("plain") / "plain.sqlite"
    db = open_database(str(path))
    try:
        return _series(db, "plain", warm=True)
    finally:
        db.close()


def _without_statuses(steps: list[Step]) -> list[tuple[Any, ...]]:
    return [(s.outcome, s.failed_pages, s.events) for s in steps]


@pytest.mark.parametrize("warm", [True, False], ids=["run", "check"])
def test_304s_find_exactly_what_full_fetches_find(
    db: Database, warm: bool, plain_steps: list[Step]
) -> None:
    steps = _series(db, "etag", warm=warm)

    assert _without_statuses(steps) == _without_statuses(plain_steps)
    assert [s.outcome for s in steps] == [
        CheckOutcome.BASELINE,
        CheckOutcome.UNCHANGED,
        CheckOutcome.CHANGED,
        CheckOutcome.UNCHANGED,
        CheckOutcome.UNCHANGED,
    ]
    assert steps[2].events, "the edits are found"
    assert all(s.failed_pages == 0 for s in steps)
    # After the baseline, unchanged pages answer 304; edited ones 200 once.
    assert set(steps[0].statuses) == {200}
    assert set(steps[1].statuses) == {304}
    assert sorted(steps[2].statuses) == [200, 200, 304, 304, 304, 304]
    assert set(steps[3].statuses) == {304}
    assert set(steps[4].statuses) == {304}
    with db.sessions() as session:
        removed = session.scalars(
            select(ActionRecord).where(ActionRecord.removed_at.is_not(None))
        ).all()
        assert removed == []  # 304 pages hide no action
        assert len(session.scalars(select(PageValidators)).all()) == len(PATHS)


def test_kausal_style_answers_reuse_the_parse_of_the_same_body(
    tmp_path: Path, plain_steps: list[Step]
) -> None:
    db = open_database(str(tmp_path / "kausal.sqlite"))
    site = LabSite(_pages("before"), mode="kausal")
    try:
        with serving(site):
            config = _config(site.base)
            loop = FetchLoop(fetch_policy(config, config.sources))
            checker = Checker(config, {}, loop)
            first = checker.check(db, config.sources[0])
            second = checker.check(db, config.sources[0])
            loop.close()
    finally:
        db.close()

    assert first.tally.fetched == len(PATHS)
    assert second.tally.same_body == len(PATHS)
    assert second.tally.fetched == 0
    assert second.report.outcome is CheckOutcome.UNCHANGED
    assert second.report.failed_pages == 0
    assert not second.report.events


def test_a_server_answering_304_wrongly_is_caught_by_the_daily_full_fetch(
    tmp_path: Path,
) -> None:
    db = open_database(str(tmp_path / "wrong.sqlite"))
    site = LabSite(_pages("before"), mode="wrong304")
    try:
        with (
            time_machine.travel("2026-12-04 08:00Z", tick=True) as traveller,
            serving(site),
        ):
            config = _config(site.base)
            loop = FetchLoop(fetch_policy(config, config.sources))
            checker = Checker(config, {}, loop)
            checker.check(db, config.sources[0])
            site.replace(_pages("after", EDITED))
            traveller.shift(timedelta(hours=1))
            fooled = checker.check(db, config.sources[0])
            traveller.shift(FULL_FETCH_EVERY)
            caught = checker.check(db, config.sources[0])
            loop.close()
    finally:
        db.close()

    assert fooled.tally.not_modified == len(PATHS)
    assert fooled.report.outcome is CheckOutcome.UNCHANGED
    # A day on, every page is fetched in full: the edited ones are parsed, the
    # others prove to be the same body as before.
    assert caught.tally.not_modified == 0
    assert caught.tally.fetched == len(EDITED)
    assert caught.tally.same_body == len(PATHS) - len(EDITED)
    assert caught.report.outcome is CheckOutcome.CHANGED


def test_body_hash_ignores_render_time_and_tracing_only() -> None:
    page = lab_pages("before")["/actions/1"].body
    assert b'now\\":\\"$D2026-' in page
    later = page.replace(b'now\\":\\"$D2026-12-03', b'now\\":\\"$D2027-01-15')
    traced = page.replace(
        b"<head>",
        b'<head><meta name="sentry-trace" content="dea9dca4-fe0bd648-1"/>',
        1,
    )
    retraced = traced.replace(b"dea9dca4-fe0bd648", b"0123abcd-456789ef")
    edited = page.replace(b"Demo", b"Demi", 1)

    assert later != page
    assert body_hash(later) == body_hash(page)
    assert body_hash(retraced) == body_hash(traced)
    assert body_hash(edited) != body_hash(page)
    assert body_hash(traced) != body_hash(page)  # a new tag is a change


def test_check_shows_a_progress_bar_of_pages_on_a_terminal_only(
    tmp_path: Path,
) -> None:
    site = LabSite(_pages("before"), mode="etag")
    seen: dict[bool, str] = {}
    with serving(site):
        config = _config(site.base)
        for terminal in (True, False):
            screen = io.StringIO()
            console = Console(file=screen, force_terminal=terminal, width=120)
            db = open_database(str(tmp_path / f"{terminal}.sqlite"))
            try:
                with page_progress(console, config.sources) as on_page:
                    check_sources(db, config, {}, on_page=on_page)
            finally:
                db.close()
            seen[terminal] = screen.getvalue()

    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen[True])
    assert "checking 1 sources" in drawn
    assert f"/{len(PATHS)} pages" in drawn
    assert seen[False] == ""  # nothing but the report when output is not a terminal
