"""``planwatch notify``: status, send (--dry-run, --force-to), test, preview, retry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from storage.db import Database, open_database
from storage.models import Notification
from tests.notify_helpers import T0, record, seed, status_change
from tests.notify_receivers import Webhook


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[tuple[Database, str]]:
    """An SQLite database and its path: the CLI's logic is the same on both."""
    path = str(tmp_path / "cli.sqlite")
    database = open_database(path)
    yield database, path
    database.close()


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with Webhook().running() as receiver:
        yield receiver


def _config(tmp_path: Path, hook: Webhook, *, digest: bool = False) -> Path:
    path = tmp_path / "planwatch.toml"
    weekly = WEEKLY if digest else ""
    path.write_text(
        f"""
[notifications]
max_attempts = 1

[[targets]]
name = "webhook"
url = "{hook.url()}"

[[subscriptions]]
name = "unit"
targets = ["webhook"]
organizations = ["4"]
language = "fi"
{weekly}
""",
        encoding="utf-8",
    )
    return path


WEEKLY = """
[[subscriptions]]
name = "weekly"
targets = ["webhook"]
mode = "digest"
every = "week"
weekday = "monday"
at = "09:00"
timezone = "Europe/Helsinki"
language = "de"
"""


def _invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def _statuses(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(Notification.status)))


def test_send_dry_run_then_send_then_status(
    lite: tuple[Database, str], hook: Webhook, tmp_path: Path
) -> None:
    database, path = lite
    config = _config(tmp_path, hook)
    seed(database)
    record(database, load_config(config).resolved_targets(), [status_change("12")])

    dry = _invoke("notify", "send", "-c", str(config), "--db", path, "--dry-run")
    assert "(would be sent)" in dry
    assert "1.2. Trams (fi) — tila: Aikataulussa → Myöhässä" in dry
    assert hook.keys() == []
    assert _statuses(database) == ["pending"]

    sent = _invoke("notify", "send", "-c", str(config), "--db", path)
    assert "notification 1 to webhook: sent" in sent
    assert len(hook.wait_for(1)) == 1

    status = _invoke("notify", "status", "-c", str(config), "--db", path)
    assert "webhook" in status
    assert "no failed notifications" in status
    report = json.loads(
        _invoke("notify", "status", "-c", str(config), "--db", path, "--json")
    )
    assert report["targets"][0]["sent"] == 1
    assert report["possible_duplicates"] == 0


def test_failed_messages_show_in_status_and_can_be_retried(
    lite: tuple[Database, str], hook: Webhook, tmp_path: Path
) -> None:
    database, path = lite
    config = _config(tmp_path, hook)
    seed(database)
    record(database, load_config(config).resolved_targets(), [status_change("10")])
    hook.fail_next = 1

    # Failed for good (max_attempts = 1): exit 1, so cron says so.
    failed = _invoke("notify", "send", "-c", str(config), "--db", path, code=1)
    assert "notification 1 to webhook: failed" in failed
    assert "503" in failed
    status = _invoke("notify", "status", "--db", path)
    assert "failed notifications" in status
    assert "unit" in status  # the subscription that asked for it

    assert "1 notification queued again" in _invoke(
        "notify", "retry", "--all-failed", "--db", path
    )
    assert "sent" in _invoke("notify", "send", "-c", str(config), "--db", path)
    assert _statuses(database) == ["sent"]


def test_force_to_sends_everything_to_one_place(
    lite: tuple[Database, str], hook: Webhook, tmp_path: Path
) -> None:
    database, path = lite
    config = _config(tmp_path, hook)
    seed(database)
    record(database, load_config(config).resolved_targets(), [status_change("10")])

    with Webhook().running() as staging:
        _invoke(
            "notify",
            "send",
            "-c",
            str(config),
            "--db",
            path,
            "--force-to",
            staging.url(),
        )
        assert len(staging.wait_for(1)) == 1
    assert hook.keys() == []
    assert _statuses(database) == ["sent"]


def test_test_message_reaches_the_target_or_says_why_not(
    hook: Webhook, tmp_path: Path
) -> None:
    config = _config(tmp_path, hook)

    output = _invoke("notify", "test", "webhook", "-c", str(config))
    assert "test message sent to webhook (json://127.0.0.1/***)" in output
    (posted,) = hook.wait_for(1)
    assert posted.payload["title"] == "planwatch: test message"

    hook.fail_next = 1
    result = CliRunner().invoke(app, ["notify", "test", "webhook", "-c", str(config)])
    assert result.exit_code != 0
    assert "did not take the message" in str(result.exception)

    dry = _invoke("notify", "test", "webhook", "-c", str(config), "--dry-run")
    assert "This is a test message from planwatch" in dry
    unknown = CliRunner().invoke(app, ["notify", "test", "nobody", "-c", str(config)])
    assert "no target named 'nobody'; known: webhook" in str(unknown.exception)


def test_preview_renders_a_subscription_without_sending(
    lite: tuple[Database, str], hook: Webhook, tmp_path: Path
) -> None:
    database, path = lite
    config = _config(tmp_path, hook, digest=True)
    seed(database)
    routing = load_config(config).resolved_targets()
    record(database, routing, [status_change("10"), status_change("11")], now=T0)

    unit = _invoke("notify", "preview", "-s", "unit", "-c", str(config), "--db", path)
    assert "1.1. Bike lanes (fi) — tila" in unit
    assert "Heat pumps" not in unit

    weekly = _invoke(
        "notify", "preview", "-s", "weekly", "-c", str(config), "--db", path,
        "--format", "html",
    )  # fmt: skip
    assert "planwatch: Zusammenfassung weekly, 2 Änderungen" in weekly
    assert "<h3>Cycling Office</h3>" in weekly
    assert "<h3>Environment Division</h3>" in weekly
    assert hook.keys() == []
