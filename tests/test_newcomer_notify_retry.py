"""`planwatch notify retry ID` with an id no notification has is an error (exit 1)
naming it; nothing is queued.

Found trying planwatch as a newcomer: `planwatch notify retry 9999` answered
"0 notifications queued again" and exited 0, as if there were nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from storage.db import open_database
from storage.models import Notification
from tests.notify_helpers import T0, record, seed, status_change
from tests.notify_receivers import Webhook


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with Webhook().running() as receiver:
        yield receiver


@pytest.fixture
def db_path(tmp_path: Path, hook: Webhook) -> str:
    """Notification 1 failed, notification 2 sent."""
    path = str(tmp_path / "planwatch.sqlite")
    config = tmp_path / "planwatch.toml"
    config.write_text(
        f"""
[notifications]
max_attempts = 1

[[targets]]
name = "webhook"
url = "{hook.url()}"
""",
        encoding="utf-8",
    )
    routing = load_config(config).resolved_targets()
    database = open_database(path)
    try:
        seed(database)
        record(database, routing, [status_change("10")])
        hook.fail_next = 1
        _planwatch("notify", "send", "-c", str(config), "--db", path)
        later = T0 + timedelta(hours=1)
        record(database, routing, [status_change("12", now=later)], now=later)
        _planwatch("notify", "send", "-c", str(config), "--db", path)
    finally:
        database.close()
    assert _statuses(path) == {1: "failed", 2: "sent"}
    return path


def _planwatch(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _statuses(path: str) -> dict[int, str]:
    database = open_database(path)
    try:
        with database.reader() as session:
            rows = session.execute(select(Notification.id, Notification.status))
            return {row.id: row.status for row in rows}
    finally:
        database.close()


def test_an_unknown_id_is_an_error_naming_it(db_path: str) -> None:
    unknown = _planwatch("notify", "retry", "9999", "--db", db_path)
    mixed = _planwatch("notify", "retry", "1", "9999", "9998", "--db", db_path)

    assert unknown.exit_code == 1
    assert "no notification with id 9999; nothing queued" in unknown.stderr
    assert "failed ones: 1;" in unknown.stderr
    assert "queued again" not in unknown.stdout
    assert mixed.exit_code == 1
    assert "no notifications with id 9998, 9999; nothing queued" in mixed.stderr
    assert _statuses(db_path) == {1: "failed", 2: "sent"}


def test_known_ids_are_queued_and_one_not_failed_is_said_to_stay(db_path: str) -> None:
    sent = _planwatch("notify", "retry", "2", "--db", db_path)
    failed = _planwatch("notify", "retry", "1", "--db", db_path)

    assert sent.exit_code == 0, sent.output
    assert "notification 2 is sent, not failed: left as it is" in sent.stdout
    assert "0 notifications queued again" in sent.stdout
    assert failed.exit_code == 0, failed.output
    assert "1 notification queued again" in failed.stdout
    assert _statuses(db_path) == {1: "pending", 2: "sent"}
