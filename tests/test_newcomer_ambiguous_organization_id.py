"""`planwatch show ID` on an id two sources share asks only for --source.

Found trying planwatch as a newcomer, with one site imported as two sources:
`planwatch show 2` answered "'2' matches several organizations (espoo:
organization 2; espoo2: organization 2): choose with --source NAME or give the
organization's id", though 2 was the id; giving the id again cannot help. The
advice to give the id is now kept for a name that several organizations bear.
"""

from __future__ import annotations

import sqlite3

import pytest

from storage.db import open_database
from tests.cli_helpers import folded, run_cli
from tests.history_series import record_rounds


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("twice") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00",), source="one")
    record_rounds(database, ("r00",), source="two")
    database.close()
    return path


def test_an_id_in_two_sources_asks_for_the_source(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "show", "2", "--db", db_path)
    assert code == 2, out
    message = folded(err)
    assert "'2' matches several organizations" in message, message
    assert "choose with --source NAME" in message
    assert "give the organization's id" not in message


def test_a_name_in_two_sources_may_also_be_given_as_an_id(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _an_organization_name(db_path)
    code, out, err = run_cli(monkeypatch, capsys, "show", name, "--db", db_path)
    assert code == 2, out
    message = folded(err)
    assert "matches several organizations" in message, message
    assert "give the organization's id" in message


def _an_organization_name(path: str) -> str:
    with sqlite3.connect(path) as connection:
        (name,) = connection.execute(
            "SELECT name FROM organization_history WHERE organization_id = '2' LIMIT 1"
        ).fetchone()
    return str(name)
