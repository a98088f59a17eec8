"""A bare date given to `--as-of` means the end of that day, in every command; and
every time option's error shows an example.

Found trying planwatch as a newcomer: `planwatch stale --as-of 2026-06-01` judged
ages at the start of the day, while README (and `show`) say a date means its end;
`stale` and `parse --observed-at` refused a bad time without the "(e.g. ...)" hint
the other commands give.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.pipeline import record_check
from monitor.rules import ChangeRules
from storage.db import open_database
from tests import change_series as series
from tests.cli_helpers import folded, run_cli

# In the series' r04, action 9 was last updated 2026-10-19 16:19 UTC: it passes
# its plan's 180-day stale line on 2027-04-17 at 16:19, in the middle of the day.
CROSSING_DAY = "2027-04-17"


def _planwatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert "Traceback" not in err
    return code, out, folded(err)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("as-of") / "history.sqlite"
    database = open_database(str(db))
    rules = ChangeRules(timezone=series.TIMEZONE)
    at = series.check_time("r04")
    record_check(
        database, "demo", series.observations("r04"), observed_at=at, rules=rules
    )
    database.close()
    return db


def _line_of_action_9(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db: Path,
    as_of: str,
) -> str | None:
    code, output, err = _planwatch(
        monkeypatch, capsys, "stale", "--db", str(db), "--as-of", as_of, "--json"
    )
    assert code == 0, err
    rows = [json.loads(line) for line in output.splitlines()]
    return next((r["line"] for r in rows if r["action_id"] == "9"), None)


def test_stale_reads_a_bare_date_as_its_end(
    history: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def line(as_of: str) -> str | None:
        return _line_of_action_9(monkeypatch, capsys, history, as_of)

    assert line(f"{CROSSING_DAY}T00:00:00Z") == "acceptable"
    assert line(f"{CROSSING_DAY}T23:59:59Z") == "stale"
    assert line(CROSSING_DAY) == "stale"


def test_show_and_stale_agree_on_a_bare_date(
    history: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output, err = _planwatch(
        monkeypatch, capsys, "show", "demo", "--db", str(history), "--as-of",
        CROSSING_DAY, "--json",
    )  # fmt: skip

    assert code == 0, err
    assert json.loads(output)["as_of"] == f"{CROSSING_DAY}T23:59:59.999999+00:00"


@pytest.mark.parametrize(
    "args",
    [
        ["stale", "--as-of", "yesterday"],
        ["show", "demo", "--as-of", "yesterday"],
        ["changes", "--since", "yesterday"],
        ["parse", "page.html", "--url", "https://example.org/", "--observed-at", "x"],
        ["notify", "preview", "--since", "yesterday"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_bad_time_is_refused_with_an_example(
    history: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.html").write_text("<html></html>")
    db = [] if args[0] == "parse" else ["--db", str(history)]

    code, _, err = _planwatch(monkeypatch, capsys, *args, *db)

    assert code == 2
    assert "not an ISO-8601 date or time" in err
    assert "(e.g. 2026-06-01 or 2026-06-01T09:30:00+03:00)" in err


_YEAR_0 = "0001-01-01T00:00:00+14:00"  # in UTC: 31 December of year 0
_PAST_THE_CALENDAR = [
    ["changes", "--since", "9999-12-31T23:59:59-23:59"],
    ["show", "demo", "--as-of", _YEAR_0],
    ["export", "changes", "--format", "csv", "--until", "9999-12-31T23:59-12:00"],
    ["notify", "preview", "--since", _YEAR_0],
    ["parse", "page.html", "--url", "https://x.org/", "--observed-at", _YEAR_0],
]


@pytest.mark.parametrize(
    "args", _PAST_THE_CALENDAR, ids=lambda args: " ".join(args[:2])
)
def test_a_time_past_the_calendar_in_utc_is_refused(
    history: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    # A valid ISO time whose UTC falls in year 0 or 10000 was an OverflowError
    # with a traceback.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.html").write_text("<html></html>")
    db = [] if args[0] == "parse" else ["--db", str(history)]

    code, _, err = _planwatch(monkeypatch, capsys, *args, *db)

    assert code == 2
    assert "is outside the years 1 to 9999 in UTC" in err
