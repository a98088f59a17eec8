"""An action identifier written with Unicode numerals (①, ², ٣) is listed, shown,
exported and served like any other.

Found trying planwatch as a newcomer: a plan numbering its actions ① ② ③ (common
in Japanese and Chinese documents) was checked and stored, but `planwatch show`,
`export records` and the web view's action lists (`/api/actions`, `/sources/NAME`,
the organization page) then ended in ValueError, a traceback or a 500: the
natural sort took every character ``str.isdigit`` accepts for a number ``int``
can read, and ``int("①")`` cannot. Arabic-Indic digits, which ``int`` does read,
sort as the numbers they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitor.fetch import FetchOutcome
from monitor.pipeline import PageObservation, record_check
from monitor.web.app import create_app, open_read_only
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
from tests.cli_helpers import run_cli
from tests.web_helpers import serving

BASE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# platform id -> identifier as the plan writes it
IDENTIFIERS = {"1": "①", "2": "1.²", "3": "3", "4": "٢", "5": "10"}


def _action(platform_id: str, status: str) -> Action:
    return Action(
        id=platform_id,
        identifier=IDENTIFIERS[platform_id],
        name=f"Action {IDENTIFIERS[platform_id]}",
        url=f"https://example.org/actions/{platform_id}",
        status=Status(status, status),
        phase=None,
        tasks=None,
        updated_at=TimeRange.at(BASE - timedelta(days=10)),
        completion=None,
        responsible_parties=(ResponsibleParty("7", "Unit", "PRIMARY"),),
    )


def _observations(moment: datetime, status: str) -> list[PageObservation]:
    actions = tuple(_action(i, status if i == "1" else "on_time") for i in IDENTIFIERS)
    listing = ParsedPage(
        kind=PageKind.ACTION_LIST,
        outcome=Outcome.OK,
        url="https://example.org/actions",
        language="en",
        observed_at=moment,
        organization=None,
        actions=actions,
        layer=Layer.EMBEDDED,
    )
    unit = ParsedPage(
        kind=PageKind.ORGANIZATION,
        outcome=Outcome.OK,
        url="https://example.org/organizations/7",
        language="en",
        observed_at=moment,
        organization=Organization("7", "Unit", len(actions)),
        actions=actions,
        layer=Layer.EMBEDDED,
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
        for page in (listing, unit)
    ]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("numerals") / "planwatch.sqlite")
    database = open_database(path)
    for day, status in enumerate(("on_time", "late")):
        moment = BASE + timedelta(days=day)
        record_check(
            database, "numerals", _observations(moment, status), observed_at=moment
        )
    database.close()
    return path


@pytest.fixture(scope="module")
def web(db_path: str) -> Iterator[httpx.Client]:
    database = open_read_only(db_path)
    with serving(create_app(database)) as base, httpx.Client(base_url=base) as client:
        yield client
    database.close()


@pytest.mark.parametrize(
    "command",
    [
        ["show", "numerals", "--json"],
        ["show", "7", "--json"],
        ["export", "records", "--format", "json"],
    ],
    ids=" ".join,
)
def test_the_commands_list_every_action(
    db_path: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    code, stdout, stderr = run_cli(monkeypatch, capsys, *command, "--db", db_path)
    assert code == 0, stderr
    data = json.loads(stdout)
    rows = data if isinstance(data, list) else data["actions"]
    identifiers = [row["identifier"] for row in rows]
    assert sorted(identifiers) == sorted(IDENTIFIERS.values())
    # Numbers sort as numbers, whatever digits write them: ٢ is 2, before 3 and 10.
    numbers = [i for i in identifiers if i in ("٢", "3", "10")]
    assert numbers == ["٢", "3", "10"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/actions",
        "/api/actions?source=numerals&organization=7",
        "/sources/numerals",
        "/sources/numerals/organizations/7",
    ],
)
def test_the_web_view_lists_every_action(web: httpx.Client, path: str) -> None:
    answer = web.get(path)
    assert answer.status_code == 200, answer.text[:300]
    if path.startswith("/api/"):
        identifiers = {a["identifier"] for a in answer.json()["items"]}
        assert identifiers == set(IDENTIFIERS.values())
    else:
        assert "①" in answer.text
