"""`planwatch stale --as-of T` judges the actions as they stood at T, as `show
--as-of T` shows them.

Found trying planwatch as a newcomer: after three checks of the series (r00, r02,
r03), `stale --as-of` a moment between the first two listed 3 actions, while
`show --as-of` the same moment showed 7 active actions past a line: stale took
every action's *latest* state and measured it at T. Action 7, not updated for 700
days at T, was missing because its update of r02 (after T) made its age negative;
action 12, removed in r03, was missing because it is removed now. An action first
seen after T could have been listed for a time planwatch had not seen it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.pipeline import record_check
from monitor.rules import ChangeRules
from storage.db import open_database
from tests import change_series as series
from tests.cli_helpers import run_cli

ROUNDS = ("r00", "r02", "r03")
LINES = (("target", 30), ("acceptable", 60), ("stale", 180))
INACTIVE = ("COMPLETED", "CANCELLED", "MERGED", "OUT_OF_SCOPE", "POSTPONED")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stale-as-of") / "planwatch.sqlite"
    database = open_database(str(path))
    rules = ChangeRules(timezone=series.TIMEZONE)
    for name in ROUNDS:
        at = series.check_time(name)
        record_check(
            database, "demo", series.observations(name), observed_at=at, rules=rules
        )
    database.close()
    return path


def _expected(round_name: str, as_of: datetime) -> dict[str, str]:
    """Action -> furthest line passed at ``as_of``, from the platform's answers
    of the round in force then."""
    truth = series.truth(round_name)
    assert truth is not None
    found = {}
    for action_id, action in truth.items():
        if action["mergedWith"] or action["status"]["identifier"].upper() in INACTIVE:
            continue
        age = as_of - datetime.fromisoformat(action["updatedAt"])
        passed = [line for line, days in LINES if age > timedelta(days=days)]
        if passed:
            found[action_id] = passed[-1]
    return found


def _stale(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db: Path,
    as_of: datetime,
) -> dict[str, str]:
    code, output, err = run_cli(
        monkeypatch, capsys,
        "stale", "--db", str(db), "--as-of", as_of.isoformat(), "--json",
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in output.splitlines()]
    return {row["action_id"]: row["line"] for row in rows}


@pytest.mark.parametrize("round_name", ["r00", "r02"])
def test_stale_judges_the_state_in_force_at_as_of(
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    round_name: str,
) -> None:
    # Half an hour after the round's check, well before the next one.
    as_of = series.check_time(round_name) + timedelta(minutes=30)
    expected = _expected(round_name, as_of)
    assert _stale(monkeypatch, capsys, db_path, as_of) == expected
    if round_name == "r00":
        assert expected["7"] == "stale"  # updated in r02, after as_of
        assert expected["12"] == "acceptable"  # removed in r03
