"""An organization page answering the platform's not-found page is read normally.

Follow-up to tests/test_newcomer_list_not_found.py, found replaying the series
with organization 2's page replaced by the platform's own answer for an
organization it does not have (HTTP 200, NEXT_NOT_FOUND: an organization deleted
in the admin): once a not-found answer counted as read only on an action's own
page, every check of the source failed (`source_failing`, exit 1, no deadlines
judged, no removals) until the page left the config, and for a `site = "..."`
source under `planwatch run` until discovery ran again, up to `discover_hours`
later. The organization is gone from the plan: that is what the page says, as
an action's page does. A 404 status on an organization page (the platform never
sends one: a proxy, a moved plan) still fails the check.
"""

from __future__ import annotations

import gzip
from datetime import datetime

from monitor.pipeline import CheckOutcome, CheckReport, observe_saved, record_check
from storage.db import Database
from tests import change_series as series

ORGS = [f"{series.HOST}/organizations/1", f"{series.HOST}/organizations/2"]


def _deleted_organization() -> bytes:
    saved = series.SERIES / "extra" / "html" / "organization-nonexistent.fi.html.gz"
    return gzip.decompress(saved.read_bytes())


def _check(db: Database, at: datetime, gone: str | None) -> CheckReport:
    pages = []
    for url in ORGS:
        if url != ORGS[1] or gone is None:
            pages.append(observe_saved(url, series.page_body("r01", url), at))
        elif gone == "platform":
            pages.append(observe_saved(url, _deleted_organization(), at))
        else:
            pages.append(observe_saved(url, b"<h1>Not Found</h1>", at, 404))
    return record_check(db, "demo", pages, observed_at=at)


def test_an_organization_the_platform_no_longer_has_is_no_failure(
    db: Database,
) -> None:
    t0 = series.check_time("r01")
    day = series.check_time("r02") - t0
    _check(db, t0, None)
    gone = _check(db, t0 + day / 2, "platform")

    assert gone.outcome is not CheckOutcome.FAILED
    assert gone.failed_pages == 0
    assert "source_failing" not in {e.kind.value for e in gone.events}


def test_a_404_status_on_an_organization_page_still_fails(db: Database) -> None:
    t0 = series.check_time("r01")
    day = series.check_time("r02") - t0
    _check(db, t0, None)
    gone = _check(db, t0 + day / 2, "404")

    assert gone.outcome is CheckOutcome.FAILED
    assert "source_failing" in {e.kind.value for e in gone.events}
