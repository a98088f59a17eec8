"""A delivery pass leaves alone the messages for targets its config does not name.

Found trying planwatch as a newcomer: `planwatch run -c planwatch.toml` had queued
an alert for the target ``unit-lead``; a quick `planwatch check URL --db
planwatch.sqlite` (no config, so no targets) then "delivered" it: each such check
counted one attempt, printed "notification to unit-lead: retry (no target of that
name in the config)", and the fifth marked it failed for good. The unit lead never
got the alert. Two configs sharing one database did the same to each other's
messages. Now a message waits, attempts untouched, for a worker that knows its
target; ``notify send --dry-run`` does not list it as "would be sent" either.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from notifiers.deliver import Outgoing, deliver_pending
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from storage.db import Database
from storage.models import Notification
from tests.notify_helpers import T0, record, seed, sqlite_only, status_change

lite_db = sqlite_only()
LEAD = Target("unit-lead", "json://127.0.0.1:9/lead")
CHAT = Target("chat", "json://127.0.0.1:9/chat")


def _queue_for_the_lead(db: Database) -> None:
    seed(db)
    assert record(db, Routing({"unit-lead": LEAD}), [status_change("10")]) == 1


def _rows(db: Database) -> list[tuple[str, str, int]]:
    with db.reader() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id))
        return [(r.target, r.status, r.attempts) for r in rows]


def test_a_pass_without_the_target_keeps_its_message_untried(lite_db: Database) -> None:
    _queue_for_the_lead(lite_db)
    sent: list[str] = []

    def send(target: Target, message: Outgoing) -> None:
        sent.append(target.name)

    for day in range(13):  # more passes than max_attempts, each past any backoff
        now = T0 + timedelta(days=day)
        assert deliver_pending(lite_db.sessions, Routing({}), now=now, send=send) == []
        other = deliver_pending(
            lite_db.sessions, Routing({"chat": CHAT}), now=now, send=send
        )
        assert other == []

    assert sent == []
    assert _rows(lite_db) == [("unit-lead", "pending", 0)]
    delivered = deliver_pending(
        lite_db.sessions, Routing({"unit-lead": LEAD}), now=T0, send=send
    )
    assert [d.status for d in delivered] == ["sent"]
    assert sent == ["unit-lead"]


def test_a_dry_run_does_not_list_another_configs_message(
    lite_db: Database, tmp_path: Path
) -> None:
    _queue_for_the_lead(lite_db)
    config = tmp_path / "chat.toml"
    config.write_text('[[targets]]\nname = "chat"\nurl = "json://127.0.0.1:9/"\n')

    path = str(tmp_path / "notify.sqlite")  # lite_db's file
    result = CliRunner().invoke(
        app, ["notify", "send", "--dry-run", "-c", str(config), "--db", path]
    )

    assert result.exit_code == 0, result.output
    assert "unit-lead" not in result.stdout
    assert "nothing due" in result.stdout


def test_a_waiting_message_is_named_in_the_log_and_in_status(
    lite_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A target renamed or removed from the config leaves its messages waiting:
    # each pass says so, and `notify status -c` names the target, so none waits
    # unseen.
    _queue_for_the_lead(lite_db)
    with caplog.at_level(logging.WARNING, logger="notifiers.deliver"):
        deliver_pending(lite_db.sessions, Routing({"chat": CHAT}), now=T0)
    assert "targets this config does not name: unit-lead (1)" in caplog.text

    config = tmp_path / "chat.toml"
    config.write_text('[[targets]]\nname = "chat"\nurl = "json://127.0.0.1:9/"\n')
    path = str(tmp_path / "notify.sqlite")  # lite_db's file
    result = CliRunner().invoke(
        app, ["notify", "status", "-c", str(config), "--db", path]
    )
    assert result.exit_code == 0, result.output
    assert "waiting for a target this config does not name: unit-lead (1)" in (
        " ".join(result.stdout.split())
    )
