"""Schema revisions: new databases are set up, old or newer ones are refused."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text
from typer.testing import CliRunner

from monitor.cli import app
from parsers.errors import SchemaMismatch
from storage.db import (
    alembic_config,
    create_db_engine,
    current_revision,
    head_revision,
    open_database,
)
from storage.models import Check
from storage.snapshots import check_pages


def _at_revision(db_url: str, revision: str) -> None:
    engine = create_db_engine(db_url, foreign_keys=False)
    command.upgrade(alembic_config(engine), revision)
    engine.dispose()


def _sql(db_url: str, *statements: str) -> None:
    engine = create_db_engine(db_url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def test_a_new_database_gets_the_current_schema(db_url: str) -> None:
    database = open_database(db_url)
    assert current_revision(database.engine) == head_revision()
    with database.reader() as session:
        assert session.execute(text("SELECT count(*) FROM actions_now")).scalar() == 0
    database.close()


def test_an_older_schema_is_refused_until_db_upgrade(db_url: str) -> None:
    _at_revision(db_url, "0001")

    with pytest.raises(SchemaMismatch) as refused:
        open_database(db_url)
    message = str(refused.value)
    assert "has schema 0001" in message
    assert f"needs {head_revision()}" in message
    assert "planwatch db upgrade --db" in message

    runner = CliRunner()
    for command_line in (
        ["changes"],
        ["history", "1"],
        ["show", "demo"],
        ["sources"],
        ["export", "changes"],
        ["db", "prune", "--keep-days", "30"],
    ):
        result = runner.invoke(app, [*command_line, "--db", db_url])
        assert isinstance(result.exception, SchemaMismatch), command_line

    result = runner.invoke(app, ["db", "upgrade", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"upgraded from 0001 to {head_revision()}" in result.output
    open_database(db_url).close()
    result = runner.invoke(app, ["db", "upgrade", "--db", db_url])
    assert "is current" in result.output


def test_a_newer_schema_is_refused_with_what_to_do(db_url: str) -> None:
    open_database(db_url).close()
    _sql(db_url, "UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(SchemaMismatch) as refused:
        open_database(db_url)
    assert "has schema 9999, newer than this planwatch knows" in str(refused.value)
    assert "upgrade planwatch" in str(refused.value)

    result = CliRunner().invoke(app, ["db", "upgrade", "--db", db_url])
    assert isinstance(result.exception, SchemaMismatch)
    engine = create_db_engine(db_url)
    assert current_revision(engine) == "9999", "db upgrade must not touch it"
    engine.dispose()


def test_a_database_of_something_else_is_refused(db_url: str) -> None:
    _sql(db_url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(SchemaMismatch, match="not a planwatch database"):
        open_database(db_url)
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", db_url])
    assert isinstance(result.exception, SchemaMismatch)


def test_upgrading_keeps_the_history_written_at_0001(db_url: str) -> None:
    # Before 0002 every check stored one snapshot per page.
    _at_revision(db_url, "0001")
    _sql(
        db_url,
        "INSERT INTO sources (id, name, kind, created_at, consecutive_failures, "
        "failing_reported, anomaly_reported) "
        "VALUES (1, 'old', 'pages', '2026-01-01 00:00:00', 0, false, false)",
        "INSERT INTO checks (id, source_id, observed_at, started_at, outcome, pages, "
        "events) VALUES (1, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
        "'baseline', 2, 0), (2, 1, '2026-01-02 00:00:00', '2026-01-02 00:00:00', "
        "'unchanged', 2, 0)",
        "INSERT INTO snapshots (id, check_id, url, fetched_at, fetch_outcome, "
        "status_code, duration) VALUES "
        "(1, 1, 'https://a.example/x', '2026-01-01 00:00:00', 'ok', 200, 0.5), "
        "(2, 1, 'https://a.example/y', '2026-01-01 00:00:01', 'ok', 200, 0.25), "
        "(3, 2, 'https://a.example/x', '2026-01-02 00:00:00', 'ok', 200, 0.5), "
        "(4, 2, 'https://a.example/y', '2026-01-02 00:00:01', 'ok', 404, 0.25)",
    )

    result = CliRunner().invoke(app, ["db", "upgrade", "--db", db_url])
    assert result.exit_code == 0, result.output

    database = open_database(db_url)
    with database.reader() as session:
        pages = session.execute(
            text("SELECT url, latest_snapshot_id FROM pages ORDER BY url")
        ).all()
        assert [tuple(p) for p in pages] == [
            ("https://a.example/x", 3),
            ("https://a.example/y", 4),
        ]
        second = session.scalars(select(Check).where(Check.id == 2)).one()
        seen = {(p.url, p.status_code) for p in check_pages(session, second)}
        assert seen == {("https://a.example/x", 200), ("https://a.example/y", 404)}
    database.close()
