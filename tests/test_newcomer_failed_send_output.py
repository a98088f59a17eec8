"""A notification that will be sent again is one line of `planwatch check`'s output,
not three.

Found trying planwatch as a newcomer: with an unreachable target, `check` printed
Apprise's own WARNING and planwatch's retry WARNING on stderr, then its delivery
line saying the same. Now the delivery line alone says it (it quotes Apprise's
reason); `check -v` and `run` still log the retry. The message stays in the outbox.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.demo import lab_pages
from storage.db import open_database
from storage.models import Notification
from tests.conftest import ROOT
from tests.faultserver import FaultServer, Reply, running

PLANWATCH = [sys.executable, "-c", "from monitor.cli import main; main()"]
PAGE = "/actions/3"  # its status changes between the two lab rounds
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with running() as server:
        server.script(PAGE, Reply(200, lab_pages("before")[PAGE].body, HTML))
        yield server


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check(config: Path, db: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PLANWATCH, *options, "check", "-c", str(config), "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("verbose", [False, True])
def test_a_failed_send_is_one_line_and_stays_queued(
    tmp_path: Path, site: FaultServer, verbose: bool
) -> None:
    config = tmp_path / "planwatch.toml"
    config.write_text(
        f"""
[planwatch]
contact = "newcomer@127.0.0.1"
min_delay_seconds = 0

[[sources]]
name = "lab"
pages = ["{site.url(PAGE)}"]

[[targets]]
name = "ops"
url = "json://127.0.0.1:{_closed_port()}/hook"

[[subscriptions]]
name = "all"
targets = ["ops"]
""",
        encoding="utf-8",
    )
    db = tmp_path / "planwatch.sqlite"
    assert _check(config, db).returncode == 0
    site.script(PAGE, Reply(200, lab_pages("after")[PAGE].body, HTML))

    done = _check(config, db, *(["-v"] if verbose else []))

    assert done.returncode == 0, done.stderr
    assert "notification to ops: retry" in done.stdout
    assert "Connection error" in " ".join(done.stdout.split())  # Apprise's reason
    if verbose:
        assert "WARNING notifiers.deliver.retries: notification 1 to ops" in (
            done.stderr
        )
    else:
        assert "WARNING" not in done.stderr, done.stderr
    database = open_database(str(db))
    try:
        with database.sessions() as session:
            statuses = session.scalars(select(Notification.status)).all()
    finally:
        database.close()
    assert statuses == ["pending"]


def _planwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PLANWATCH, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def _unreachable_target(tmp_path: Path, site: FaultServer) -> Path:
    config = tmp_path / "planwatch.toml"
    config.write_text(
        f"""
[planwatch]
contact = "newcomer@127.0.0.1"
min_delay_seconds = 0

[[sources]]
name = "lab"
pages = ["{site.url(PAGE)}"]

[[targets]]
name = "ops"
url = "json://127.0.0.1:{_closed_port()}/hook"

[notifications]
first_retry_seconds = 0.001
""",
        encoding="utf-8",
    )
    return config


def test_notify_send_and_test_say_a_failed_send_once(
    tmp_path: Path, site: FaultServer
) -> None:
    # Apprise's own WARNING came first on stderr, then planwatch's line quoting it.
    config = _unreachable_target(tmp_path, site)
    db = tmp_path / "planwatch.sqlite"
    assert _check(config, db).returncode == 0
    site.script(PAGE, Reply(200, lab_pages("after")[PAGE].body, HTML))
    assert _check(config, db).returncode == 0

    sent = _planwatch("notify", "send", "-c", str(config), "--db", str(db))
    tested = _planwatch("notify", "test", "ops", "-c", str(config))

    assert "notification 1 to ops: " in sent.stdout, sent
    assert "Connection error" in " ".join(sent.stdout.split())
    assert tested.returncode == 2
    assert "test message to ops" in tested.stderr
    assert "Connection error" in " ".join(tested.stderr.split())
    for done in (sent, tested):
        assert "WARNING" not in done.stderr, done.stderr
