"""Changes held for a digest the config no longer has are shown, not lost unseen.

A digest subscription's changes wait in digest_entries until its moment. Renamed,
removed or switched to immediate in the config, it has no moment any more: its
changes waited for good, and neither a delivery pass nor `notify status` said so.
Now each pass warns naming it, and `notify status` lists the changes waiting for
every digest, those of a digest the config does not have apart.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from notifiers.deliver import deliver_pending
from notifiers.subscriptions import Routing, Schedule, Subscription
from notifiers.targets import Target
from storage.db import Database
from tests.notify_helpers import record, seed, sqlite_only, status_change

lite_db = sqlite_only()
UNIT = Target("unit", "json://127.0.0.1:9/unit")
CONFIG = '[[targets]]\nname = "unit"\nurl = "json://127.0.0.1:9/"\n'


def _hold_for_daily(db: Database) -> None:
    seed(db)
    daily = Subscription("daily", ("unit",), schedule=Schedule(time(8, 0), "UTC"))
    record(db, Routing({"unit": UNIT}, [daily]), [status_change("10")])


def test_a_pass_warns_of_changes_for_a_digest_it_lacks(
    lite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    _hold_for_daily(lite_db)
    renamed = Subscription("morning", ("unit",), schedule=Schedule(time(8, 0), "UTC"))
    with caplog.at_level(logging.WARNING, logger="notifiers.outbox"):
        deliver_pending(
            lite_db.sessions,
            Routing({"unit": UNIT}, [renamed]),
            now=datetime(2026, 3, 22, 9, 0, tzinfo=UTC),
            send=lambda target, message: None,
        )
    assert "digests this config does not have: daily (1)" in caplog.text


def test_status_lists_waiting_digests(lite_db: Database, tmp_path: Path) -> None:
    _hold_for_daily(lite_db)
    config = tmp_path / "planwatch.toml"
    config.write_text(CONFIG)
    path = str(tmp_path / "notify.sqlite")  # lite_db's file
    runner = CliRunner()

    shown = runner.invoke(app, ["notify", "status", "-c", str(config), "--db", path])
    as_json = runner.invoke(app, ["notify", "status", "--db", path, "--json"])

    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "changes waiting for their digest: daily (1)" in text
    assert "changes waiting for a digest this config does not have: daily (1)" in text
    assert json.loads(as_json.stdout)["digests_waiting"] == {"daily": 1}
