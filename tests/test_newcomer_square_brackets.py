"""Names with square brackets are printed as they were published.

Found trying planwatch as a newcomer: the terminal output read scraped text as
rich console markup. An action named "Energy renovation [phase 2]" was listed by
`planwatch changes`, `show` and `history` as "Energy renovation " (the bracket
taken for a style and dropped), and one named "Budget [/bold] 2026" or "Plan [/]"
ended `history`, `show` and `stale` in a MarkupError traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.fetch import FetchOutcome
from monitor.pipeline import PageObservation, record_check
from parsers.records import (
    Action,
    Layer,
    Organization,
    Outcome,
    PageKind,
    ParsedPage,
    ResponsibleParty,
    Status,
    TimeRange,
)
from storage.db import open_database
from tests.cli_helpers import folded, run_cli

BASE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NAMES = {
    "1": "Energy renovation [phase 2]",
    "2": "Budget [/bold] 2026",
    "3": "Plan [/]",
    "4": "Roads [red]and[/red] rails",
}
UNIT = "Unit [b]"


def _observations(moment: datetime, status: str) -> list[PageObservation]:
    actions = tuple(
        Action(
            id=platform_id,
            identifier=platform_id,
            name=name,
            url=f"https://example.org/actions/{platform_id}",
            status=Status(status, status),
            phase=None,
            tasks=None,
            updated_at=TimeRange.at(BASE - timedelta(days=400)),
            completion=None,
            responsible_parties=(ResponsibleParty("7", UNIT, "PRIMARY"),),
        )
        for platform_id, name in NAMES.items()
    )
    pages = (
        ParsedPage(
            kind=PageKind.ACTION_LIST,
            outcome=Outcome.OK,
            url="https://example.org/actions",
            language="en",
            observed_at=moment,
            organization=None,
            actions=actions,
            layer=Layer.EMBEDDED,
        ),
        ParsedPage(
            kind=PageKind.ORGANIZATION,
            outcome=Outcome.OK,
            url="https://example.org/organizations/7",
            language="en",
            observed_at=moment,
            organization=Organization("7", UNIT, len(actions)),
            actions=actions,
            layer=Layer.EMBEDDED,
        ),
    )
    return [
        PageObservation(
            url=page.url,
            fetched_at=moment,
            fetch_outcome=FetchOutcome.OK.value,
            status_code=200,
            body=b"<html></html>",
            page=page,
        )
        for page in pages
    ]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("brackets") / "planwatch.sqlite")
    database = open_database(path)
    for day, status in enumerate(("on_time", "late")):
        moment = BASE + timedelta(days=day)
        record_check(
            database, "brackets", _observations(moment, status), observed_at=moment
        )
    database.close()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["changes"],
        ["show", "brackets", "--as-of", "2026-12-03"],
        ["show", "7", "--as-of", "2026-12-03"],
        ["stale", "--as-of", "2026-12-03"],
        *(["history", platform_id] for platform_id in NAMES),
    ],
    ids=" ".join,
)
def test_names_are_printed_whole(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: names stay whole
    code, out, err = run_cli(monkeypatch, capsys, *command, "--db", db_path)
    assert code == 0, err
    shown = folded(out)
    wanted = [NAMES[command[1]]] if command[0] == "history" else NAMES.values()
    for name in wanted:
        assert name in shown
    if command[:2] == ["show", "7"]:
        assert UNIT in shown
