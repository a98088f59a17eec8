"""`planwatch export` refuses a time option the chosen export does not read.

Found trying planwatch as a newcomer: `export versions --since 2030-01-01` and
`export records --until 2020-01-01` wrote every row, and `export changes --as-of T`
every change, as if filtered: the option was silently ignored.
"""

from __future__ import annotations

import pytest

from storage.db import open_database
from tests.cli_helpers import run_cli
from tests.history_series import record_rounds


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("export") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00",), source="lab")
    database.close()
    return path


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["versions", "--since", "2030-01-01"], "--since"),
        (["versions", "--until", "2020-01-01"], "--until"),
        (["records", "--since", "2030-01-01"], "--since"),
        (["records", "--until", "2020-01-01"], "--until"),
        (["versions", "--as-of", "2020-01-01"], "--as-of"),
        (["changes", "--as-of", "2020-01-01"], "--as-of"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_a_time_option_the_export_does_not_read_is_refused(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    option: str,
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "export", *command, "--db", db_path)

    assert code == 2, out
    assert out == ""
    assert f"{option} applies to export" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["records", "--as-of", "2030-01-01"],
        ["changes", "--since", "2020-01-01", "--until", "2030-01-01"],
        ["versions"],
    ],
    ids=" ".join,
)
def test_the_options_an_export_reads_are_taken(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "export", *command, "--db", db_path)

    assert code == 0, err
    assert out.startswith(("source,", "observed_at,"))
