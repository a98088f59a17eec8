"""Delivery to real receivers on 127.0.0.1: retries, backoff, failures, takeovers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from monitor.config import load_config
from notifiers.deliver import Outgoing, deliver_pending
from notifiers.status import overview
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from storage.db import Database
from storage.events import EventKind
from storage.models import Notification
from tests.notify_helpers import (
    T0,
    record,
    seed,
    site_event,
    sqlite_only,
    status_change,
)
from tests.notify_receivers import Mailbox, Webhook

lite_db = sqlite_only()
PASSWORD = "p@ss/w%rd;:x"  # every character a URL treats specially
SMTP_LOGIN = "alerts@city.example"

pytestmark = pytest.mark.filterwarnings(
    # aiosmtpd sets its own deprecated attribute on every successful login.
    "ignore:Session.login_data is deprecated:DeprecationWarning"
)


def _config(tmp_path: Path, hook: Webhook, mail: Mailbox, extra: str = "") -> Path:
    path = tmp_path / "planwatch.toml"
    path.write_text(
        f"""
[[targets]]
name = "webhook"
url = "{hook.url()}"

[[targets]]
name = "unit-lead"
language = "fi"
scheme = "mailto"
host = "127.0.0.1"
port = {mail.port}
user = "{SMTP_LOGIN}"
password_env = "PW_TEST_SMTP_PASSWORD"
recipients = ["lead@city.example", "deputy@city.example"]
params = {{ from = "{SMTP_LOGIN}", mode = "insecure" }}
{extra}
""",
        encoding="utf-8",
    )
    return path


def _rows(db: Database) -> list[Notification]:
    with db.sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_email_and_webhook_arrive_with_their_formats_and_keys(
    lite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PW_TEST_SMTP_PASSWORD", PASSWORD)
    seed(lite_db)
    with Webhook().running() as hook, Mailbox(SMTP_LOGIN, PASSWORD).running() as mail:
        routing = load_config(_config(tmp_path, hook, mail)).resolved_targets()
        record(lite_db, routing, [status_change("10"), status_change("12")])

        deliveries = deliver_pending(lite_db.sessions, routing, now=T0)
        (posted,) = hook.wait_for(1)
        letters = mail.wait_for(2)  # Apprise mails each recipient separately

    assert sorted((d.target, d.status) for d in deliveries) == [
        ("unit-lead", "sent"),
        ("webhook", "sent"),
    ]
    rows = {r.target: r for r in _rows(lite_db)}
    assert posted.key == rows["webhook"].idempotency_key
    assert posted.payload["title"] == "planwatch: 2 changes in city"
    assert "1.1. Bike lanes — status: On Time → Late" in posted.payload["message"]

    # The password with @ / % ; : reached the server exactly as configured.
    assert mail.logins == [(SMTP_LOGIN, PASSWORD)]
    assert sorted(r for letter in letters for r in letter.recipients) == [
        "deputy@city.example",
        "lead@city.example",
    ]
    for letter in letters:
        assert letter.message["Subject"] == "planwatch: 2 muutosta kohteessa city"
        html = letter.part("text/html")
        assert '<a href="https://watch.example.org/en/actions/1.1">Avaa</a>' in html
        assert "tila: Aikataulussa → Myöhässä" in letter.part("text/plain")


def test_failures_back_off_exponentially_then_fail_and_show_in_status(
    db: Database, tmp_path: Path
) -> None:
    seed(db)
    with Webhook().running() as down, Webhook().running() as up:
        down.fail_next = 100
        routing = Routing(
            {
                "down": Target("down", down.url()),
                "up": Target("up", up.url()),
            }
        ).with_policy(max_attempts=4, first_retry=timedelta(seconds=30))
        record(db, routing, [status_change("10")])

        timeline = {}
        for offset in (0, 10, 30, 60, 90, 200, 210, 1000):
            moment = T0 + timedelta(seconds=offset)
            done = deliver_pending(db.sessions, routing, now=moment)
            timeline[offset] = sorted((d.target, d.status) for d in done)

        assert len(up.wait_for(1)) == 1

    assert timeline == {
        0: [("down", "retry"), ("up", "sent")],
        10: [],  # not due before its backoff ends
        30: [("down", "retry")],  # second attempt, after 30 s
        60: [],
        90: [("down", "retry")],  # third, 60 s after the second
        200: [],
        210: [("down", "failed")],  # fourth and last, 120 s after the third
        1000: [],
    }
    down_row = next(r for r in _rows(db) if r.target == "down")
    assert down_row.status == "failed"
    assert down_row.attempts == 4
    assert "503" in (down_row.last_error or "")
    with db.sessions() as session:
        report = overview(session)
    by_target = {t.target: t for t in report.targets}
    assert (by_target["down"].failed, by_target["up"].sent) == (1, 1)
    assert [f.id for f in report.failed] == [down_row.id]


def test_a_slow_target_never_holds_up_the_others(lite_db: Database) -> None:
    seed(lite_db)
    with Webhook().running() as slow, Webhook().running() as quick:
        slow.gate.count = 1
        routing = Routing(
            {
                "slow": Target("slow", slow.url(query="rto=30")),
                "quick": Target("quick", quick.url()),
            }
        )
        record(lite_db, routing, [status_change("10")])
        record(lite_db, routing, [status_change("11")], now=T0 + timedelta(minutes=5))

        worker = threading.Thread(
            target=deliver_pending,
            args=(lite_db.sessions, routing),
            kwargs={"now": T0 + timedelta(minutes=5)},
        )
        worker.start()
        assert slow.gate.holding.wait(20)
        assert len(quick.wait_for(2)) == 2
        while_held = {(r.target, r.status) for r in _rows(lite_db)}
        slow.gate.released.set()
        worker.join(20)

    assert ("quick", "sent") in while_held
    assert ("slow", "sending") in while_held
    assert {(r.target, r.status) for r in _rows(lite_db)} == {
        ("quick", "sent"),
        ("slow", "sent"),
    }


def test_a_claim_is_taken_over_only_from_a_dead_or_timed_out_worker(
    db: Database,
) -> None:
    seed(db)
    sent: list[str] = []
    routing = Routing({"t": Target("t", "json://127.0.0.1:9/")})
    record(db, routing, [site_event(EventKind.SOURCE_FAILING)])

    def claim(by: str) -> None:
        with db.sessions.begin() as session:
            session.execute(
                update(Notification).values(
                    status="sending", claimed_by=by, claimed_at=T0, attempts=1
                )
            )

    def deliver(after: timedelta) -> list[str]:
        done = deliver_pending(
            db.sessions,
            routing,
            now=T0 + after,
            send=lambda target, message: sent.append(message.key),
        )
        return [d.status for d in done]

    claim("elsewhere.example:4242")  # alive as far as anyone here can tell
    assert deliver(timedelta(minutes=9)) == []
    assert deliver(timedelta(minutes=10)) == ["sent"]  # the claim timed out

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    claim(f"{socket.gethostname()}:{finished.pid}")  # this machine, not running
    assert deliver(timedelta(seconds=1)) == ["sent"]

    (row,) = _rows(db)
    assert row.possible_duplicates == 2
    assert len(sent) == 2


def _worker(config: Path, db_url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``planwatch notify send`` in its own process."""
    command = [
        sys.executable,
        "-c",
        "from monitor.cli import main; main()",
        "notify",
        "send",
        "-c",
        str(config),
        "--db",
        db_url,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the worker"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_costs_at_most_one_duplicate(
    lite_db: Database, tmp_path: Path
) -> None:
    # SQLite only: the claim and takeover queries run on both databases above.
    db, db_url = lite_db, str(tmp_path / "notify.sqlite")
    env = {**os.environ, "PW_TEST_SMTP_PASSWORD": PASSWORD}
    seed(db)
    with Webhook().running() as hook, Mailbox(SMTP_LOGIN, PASSWORD).running() as mail:
        config = _config(tmp_path, hook, mail)
        os.environ["PW_TEST_SMTP_PASSWORD"] = PASSWORD
        try:
            routing = load_config(config).resolved_targets()
        finally:
            del os.environ["PW_TEST_SMTP_PASSWORD"]
        record(db, routing, [status_change("10")], now=T0)
        record(db, routing, [status_change("11")], now=T0 + timedelta(minutes=1))
        keys = {(r.target, r.check_id): r.idempotency_key for r in _rows(db)}
        hook.gate.count = 1  # the webhook takes its first message, then stalls

        first = _worker(config, db_url, env)
        assert hook.gate.holding.wait(30)
        _until(
            lambda: (
                sum(r.status == "sent" for r in _rows(db) if r.target != "webhook") == 2
            )
        )
        first.kill()  # SIGKILL: no cleanup, no chance to record the send
        first_output = b"".join(first.communicate(timeout=30))
        in_flight = [(r.target, r.status) for r in _rows(db) if r.status != "sent"]
        hook.gate.released.set()

        second = _worker(config, db_url, env)
        output, errors = second.communicate(timeout=60)

        posted_keys = hook.keys()
        letters = mail.wait_for(4)

    assert second.returncode == 0, errors.decode()
    assert sorted(in_flight) == [("webhook", "pending"), ("webhook", "sending")]
    # The webhook saw the message in flight twice and the other once: one duplicate.
    webhook_keys = sorted(k for (t, _), k in keys.items() if t == "webhook")
    assert sorted(posted_keys) == sorted([webhook_keys[0], *webhook_keys])
    assert posted_keys.count(webhook_keys[0]) == 2
    # The mail server got each message once per recipient: no duplicate.
    assert len(letters) == 4
    rows = _rows(db)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(r.possible_duplicates for r in rows) == [0, 0, 0, 1]
    assert b"taking over" in errors or b"possible duplicate" in errors
    assert PASSWORD.encode() not in output + errors + first_output


def test_a_target_that_fails_is_not_hammered_with_its_other_messages(
    lite_db: Database,
) -> None:
    seed(lite_db)
    routing = Routing({"down": Target("down", "json://127.0.0.1:9/")})
    record(lite_db, routing, [status_change("10")])
    record(lite_db, routing, [status_change("11")])
    tried: list[str] = []

    def refuse(target: Target, message: Outgoing) -> None:
        tried.append(message.key)
        raise ConnectionError("refused")

    first = deliver_pending(lite_db.sessions, routing, now=T0, send=refuse)
    later = deliver_pending(
        lite_db.sessions, routing, now=T0 + timedelta(seconds=1), send=refuse
    )

    assert [d.status for d in first] == ["retry"]  # the second waits for a later pass
    assert [d.status for d in later] == ["retry"]  # ...which tries it, once
    assert len(set(tried)) == 2
    assert sorted(r.attempts for r in _rows(lite_db)) == [1, 1]
