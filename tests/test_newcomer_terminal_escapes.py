"""Control characters in scraped text never reach the terminal as themselves.

Found trying `planwatch parse` on crafted pages: an action named with an escape
sequence ("\\x1b[2J" clears the screen, "\\x1b]0;...\\x07" retitles the window,
"\\x9b" is a CSI on some terminals) was printed as it came by parse, show,
history, changes and stale, so a page could steer the reader's terminal. They are
printed as their escapes now, the rest of the name as published.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from monitor.cli import _PrintableFormatter
from monitor.fetch import FetchOutcome
from monitor.pipeline import PageObservation, record_check
from monitor.tables import printable
from parsers.records import (
    Action,
    Layer,
    Outcome,
    PageKind,
    ParsedPage,
    Status,
    TimeRange,
)
from storage.db import open_database
from tests.cli_helpers import run_cli

BASE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NAME = "Heat pumps \x1b[2J\x1b]0;pwned\x07 for schools\x9b31m"
CONTROLS = ("\x1b", "\x07", "\x9b")


def _observation(moment: datetime, status: str) -> PageObservation:
    action = Action(
        id="1",
        identifier="1",
        name=NAME,
        url="https://example.org/actions/1",
        status=Status(status, status),
        phase=None,
        tasks=None,
        updated_at=TimeRange.at(BASE - timedelta(days=400)),
        completion=None,
    )
    page = ParsedPage(
        kind=PageKind.ACTION_LIST,
        outcome=Outcome.OK,
        url="https://example.org/actions",
        language="en",
        observed_at=moment,
        organization=None,
        actions=(action,),
        layer=Layer.EMBEDDED,
    )
    return PageObservation(
        url=page.url,
        fetched_at=moment,
        fetch_outcome=FetchOutcome.OK.value,
        status_code=200,
        body=b"<html></html>",
        page=page,
    )


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("escapes") / "planwatch.sqlite")
    database = open_database(path)
    for day, status in enumerate(("on_time", "late")):
        moment = BASE + timedelta(days=day)
        record_check(
            database, "escapes", [_observation(moment, status)], observed_at=moment
        )
    database.close()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["changes"],
        ["show", "escapes", "--as-of", "2026-12-03"],
        ["stale", "--as-of", "2026-12-03"],
        ["history", "1"],
    ],
    ids=" ".join,
)
def test_a_name_cannot_steer_the_terminal(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    code, out, err = run_cli(monkeypatch, capsys, *command, "--db", db_path)
    assert code == 0, err
    assert not any(c in out for c in CONTROLS)
    assert "Heat pumps \\x1b[2J\\x1b]0;pwned\\x07 for schools\\x9b31m" in out


def test_the_escapes_are_kept_in_json(
    db_path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # JSON escapes them itself, and a program reading it gets the name published.
    code, out, err = run_cli(
        monkeypatch, capsys, "history", "1", "--db", db_path, "--json"
    )
    assert code == 0, err
    assert '"Heat pumps \\u001b[2J' in out


def test_log_lines_show_control_characters_as_escapes() -> None:
    record = logging.LogRecord(
        "monitor.pipeline", logging.WARNING, __file__, 1, "%s", (NAME,), None
    )
    line = _PrintableFormatter("%(message)s").format(record)
    assert line == printable(NAME)
    assert not any(c in line for c in CONTROLS)


def test_printable_keeps_newlines_tabs_and_letters() -> None:
    assert printable("Ympäristö\tvuosi\n2026 – ½") == "Ympäristö\tvuosi\n2026 – ½"
    assert printable("\x00\x1f\x7f\x80\x9f") == "\\x00\\x1f\\x7f\\x80\\x9f"
