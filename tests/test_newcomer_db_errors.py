"""A --db that cannot be opened gets one clear line, never a driver's traceback.

Found trying planwatch as a newcomer: a directory, a text file or an unreachable
PostgreSQL server as --db ended in SQLAlchemy tracebacks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monitor.cli import main
from parsers.errors import StorageError
from storage.db import open_database, upgrade_database


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["planwatch", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2


def test_a_directory_is_named_and_said_to_be_one(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="is a directory") as error:
        open_database(str(tmp_path))
    assert str(tmp_path) in str(error.value)


def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n")
    for attempt in (open_database, upgrade_database):
        with pytest.raises(StorageError, match="file is not a database"):
            attempt(str(notes))
    assert notes.read_text() == "my notes, not a database\n"


def test_an_unreachable_postgresql_names_the_host_never_the_password() -> None:
    # Port 1 on 127.0.0.1: nothing listens there, the connection is refused.
    url = "postgresql://planwatch:Pg-s3cret-pw@127.0.0.1:1/planwatch"
    with pytest.raises(StorageError) as error:
        open_database(url)
    message = str(error.value)
    assert "127.0.0.1" in message
    assert "cannot open the database" in message
    assert "Pg-s3cret-pw" not in message


def test_an_unsupported_database_says_which_ones_work() -> None:
    with pytest.raises(StorageError, match="SQLite and PostgreSQL, not mysql") as e:
        open_database("mysql://user:My-s3cret@db.example/planwatch")
    assert "My-s3cret" not in str(e.value)


def test_the_cli_prints_one_error_line_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    _run(monkeypatch, "changes", "--db", str(notes))
    _run(monkeypatch, "db", "upgrade", "--db", str(tmp_path))
    _run(monkeypatch, "changes", "--db", "postgresql://u:Cli-s3cret@127.0.0.1:1/x")
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "Cli-s3cret" not in err
    assert err.count("planwatch: error: cannot open the database") == 3
