"""`planwatch export versions --format csv` writes `changed_fields` as "a; b".

Found trying planwatch as a newcomer: README says CSV joins lists with `; `, and
the JSON exports gave `"changed_fields": ["completion", "tasks"]`, but the CSV
cell read `('completion', 'tasks')`, Python's spelling of a tuple, which no
spreadsheet or script splits. The fields came as a tuple and only lists were
joined; now any sequence of names is.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from storage.db import open_database
from tests.cli_helpers import run_cli
from tests.history_series import record_rounds


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("export") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00", "r01", "r02", "r03"), source="lab")
    database.close()
    return path


def test_changed_fields_are_joined_as_json_lists_them(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        monkeypatch, capsys, "export", "versions", "--format", "ndjson", "--db", db_path
    )
    assert code == 0, err
    listed = [
        row["changed_fields"]
        for row in map(json.loads, out.splitlines())
        if row["changed_fields"]
    ]
    assert listed, out[:500]

    code, out, err = run_cli(
        monkeypatch, capsys, "export", "versions", "--format", "csv", "--db", db_path
    )
    assert code == 0, err
    cells = [r["changed_fields"] for r in csv.DictReader(io.StringIO(out))]
    assert [c for c in cells if c] == ["; ".join(fields) for fields in listed]
