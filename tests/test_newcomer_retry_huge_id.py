"""`planwatch notify retry ID` with an id past what the database can hold is an
id no notification has: exit 1, naming it, nothing queued.

Found by mistyping an id (two pasted ids run together, 99999999999999999999999):
the command ended in a traceback, "OverflowError: Python int too large to convert
to SQLite INTEGER" (on PostgreSQL from 2147483648 on, psycopg's "integer out of
range"), where an id no message has is documented to be refused naming it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from monitor.cli import app
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from storage.db import open_database
from storage.models import Notification
from tests.notify_helpers import record, seed, status_change


@pytest.mark.parametrize("huge", ["2147483648", "9223372036854775808", "9" * 23])
def test_an_id_past_the_databases_integers_is_unknown(db_url: str, huge: str) -> None:
    database = open_database(db_url)
    try:
        seed(database)
        routing = Routing({"t": Target("t", "json://127.0.0.1:9/")})
        record(database, routing, [status_change("10")])
        with database.sessions.begin() as session:
            session.execute(update(Notification).values(status="failed"))
    finally:
        database.close()

    result = CliRunner().invoke(app, ["notify", "retry", "1", huge, "--db", db_url])

    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1, result.output
    assert f"no notification with id {huge}; nothing queued" in result.stderr
    assert "failed ones: 1;" in result.stderr
