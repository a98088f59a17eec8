"""For the web view's tests: histories filled by the real pipeline, and a real
server on 127.0.0.1.

- ``fill_series``: the series-2024 rounds (one site over 43 days: edits, removals,
  staleness, a backend outage, a layout change and its repair).
- ``fill_lab``: the lab-2024 pages before and after seven real edits.
- ``fill_hostile``: a site whose every scraped text is markup or script, passed
  through the same pipeline as parsed pages.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
import uvicorn
from starlette.applications import Starlette

from monitor.demo import lab_pages
from monitor.fetch import FetchOutcome
from monitor.localserve import read_fixture
from monitor.pipeline import PageObservation, observe_saved, record_check
from parsers.records import (
    Action,
    Anomaly,
    Layer,
    Organization,
    Outcome,
    PageKind,
    ParsedPage,
    Phase,
    ResponsibleParty,
    Status,
    Task,
    TaskCounts,
    TimeRange,
)
from storage.db import Database, open_database

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kausal-watch"
SERIES = FIXTURES / "series-2024"
SERIES_HOST = "http://demo.localhost:3000"
LAB_HOST = "http://lab.localhost:3000"
# r01 (the clock only) and r05b (the same outage as r05) add nothing the views
# show that the other rounds do not.
ROUNDS = ("r00", "r02", "r03", "r04", "r05", "r06", "r07")
LANGUAGES = ("en",)  # every round has fi and en (r00 also sv, de): one is enough here


# -- the series ----------------------------------------------------------------------


def series_round_time(round_name: str) -> datetime:
    index = json.loads((SERIES / "index.json").read_text())
    for entry in index["rounds"]:
        if entry["round"] == round_name:
            return datetime.fromisoformat(entry["faked_now_utc"])
    raise KeyError(round_name)


def series_observations(round_name: str) -> list[PageObservation]:
    """One round's pages as the fetcher would have handed them to the pipeline."""
    folder = SERIES / round_name
    pages = json.loads((folder / "pages.json").read_text())["pages"]
    fallback = series_round_time(round_name)
    observations = []
    for page in pages:
        if page["lang"] not in LANGUAGES:
            continue
        prefix = "" if page["lang"] == "fi" else f"/{page['lang']}"
        url = SERIES_HOST + prefix + page["path"]
        moment = _time(page["ui_now"]) or fallback
        if page["status"] != 200:
            # The UI answered redirects in a loop while the backend was down.
            observations.append(
                PageObservation(
                    url=url,
                    fetched_at=moment,
                    fetch_outcome=FetchOutcome.REDIRECT_ANOMALY.value,
                    status_code=page["status"],
                    body=None,
                    error=f"HTTP {page['status']} redirect loop",
                )
            )
            continue
        body = read_fixture(folder / "html" / f"{page['page']}.{page['lang']}.html")
        observations.append(observe_saved(url, body, moment))
    return observations


def fill_series(
    db: Database, source: str = "demo", rounds: tuple[str, ...] = ROUNDS
) -> None:
    for round_name in rounds:
        record_check(
            db,
            source,
            series_observations(round_name),
            observed_at=series_round_time(round_name),
        )


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- the lab site --------------------------------------------------------------------

LAB_BEFORE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LAB_AFTER = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def lab_observations(phase: str, moment: datetime) -> list[PageObservation]:
    """The lab site's English pages of one phase ("before" or "after")."""
    return [
        observe_saved(LAB_HOST + path, page.body, moment)
        for path, page in lab_pages(phase).items()
        if path.startswith("/en/")
    ]


def fill_lab(db: Database, source: str = "lab") -> None:
    for phase, moment in (("before", LAB_BEFORE), ("after", LAB_AFTER)):
        record_check(db, source, lab_observations(phase, moment), observed_at=moment)


# -- a hostile site ------------------------------------------------------------------

SCRIPT = '<script>alert("pw-xss")</script>'
IMG = "<img src=x onerror=alert(1)>"
HOSTILE = {
    "action": f"Cycling {SCRIPT} & <b>bold</b> \"quoted\" 'single'",
    "renamed": f"Renamed {IMG} </title></summary></entry> ]]>",
    "org": f"Dept <i>of</i> {SCRIPT}",
    "task": f"Task {IMG}",
    "status": f"Late {SCRIPT}",
    "phase": "<svg onload=alert(2)>Phase</svg>",
    "anomaly": f"table gone {SCRIPT}",
}
HOSTILE_URL = "javascript:alert(document.cookie)"
HOSTILE_SOURCE = "evil<script>"
HOSTILE_BASE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Control characters XML cannot carry; a feed must stay readable all the same.
CONTROL = "bell\x07 and escape\x1b end"


