"""Real ``planwatch run`` processes against one database and a site on 127.0.0.1.

- PostgreSQL: three processes share six sources checked every 3 s; one is killed
  (SIGKILL) in the middle. From the site's request log: no source is fetched twice
  for one slot, the killed process's sources are taken over within one interval,
  and every fetch but the one(s) the killed process had in flight is a recorded check.
- SQLite: a second ``run`` exits at once naming the first; a third with ``--wait``
  takes over when the first is stopped by SIGTERM, which lets the check in flight
  finish and be recorded, and exits 0.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.demo import lab_pages
from storage.db import Database, open_database
from storage.models import Check, Source
from tests.sched_site import Hit, LabSite, serving

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 3.0  # seconds
JITTER = 0.3
SOURCES = 6
IN_FLIGHT = 2.0  # seconds: a fetch this close before the kill may be lost
# Slots are at least half an interval apart; a request reaches the site a little
# after its slot starts (robots.txt, politeness, a loaded machine), so gaps between
# arrivals may be short of that by this much. A slot fetched twice is ~0 apart.
ARRIVAL_SLACK = 0.5  # seconds

# The PostgreSQL case of the shared ``db_url`` fixture only (a fresh schema).
ONLY_POSTGRES = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@dataclass
class Runner:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def agent(self) -> str:
        return f"({'+'}{self.name}@127.0.0.1)"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def _config(tmp: Path, name: str, base: str, paths: list[str]) -> Path:
    sources = "".join(
        f"""
[[sources]]
name = "s{number}"
pages = ["{base}{path}"]
interval_minutes = {INTERVAL / 60}
jitter_seconds = {JITTER}
"""
        for number, path in enumerate(paths, start=1)
    )
    text = f"""
