"""`planwatch demo --db FILE` never deletes a history that is not an earlier demo's.

Found trying planwatch as a newcomer: `planwatch demo --db victim.sqlite`, on a
database holding two imported sources, exited 0 and left a database holding only
the demo: the demo starts afresh by deleting the file (and its -wal and -shm), and
did so whatever the file held; `--db` is "where to leave the demo's history", and
the other commands' `--db` is the real history, so one slip lost it all. The demo
now replaces only a missing file, an empty one or an earlier demo's history, and
otherwise stops before touching anything, naming the file and what it holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import open_database
from tests.cli_helpers import folded, run_cli
from tests.history_series import record_rounds


def _sources(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sources ORDER BY name")
        return [name for (name,) in rows]


def test_a_real_history_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "planwatch.sqlite"
    database = open_database(str(path))
    record_rounds(database, ("r00",), source="espoo")
    database.close()
    before = path.read_bytes()

    code, out, err = run_cli(monkeypatch, capsys, "demo", "--db", str(path))

    assert code == 2, out
    message = folded(err)
    assert str(path) in message, message
    assert "espoo" in message
    assert "Traceback" not in err
    assert _sources(path) == ["espoo"]
    assert path.read_bytes() == before


def test_a_file_that_is_no_database_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n", encoding="utf-8")

    code, out, err = run_cli(monkeypatch, capsys, "demo", "--db", str(path))

    assert code == 2, out
    assert str(path) in folded(err)
    assert path.read_text(encoding="utf-8") == "my notes\n"


def test_an_earlier_demo_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "planwatch-demo.sqlite"
    for _ in range(2):
        code, _, err = run_cli(monkeypatch, capsys, "demo", "--db", str(path))
        assert code == 0, err
    assert _sources(path) == ["demo"]
    with sqlite3.connect(path) as connection:
        (checks,) = connection.execute("SELECT count(*) FROM check_log").fetchone()
    assert checks == 2
