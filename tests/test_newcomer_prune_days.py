"""`planwatch db prune --keep-days N` with more days than the calendar holds keeps
every raw page, and says so.

Found trying planwatch as a newcomer: `planwatch db prune --keep-days 3000000` (a
way to say "keep everything" while trying the command) ended in an OverflowError
traceback ("date value out of range"), and `--keep-days 99999999999` in another
("Python int too large to convert to C int"). No page is that old: nothing goes.
"""

from __future__ import annotations

import json

import pytest

from storage.db import open_database
from tests.cli_helpers import run_cli
from tests.history_series import record_rounds


@pytest.fixture
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("prune") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00", "r01", "r02"))
    database.close()
    return path


@pytest.mark.parametrize("days", ["3000000", "99999999999", str(10**30)])
def test_more_days_than_the_calendar_holds_keeps_everything(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    days: str,
) -> None:
    for extra in (["--dry-run"], []):
        code, stdout, stderr = run_cli(
            monkeypatch,
            capsys,
            *("db", "prune", "--keep-days", days, "--json", "--db", db_path),
            *extra,
        )
        assert code == 0, stderr
        report = json.loads(stdout)
        assert (report["snapshots_pruned"], report["blobs_deleted"]) == (0, 0)