[planwatch]
contact = "{name}@127.0.0.1"
min_delay_seconds = 0
{sources}"""
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(tmp: Path, name: str, config: Path, db_url: str, *extra: str) -> Runner:
    log = tmp / f"{name}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from monitor.cli import main; main()",
            "run",
            "--config",
            str(config),
            "--db",
            db_url,
            *extra,
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    handle.close()
    return Runner(name, process, log)


@contextmanager
def _runners() -> Iterator[list[Runner]]:
    started: list[Runner] = []
    try:
        yield started
    finally:
        for runner in started:
            if runner.process.poll() is None:
                runner.process.kill()
                runner.process.wait(10)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _page_hits(site: LabSite, paths: list[str]) -> dict[str, list[Hit]]:
    with site.lock:
        hits = list(site.hits)
    by_path: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        if hit.path in paths:
            by_path[hit.path].append(hit)
    return by_path


def _checks(db_url: str) -> dict[str, int]:
    db = open_database(db_url)
    try:
        with db.sessions() as session:
            rows = session.execute(
                select(Source.name, Check.id, Check.outcome).join(
                    Check, Check.source_id == Source.id
                )
            ).all()
    finally:
        db.close()
    counts: dict[str, int] = defaultdict(int)
    for name, _, outcome in rows:
        assert outcome != "running"
        counts[name] += 1
    return counts


def _site(paths: list[str], delay: float = 0.0) -> LabSite:
    every = lab_pages("before")
    return LabSite({path: every[path].body for path in paths}, delay=delay)


def _prepare(db_url: str) -> None:
    # The schema is created once, before the processes start (they would race).
    open_database(db_url).close()


@pytest.mark.slow
@ONLY_POSTGRES
def test_three_runs_share_the_work_and_take_over_from_a_killed_one(
    db_url: str, tmp_path: Path
) -> None:
    _prepare(db_url)
    paths = [f"/actions/{n}" for n in range(1, SOURCES + 1)]
    site = _site(paths)
    with serving(site), _runners() as runners:
        for name in ("p1", "p2", "p3"):
            config = _config(tmp_path, name, site.base, paths)
            runners.append(_start(tmp_path, name, config, db_url))

        def each_source_checked(times: int, since: float = 0.0) -> Callable[[], bool]:
            def done() -> bool:
                hits = _page_hits(site, paths)
                return all(
                    sum(1 for h in hits[p] if h.at > since) >= times for p in paths
                )

            return done

        _wait_for(each_source_checked(2), 30, "two checks of every source")
        victim = max(runners, key=lambda r: _hits_by(site, paths, r))
        victim.process.kill()
        victim.process.wait(10)
        killed_at = time.monotonic()
        _wait_for(each_source_checked(1, killed_at), 30, "a check after the kill")
        survivors = [r for r in runners if r is not victim]
        codes = [runner.stop() for runner in survivors]
        hits = _page_hits(site, paths)

    assert codes == [0, 0], [r.output()[-2000:] for r in survivors]
    checks = _checks(db_url)
    doers = {h.agent for path in paths for h in hits[path]}
    assert len({r.agent for r in runners if any(r.agent in a for a in doers)}) >= 2

    victim_sources = [p for p in paths if any(victim.agent in h.agent for h in hits[p])]
    assert victim_sources, "the killed process had checked sources"
    for number, path in enumerate(paths, start=1):
        # A check the victim had in flight when it was killed is lost and done
        # again by another process: its fetch is the only one allowed to leave
        # no recorded check, and to be followed closely by the next.
        in_flight = [
            h
            for h in hits[path]
            if victim.agent in h.agent and killed_at - h.at < IN_FLIGHT
        ]
        kept = [h for h in hits[path] if h not in in_flight]
        gaps = [b.at - a.at for a, b in itertools.pairwise(kept)]
        shown = (path, [(round(h.at - killed_at, 2), h.agent) for h in hits[path]])
        # Never twice for one slot; never a slot missed by more than one interval.
        assert min(gaps) > INTERVAL / 2 - ARRIVAL_SLACK, shown
        assert max(gaps) < 2 * INTERVAL + JITTER + 1.0, shown
        after = [h for h in hits[path] if h.at > killed_at]
        assert after, shown
        assert all(victim.agent not in h.agent for h in after), shown
        extra = len(hits[path]) - checks[f"s{number}"]
        assert 0 <= extra <= len(in_flight), (extra, shown)


def _hits_by(site: LabSite, paths: list[str], runner: Runner) -> int:
    hits = _page_hits(site, paths)
    return sum(1 for p in paths for h in hits[p] if runner.agent in h.agent)


@pytest.mark.slow
def test_sqlite_one_run_at_a_time_and_sigterm_finishes_the_check_in_flight(
    tmp_path: Path,
) -> None:
    db_url = str(tmp_path / "one.sqlite")
    _prepare(db_url)
    paths = ["/actions/1", "/actions/2"]
    site = _site(paths)
    with serving(site), _runners() as runners:
        names = ("p1", "p2", "p3")
        configs = {n: _config(tmp_path, n, site.base, paths) for n in names}
        first = _start(tmp_path, "p1", configs["p1"], db_url)
        runners.append(first)
        _wait_for(lambda: _hits_by(site, paths, first) >= 2, 30, "p1 at work")

        second = _start(tmp_path, "p2", configs["p2"], db_url)
        waiter = _start(tmp_path, "p3", configs["p3"], db_url, "--wait")
        runners += [second, waiter]
        assert second.process.wait(30) == 2
        _wait_for(lambda: "waiting for planwatch run" in waiter.output(), 30, "p3")

        # p1's next check is slow; SIGTERM arrives while it is in flight.
        site.delay = 1.0
        arrived = len(site.arrivals)
        _wait_for(lambda: len(site.arrivals) > arrived, 30, "a slow request")
        assert first.stop() == 0
        first_done = time.monotonic()
        site.delay = 0.0
        _wait_for(lambda: _hits_by(site, paths, waiter) >= 2, 30, "p3 at work")
        assert waiter.stop() == 0
        hits = _page_hits(site, paths)

    message = " ".join(second.output().split())  # the console wraps lines
    assert f"is in use by planwatch run (pid {first.process.pid}" in message
    assert "--wait" in message
    assert not [h for p in paths for h in hits[p] if second.agent in h.agent]

    stopping = first.output()
    assert "source:s1: baseline, 1 pages (1 parsed), 0 changes, fetched in" in stopping
    # Both sources' checks may be in flight (one fetch loop per process).
    assert re.search(r"SIGTERM: finishing [12] checks in flight", stopping), stopping
    assert "stopped: the checks in flight finished" in stopping
    # Every fetch p1 made, the one in flight at SIGTERM too, is a recorded check.
    by_first = [h for p in paths for h in hits[p] if first.agent in h.agent]
    by_waiter = [h for p in paths for h in hits[p] if waiter.agent in h.agent]
    assert _checks(db_url) == {
        f"s{n}": sum(1 for h in by_first + by_waiter if h.path == p)
        for n, p in enumerate(paths, start=1)
    }
    assert max(h.at for h in by_first) < first_done < min(h.at for h in by_waiter)
    for path in paths:
        times = sorted(h.at for h in hits[path])
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Who fetched when, relative to p1's exit. One CI run in about a dozen saw
        # a 0.43 s gap here: p1's slow last check had left its next slot 1.5
        # intervals away and p3, starting, pulled it in as if from a longer
        # interval (fixed; test_scheduling covers it with a fake clock).
        shown = sorted((round(h.at - first_done, 2), h.agent) for h in hits[path])
        assert min(gaps) > INTERVAL / 2 - ARRIVAL_SLACK, (path, gaps, shown)
    db = open_database(db_url)
    try:
        assert _lock_free(db)
    finally:
        db.close()


def _lock_free(db: Database) -> bool:
    from monitor.locks import DatabaseBusy, acting_on

    try:
        with acting_on(db, "check"):
            return True
    except DatabaseBusy:
        return False
