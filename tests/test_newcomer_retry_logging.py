"""A fetch retry is a WARNING in `planwatch run`'s log and with `check -v`; a plain
`check` prints none (its outcome line says what failed in the end), and no retry is
logged twice.

Found trying planwatch as a newcomer: `planwatch check` at a terminal printed
"WARNING monitor.fetch: attempt 1 of 4 ... retrying" and a bare "WARNING stamina:
stamina.retry_scheduled" over its progress bar, for a page that then answered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.api_source import ApiTarget, observe_api
from monitor.demo import lab_pages
from tests.conftest import ROOT
from tests.faultserver import FaultServer, Reply, running
from tests.fidelity_corpus import SERIES
from tests.graphql_server import GraphQLState, graphql_server

PLANWATCH = [sys.executable, "-c", "from monitor.cli import main; main()"]
PATH = "/organizations/2"
RETRY_LINE = "WARNING monitor.fetch.retries: attempt 1 of 4 for "


@pytest.fixture
def site() -> Iterator[FaultServer]:
    """A page that answers 503 once, then the page."""
    page = lab_pages("before")[PATH]
    html = {"content-type": "text/html; charset=utf-8"}
    with running() as server:
        server.script(PATH, Reply(503, b"busy"), Reply(200, page.body, html))
        yield server


def _config(tmp_path: Path, site: FaultServer) -> Path:
    path = tmp_path / "planwatch.toml"
    path.write_text(
        f"""
[planwatch]
contact = "newcomer@127.0.0.1"
min_delay_seconds = 0

[[sources]]
name = "lab"
pages = ["{site.url(PATH)}"]
""",
        encoding="utf-8",
    )
    return path


def _check(tmp_path: Path, site: FaultServer, *options: str) -> tuple[str, str]:
    config = _config(tmp_path, site)
    db = str(tmp_path / "planwatch.sqlite")
    done = subprocess.run(
        [*PLANWATCH, *options, "check", "-c", str(config), "--db", db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert site.hits(PATH) == 2, "the first answer was retried"
    return done.stdout, done.stderr


# Each waits out one real retry backoff (about a second) in a real process.
@pytest.mark.slow
def test_check_prints_no_retry_warning(tmp_path: Path, site: FaultServer) -> None:
    stdout, stderr = _check(tmp_path, site)

    assert "lab: baseline (1 pages, 0 failed" in stdout
    assert stderr == ""


@pytest.mark.slow
def test_check_with_v_logs_the_retry_once(tmp_path: Path, site: FaultServer) -> None:
    _, stderr = _check(tmp_path, site, "-v")

    assert stderr.count(RETRY_LINE) == 1
    assert "(503 Service Unavailable); retrying" in stderr
    assert "stamina" not in stderr
    # One line for the check too (the pipeline's own summary is DEBUG).
    assert [line for line in stderr.splitlines() if "baseline" in line] == [
        line
        for line in stderr.splitlines()
        if "INFO monitor.service: source:lab:" in line
    ]
    assert stderr.count("baseline") == 1


@pytest.mark.slow
def test_run_logs_the_retry_as_a_warning(tmp_path: Path, site: FaultServer) -> None:
    config = _config(tmp_path, site)
    db = str(tmp_path / "planwatch.sqlite")
    lines = []
    with subprocess.Popen(
        [*PLANWATCH, "run", "-c", str(config), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        assert process.stdout is not None
        # Should the line never come, the log ends when this stops the process.
        watchdog = threading.Timer(120, process.kill)
        watchdog.start()
        try:
            for line in process.stdout:
                lines.append(line)
                if "source:lab: " in line:  # the one line of the first check
                    break
        finally:
            watchdog.cancel()
            process.terminate()
            process.wait(30)
    log = "".join(lines)

    assert "source:lab: baseline" in log, log
    assert log.count(RETRY_LINE) == 1, log
    assert "stamina" not in log


def test_the_api_source_logs_its_retries_on_the_same_terms(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = GraphQLState(SERIES / "r03" / "truth", fail_with=503)
    with graphql_server(state) as origin, caplog.at_level(logging.WARNING):
        (failed,) = asyncio.run(observe_api(ApiTarget.of(origin), user_agent="t"))

    retries = [r for r in caplog.records if r.name == "monitor.api_source.retries"]
    assert failed.failed
    assert [r.getMessage().split(" for ")[0] for r in retries] == [
        "attempt 1 of 3",
        "attempt 2 of 3",
    ]
    assert all(r.levelno == logging.WARNING for r in retries)
    assert "(HTTP 503); retrying" in retries[0].getMessage()
