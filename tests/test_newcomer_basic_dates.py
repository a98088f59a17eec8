"""A date in ISO-8601's basic format (20261205) or as a week date (2026-W49-6)
means the same day as 2026-12-05, in every time option.

Found trying planwatch as a newcomer: only a ten-character text was taken for a
bare date. `--as-of 20261205` showed the state at midnight instead of that
evening, and `changes --since 20261205 --until 20261205` answered "no changes" for
a day whose check found eleven: both were read as the day's first moment, while
README says a date means its end for --until and --as-of.
"""

from __future__ import annotations

import json

import pytest

from storage.db import open_database
from tests.cli_helpers import run_cli
from tests.history_series import record_rounds

# r02 was checked on 2026-12-05, a Saturday, at 16:24 UTC.
SPELLINGS = ["20261205", "2026-W49-6", "2026W496"]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("dates") / "planwatch.sqlite")
    database = open_database(path)
    record_rounds(database, ("r00", "r02", "r03"))
    database.close()
    return path


def _out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    return out


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize(
    "command",
    [
        ["changes", "--since", "{day}", "--until", "{day}", "--json"],
        ["show", "demo", "--as-of", "{day}", "--json"],
        ["stale", "--as-of", "{day}", "--json"],
        ["export", "changes", "--format", "json", "--until", "{day}"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_every_spelling_of_a_day_is_that_day(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    spelling: str,
) -> None:
    def answer(day: str) -> str:
        args = [part.replace("{day}", day) for part in command]
        return _out(monkeypatch, capsys, *args, "--db", db_path)

    expected = answer("2026-12-05")
    assert expected.strip()
    assert "no changes" not in expected
    assert answer(spelling) == expected
    if command[0] == "show":
        assert json.loads(expected)["as_of"] == "2026-12-05T23:59:59.999999+00:00"
