"""Planted secrets never show: not in logs, errors, CLI output or the database.

A password, a webhook token and a staging URL are planted; then everything that
can go wrong does: a refused login, a refused webhook, a URL Apprise cannot read,
retries until failure, every ``notify`` command. Every log record (at Apprise's
TRACE level, below DEBUG), every output, every error and every column of every
table is then searched for the secrets, in each spelling a URL gives them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from notifiers.deliver import deliver_pending
from parsers.errors import ConfigError
from storage.db import Database
from storage.events import EventKind
from tests.notify_helpers import record, seed, site_event, sqlite_only, status_change
from tests.notify_receivers import Mailbox, Webhook

lite_db = sqlite_only()
PASSWORD = "Pl4nted-pw@/%;:secret"
TOKEN = "Pl4ntedT0kenForTheHook"
STAGING = "Pl4ntedStagingToken99"


def _spellings(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}


SECRETS = set().union(*map(_spellings, (PASSWORD, TOKEN, STAGING)))


@pytest.fixture
def everything_logged(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at every level, Apprise's TRACE (below DEBUG) included."""
    caplog.set_level(1)
    names = ("apprise", "urllib3", "notifiers", "monitor")
    for name in names:
        logging.getLogger(name).setLevel(1)
    yield caplog
    for name in names:
        logging.getLogger(name).setLevel(logging.NOTSET)


def _dump(db: Database) -> str:
    """Every value of every row of every table."""
    meta = MetaData()
    meta.reflect(db.engine)
    chunks = []
    with db.engine.connect() as connection:
        for table in meta.sorted_tables:
            for row in connection.execute(select(table)):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
def test_planted_secrets_never_appear_anywhere(
    lite_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    db, db_url = lite_db, str(tmp_path / "notify.sqlite")
    seen: list[str] = []
    monkeypatch.setenv("PW_SECRET_TEST_PASSWORD", "not-" + PASSWORD)  # wrong at first
    seed(db)
    with (
        Mailbox("watch@city.example", PASSWORD).running() as mail,
        Webhook().running() as hook,
    ):
        monkeypatch.setenv("PW_SECRET_TEST_HOOK", hook.url(f"hooks/{TOKEN}"))
        config = tmp_path / "planwatch.toml"
        config.write_text(
            f"""
[notifications]
max_attempts = 2
first_retry_seconds = 0.001

[[targets]]
name = "mail"
scheme = "mailto"
host = "127.0.0.1"
port = {mail.port}
user = "watch@city.example"
password_env = "PW_SECRET_TEST_PASSWORD"
recipients = ["lead@city.example"]
params = {{ from = "watch@city.example", mode = "insecure" }}

[[targets]]
name = "hook"
url_env = "PW_SECRET_TEST_HOOK"
""",
            encoding="utf-8",
        )
        routing = load_config(config).resolved_targets()
        record(db, routing, [status_change("10"), site_event(EventKind.SOURCE_FAILING)])
        hook.fail_next = 10

        runner = CliRunner()

        def cli(*args: str) -> None:
            result = runner.invoke(app, list(args))
            seen.append(result.output)
            if result.exception is not None:
                seen.append(f"{type(result.exception).__name__}: {result.exception}")

        cli("notify", "send", "-c", str(config), "--db", db_url)
        for delivery in deliver_pending(db.sessions, routing):  # the second attempt
            seen.append(repr(delivery))
        cli("notify", "status", "-c", str(config), "--db", db_url)
        cli("notify", "status", "--json", "--db", db_url)
        cli("notify", "test", "hook", "-c", str(config))
        cli("notify", "test", "mail", "-c", str(config))
        cli("notify", "preview", "-c", str(config), "--db", db_url)
        staging = f"json://127.0.0.1:9/{STAGING}"
        cli("notify", "send", "-c", str(config), "--db", db_url, "--force-to", staging)
        cli("notify", "test", "hook", "-c", str(config), "--force-to", staging)
        cli("notify", "retry", "--all-failed", "--db", db_url)
        monkeypatch.setenv("PW_SECRET_TEST_PASSWORD", PASSWORD)  # now right
        cli("notify", "send", "-c", str(config), "--db", db_url)
        assert mail.wait_for(1)  # the secret did reach the one place it belongs
        assert mail.logins[-1] == ("watch@city.example", PASSWORD)

        monkeypatch.setenv("PW_SECRET_TEST_HOOK", f"msteams://{TOKEN}/{TOKEN}")
        with pytest.raises(ConfigError) as unreadable:
            load_config(config).resolved_targets()
        seen.append(str(unreadable.value))

    stored = _dump(db)
    assert "did not take the message" in stored  # the errors were recorded...
    formatter = logging.Formatter("%(name)s %(message)s")
    logged = "\n".join(formatter.format(r) for r in everything_logged.records)
    assert "Loaded" in logged or "URL" in logged  # ...and the libraries did talk
    for text in ("\n".join(seen), stored, logged):
        leaks = sorted(s for s in SECRETS if s in text)
        assert leaks == [], leaks