def _hostile_page(
    *, name: str, status: str, with_task: bool, responsible: str, anomaly: bool
) -> ParsedPage:
    tasks = (
        (Task("77", HOSTILE["task"], "IN_PROGRESS", None, None),) if with_task else ()
    )
    action = Action(
        id="1",
        identifier="X<1>",
        name=name,
        url=HOSTILE_URL,
        status=Status(status, HOSTILE["status"] if status == "late" else "On time"),
        phase=Phase("implementation", HOSTILE["phase"]),
        tasks=TaskCounts(len(tasks), 0, 0, len(tasks)),
        updated_at=TimeRange.at(HOSTILE_BASE - timedelta(days=400)),
        completion=10,
        task_list=tasks,
        responsible_parties=(ResponsibleParty(responsible, HOSTILE["org"], "PRIMARY"),),
    )
    second = Action(
        id="2",
        identifier="2",
        name=CONTROL,
        url="https://example.org/actions/2",
        status=Status("on_time", "On time"),
        phase=None,
        tasks=None,
        updated_at=None,
        completion=None,
        responsible_parties=(ResponsibleParty("5", HOSTILE["org"], "PRIMARY"),),
    )
    return ParsedPage(
        kind=PageKind.ACTION_LIST,
        outcome=Outcome.OK,
        url="https://example.org/actions",
        language="en",
        observed_at=HOSTILE_BASE,
        organization=None,
        actions=(action, second),
        anomalies=(Anomaly("count_mismatch", HOSTILE["anomaly"]),) if anomaly else (),
        layer=Layer.EMBEDDED,
    )


def _hostile_org_page(name: str, actions: tuple[Action, ...]) -> ParsedPage:
    return ParsedPage(
        kind=PageKind.ORGANIZATION,
        outcome=Outcome.OK,
        url="https://example.org/organizations/5",
        language="en",
        observed_at=HOSTILE_BASE,
        organization=Organization("5", name, len(actions)),
        actions=actions,
        layer=Layer.EMBEDDED,
    )


def fill_hostile(db: Database, source: str = HOSTILE_SOURCE) -> None:
    """Three checks of a site whose texts are all markup: a baseline, edits (a
    rename, a status, a task, a party, an organization's name), a layout anomaly."""
    checks = [
        (HOSTILE["action"], "on_time", False, "5", False, "Org " + SCRIPT),
        (HOSTILE["renamed"], "late", True, "6", False, HOSTILE["org"]),
        (HOSTILE["renamed"], "late", True, "6", True, HOSTILE["org"]),
    ]
    for day, (name, status, task, party, anomaly, org_name) in enumerate(checks):
        moment = HOSTILE_BASE + timedelta(days=day)
        listing = _hostile_page(
            name=name,
            status=status,
            with_task=task,
            responsible=party,
            anomaly=anomaly,
        )
        pages = [listing, _hostile_org_page(org_name, listing.actions)]
        observations = [
            PageObservation(
                url=page.url,
                fetched_at=moment,
                fetch_outcome=FetchOutcome.OK.value,
                status_code=200,
                body=b"<html></html>",
                page=msgspec.structs.replace(page, observed_at=moment),
            )
            for page in pages
        ]
        record_check(db, source, observations, observed_at=moment)


# -- filled once per test session ---------------------------------------------------

_FILLED: dict[str, Path] = {}


def filled_database(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    fill: Callable[[Database], None],
) -> str:
    """An SQLite file filled by ``fill`` the first time ``name`` is asked for; the
    views only read it, so every test module can share it."""
    if name not in _FILLED:
        path = tmp_path_factory.mktemp("web") / f"{name}.sqlite"
        database = open_database(str(path))
        try:
            fill(database)
        finally:
            database.close()
        _FILLED[name] = path
    return str(_FILLED[name])


def fill_series_and_lab(db: Database) -> None:
    fill_series(db)
    fill_lab(db)


# -- a real server -------------------------------------------------------------------


@contextmanager
def serving(app: Starlette, root_path: str = "") -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 (a free port); yields the base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ws="none",
        lifespan="off",
        root_path=root_path,
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the test server did not start")
            threading.Event().wait(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
