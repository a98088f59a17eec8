"""Every fault a site can produce, through a whole check: the right outcome, no
change reported, nothing lost, and the baseline kept.

A source of two real Kausal Watch pages (an organization page and an action page)
is checked once against the fault server on 127.0.0.1 (the baseline), then twice
with the organization page faulty (a removal is believed when seen twice), then
once with it well again. The faulty check
must end failed or anomalous (or, for charsets the decoder sees through,
unchanged) without one record event, the history must still hold every action as
the baseline saw it, and the check after the fault must find nothing changed: had
the fault been stored as a new baseline, the recovery would report its actions as
added again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import stamina

from monitor.config import Config, Settings, SourceConfig
from monitor.demo import lab_pages
from monitor.fetch import FetchPolicy
from monitor.pipeline import CheckOutcome, CheckReport
from monitor.scheduling import Claims
from monitor.service import Checker, check_now
from monitor.workers import FetchLoop
from storage.db import Database
from storage.events import EventKind
from storage.history import table_as_of
from storage.models import Source
from tests.faultserver import FaultServer, Reply, http_date, running

ORG, ACTION = "/organizations/2", "/actions/3"
HTML = {"Content-Type": "text/html; charset=utf-8"}
SOURCE_EVENTS = frozenset(
    {
        EventKind.SOURCE_FAILING,
        EventKind.SOURCE_RECOVERED,
        EventKind.LAYOUT_ANOMALY,
        EventKind.LAYOUT_RESTORED,
    }
)
MAINTENANCE = (
    b"<!doctype html><html lang='fi'><head><title>Huoltokatko</title></head>"
    b"<body><h1>Palvelu on huoltokatkolla</h1><p>Palaamme pian.</p></body></html>"
)
BAD = (CheckOutcome.FAILED, CheckOutcome.ANOMALY)


def _faults() -> dict[str, tuple[Any, tuple[CheckOutcome, ...]]]:
    """name -> (what the organization page answers, the outcomes allowed)."""
    body = lab_pages("before")[ORG].body
    soon = http_date(time.time() + 1)
    return {
        "timeout": (Reply(200, body, HTML, delay=1.0), BAD),
        "500": (Reply(500, b"oops"), BAD),
        "502": (Reply(502, b"bad gateway"), BAD),
        "503": (Reply(503, b"busy"), BAD),
        "429 with Retry-After seconds": (
            Reply(429, b"slow down", {"Retry-After": "1"}),
            BAD,
        ),
        "503 with Retry-After date": (
            Reply(503, b"later", {"Retry-After": soon}),
            BAD,
        ),
        "truncated body": (Reply(200, body, HTML, mode="truncate"), BAD),
        "endless body": (Reply(200, b"", HTML, mode="endless"), BAD),
        "wrong charset": (
            Reply(200, body, {"Content-Type": "text/html; charset=iso-8859-1"}),
            (CheckOutcome.UNCHANGED,),
        ),
        "missing charset": (
            Reply(200, body, {"Content-Type": "text/html"}),
            (CheckOutcome.UNCHANGED,),
        ),
        "redirect loop": (Reply(302, b"", {"Location": ORG}), BAD),
        "redirect to a login page": (
            Reply(302, b"", {"Location": "/login?next=/organizations/2"}),
            BAD,
        ),
        "maintenance page with 200": (Reply(200, MAINTENANCE, HTML), BAD),
        "robots.txt disallows": ("robots", BAD),
    }


FAULTS = _faults()


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=2):
        yield


@pytest.fixture
def site() -> Iterator[FaultServer]:
    pages = lab_pages("before")
    with running() as server:
        server.script(ORG, Reply(200, pages[ORG].body, HTML))
        server.script(ACTION, Reply(200, pages[ACTION].body, HTML))
        server.script("/login", Reply(200, MAINTENANCE, HTML))
        yield server


def _check(db: Database, site: FaultServer) -> CheckReport:
    """One check of the source, as ``planwatch check`` runs it (nothing kept)."""
    source = SourceConfig(name="lab", pages=[site.url(ORG), site.url(ACTION)])
    config = Config(
        planwatch=Settings(contact="faults@127.0.0.1", min_delay_seconds=0),
        sources=[source],
    )
    policy = FetchPolicy(
        contact="faults@127.0.0.1",
        connect_timeout=0.5,
        read_timeout=0.5,
        total_timeout=3.0,
        max_body_bytes=4 * 1024 * 1024,
        min_delay_per_host=0,
        jitter=0,
        retries=1,
        max_retry_after=5.0,
        allowed_hosts=frozenset({"127.0.0.1"}),
    )
    loop = FetchLoop(policy)
    try:
        return check_now(Checker(config, {}, loop), Claims(db), db, source).report
    finally:
        loop.close()


def _actions(db: Database) -> dict[str, Any]:
    with db.sessions() as session:
        source = session.query(Source).filter_by(name="lab").one()
        table = table_as_of(session, source, datetime.now(UTC))
        return {record.platform_id: record.state for record in table.actions}


def _record_events(report: CheckReport) -> list[str]:
    return [e.kind for e in report.events if e.kind not in SOURCE_EVENTS]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_reports_nothing_loses_nothing_and_keeps_the_baseline(
    db: Database, site: FaultServer, fault: str
) -> None:
    answer, allowed = FAULTS[fault]
    baseline = _check(db, site)
    assert baseline.outcome == CheckOutcome.BASELINE
    before = _actions(db)
    assert len(before) >= 3

    good = lab_pages("before")[ORG].body
    if answer == "robots":
        site.script("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /", {}))
    else:
        site.script(ORG, answer)
    # Twice: a removal is believed on its second sighting.
    for _ in range(2):
        faulty = _check(db, site)
        assert faulty.outcome in allowed, (fault, faulty.outcome)
        assert _record_events(faulty) == [], fault
        assert _actions(db) == before, fault

    site.script("/robots.txt", Reply(404, b"no robots here"))
    site.script(ORG, Reply(200, good, HTML))
    recovered = _check(db, site)

    assert recovered.outcome in (CheckOutcome.UNCHANGED, CheckOutcome.CHANGED)
    assert _record_events(recovered) == [], fault
    assert _actions(db) == before, fault


def test_a_page_the_parser_fails_on_is_a_layout_anomaly_not_a_lost_check(
    db: Database,
    site: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from monitor import pipeline

    baseline = _check(db, site)
    assert baseline.outcome == CheckOutcome.BASELINE
    before = _actions(db)
    parse = pipeline.parse_page

    def failing(body: bytes | str, url: str, **kwargs: Any) -> Any:
        if url.endswith(ORG):
            raise RuntimeError("a parser bug")
        return parse(body, url, **kwargs)

    monkeypatch.setattr(pipeline, "parse_page", failing)
    for _ in range(2):  # a removal is believed on its second sighting
        faulty = _check(db, site)
        assert faulty.outcome == CheckOutcome.ANOMALY
        assert _record_events(faulty) == []
        assert _actions(db) == before
    assert "the parser failed" in caplog.text
    assert "RuntimeError: a parser bug" in caplog.text

    monkeypatch.setattr(pipeline, "parse_page", parse)
    recovered = _check(db, site)
    assert recovered.outcome in (CheckOutcome.UNCHANGED, CheckOutcome.CHANGED)
    assert _record_events(recovered) == []
    assert _actions(db) == before
