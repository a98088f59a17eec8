"""A maintenance page is one layout problem of one page, said once.

Found trying planwatch as a newcomer: one organization page answering a maintenance
notice was reported as "2 pages: ..." (the page's one anomaly was listed twice).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.pipeline import observe_saved, record_check
from storage.db import open_database
from storage.events import EventKind

FIXTURE = Path(__file__).parent.parent / "fixtures/kausal-watch/lab-2024/before/html"
URL = "https://lab.example/en/organizations/4"
MAINTENANCE = (
    b"<html><head><title>Huoltokatko</title></head><body><h1>Site under "
    b"maintenance</h1><p>We will be back soon.</p></body></html>"
)


def test_a_maintenance_page_is_one_problem_and_keeps_the_actions(
    tmp_path: Path,
) -> None:
    db = open_database(str(tmp_path / "history.sqlite"))
    page = gzip.decompress((FIXTURE / "organization-4.en.html.gz").read_bytes())
    first = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        baseline = record_check(
            db, "lab", [observe_saved(URL, page, first)], observed_at=first
        )
        assert baseline.outcome == "baseline"
        later = first + timedelta(hours=1)
        report = record_check(
            db, "lab", [observe_saved(URL, MAINTENANCE, later)], observed_at=later
        )
    finally:
        db.close()

    [anomaly] = [e for e in report.events if e.kind is EventKind.LAYOUT_ANOMALY]
    assert len(anomaly.detail["pages"]) == 1
    assert anomaly.detail["reason"].startswith(f"{URL}: ")
    assert "maintenance" in anomaly.detail["reason"]
    assert not [e for e in report.events if e.kind is EventKind.ACTION_REMOVED]
