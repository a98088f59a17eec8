"""A writer that cannot get an SQLite database's write lock says so in one line.

Found holding a write transaction open in the sqlite3 shell (as a long VACUUM or
a maintainer's UPDATE does) while running `planwatch db prune --keep-days 0`: it
waited out the 30-second busy timeout, as README promises, and then ended in a
SQLAlchemy traceback ending "database is locked [SQL: BEGIN IMMEDIATE]". It now
ends in one error naming the database and what held it up (exit 2).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from parsers.errors import StorageError
from storage import db as storage_db
from storage.db import open_database
from tests.cli_helpers import folded, run_cli


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A planwatch database whose write lock another connection holds."""
    path = tmp_path / "history.sqlite"
    open_database(str(path)).close()
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield path
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_write_that_cannot_begin_is_a_storage_error(held: Path) -> None:
    database = open_database(str(held))
    try:
        with (
            pytest.raises(StorageError, match=r"history\.sqlite.*write lock"),
            database.sessions.begin() as session,
        ):
            session.connection()
    finally:
        database.close()


@pytest.mark.parametrize(
    "args",
    [("db", "prune", "--keep-days", "0"), ("notify", "retry", "--all-failed")],
)
def test_a_command_that_writes_says_the_database_is_locked(
    held: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    code, _, err = run_cli(monkeypatch, capsys, *args, "--db", str(held))

    assert "Traceback" not in err
    assert code == 2
    assert str(held) in folded(err)
    assert "write lock" in err
