"""`planwatch changes` heads its time column "when", not "where".

Found trying planwatch as a newcomer: `planwatch changes --db planwatch-demo.sqlite`
printed a table "kind | about | change | where" whose last column held the time
each change was observed (2026-12-04T22:52:54+00:00); the table shares its
layout with `check`'s report, where that column is the action's page. It is now
headed "when" in `changes`, and stays "where" in `check`.
"""

from __future__ import annotations

import pytest

from storage.db import open_database
from tests.cli_helpers import run_cli
from tests.history_series import record_rounds


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("when") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00", "r01", "r02", "r03"), source="lab")
    database.close()
    return path


def test_the_time_column_is_called_when(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(monkeypatch, capsys, "changes", "--db", db_path)
    assert code == 0, err
    header = next(line for line in out.splitlines() if "kind" in line)
    assert "┃ when" in header, header
    assert "where" not in header
