"""A filter naming a source, organization or action the database does not hold is an
error that names it and the nearest known names; a known one with nothing to show
still answers "nothing".

Found trying planwatch as a newcomer: `changes --site TYPO`, `stale --source TYPO`
and `export changes --source TYPO` answered "no changes" (or an empty file), which
reads as "nothing changed there".
"""

from __future__ import annotations

import pytest

from storage.db import open_database
from tests.cli_helpers import run_cli
from tests.history_series import record_rounds, truth


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("names") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00", "r02"), source="lab-fi")
    record_rounds(database, ("r00", "r02"), source="lab-en")
    record_rounds(database, ("r00",), source="quiet")  # a baseline: no changes
    database.close()
    return path


def _planwatch(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, *args)


@pytest.mark.parametrize(
    "command",
    [
        ["changes", "--site", "lab-fii"],
        ["changes", "--source", "lab-fii"],
        ["changes", "--site", "lab-en", "--site", "lab-fii"],
        ["changes", "--site", "lab-fii", "--action", "IL-15"],
        ["changes", "--site", "lab-fii", "--organization", "4"],
        ["stale", "--source", "lab-fii"],
        ["export", "changes", "--source", "lab-fii"],
        ["export", "records", "--source", "lab-fii"],
        ["export", "versions", "--source", "lab-fii"],
        ["history", "IL-15", "--source", "lab-fii"],
        ["show", "4", "--source", "lab-fii"],
    ],
    ids=lambda command: " ".join(command),
)
def test_an_unknown_source_is_named_with_the_known_ones(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    code, out, err = _planwatch(monkeypatch, capsys, *command, "--db", db_path)

    assert code == 2
    assert out == ""
    assert "no source named 'lab-fii' in the database" in err
    assert "(did you mean 'lab-fi' " in err
    assert "known: lab-en, lab-fi, quiet" in err
    assert "Traceback" not in err


def test_an_unknown_organization_or_action_gets_the_nearest_names(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {
        party["organization"]["name"]
        for action in truth("r00").values()
        for party in action["responsibleParties"]
    }
    name = min((n for n in names if len(n) > 10), key=len)
    typo = name[:-1]

    organization = _planwatch(
        monkeypatch, capsys, "changes", "--organization", typo, "--db", db_path
    )
    action = _planwatch(
        monkeypatch, capsys, "changes", "--action", "155", "--db", db_path
    )
    versions = _planwatch(monkeypatch, capsys, "history", "155", "--db", db_path)

    assert organization[0] == 2
    assert f"--organization {typo}: no such organization" in organization[2]
    assert f"did you mean {name!r}" in organization[2]
    assert action[0] == 2
    assert "--action 155: no such action (did you mean '15'" in action[2]
    assert versions[0] == 2
    assert "no action '155' (did you mean '15'" in versions[2]


def test_a_known_source_with_nothing_to_show_answers_nothing(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = _planwatch(
        monkeypatch, capsys, "changes", "--site", "quiet", "--db", db_path
    )
    as_json = _planwatch(
        monkeypatch, capsys, "changes", "--site", "quiet", "--json", "--db", db_path
    )
    exported = _planwatch(
        monkeypatch,
        capsys,
        "export",
        "changes",
        "--source",
        "quiet",
        "--format",
        "ndjson",
        "--db",
        db_path,
    )
    stale = _planwatch(
        monkeypatch,
        capsys,
        "stale",
        "--source",
        "quiet",
        "--as-of",
        "2000-01-01",
        "--db",
        db_path,
    )

    assert changes == (0, "no changes\n", "")
    assert as_json == (0, "", "")
    assert exported == (0, "", "")
    assert stale[0] == 0
    assert "no action is past a staleness line" in stale[1]
