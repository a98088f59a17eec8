"""Site events name the pages they are about without their credentials.

Found checking a source whose pages sit behind basic auth
(`http://watch:PASSWORD@host/...`): a page whose layout planwatch did not know
made a `layout_anomaly` whose reason and page list quoted its URL, password and
all, and `source_failing` listed the failed pages the same way; both are stored,
printed by `check` and `changes`, and rendered into the notifications. The
fetcher's own error texts were already masked; the events now are too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from monitor.pipeline import CheckReport, PageObservation, record_check
from parsers.records import Outcome, PageKind, ParsedPage
from storage.db import Database
from tests.change_pages import SITE, Item, failed, org_page, unrecognised

SECRET = "s3cret-pw"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AUTH = SITE.replace("https://", f"https://watch:{SECRET}@")


def _not_found(url: str, seen: datetime) -> PageObservation:
    page = ParsedPage(PageKind.NOT_FOUND, Outcome.NOT_FOUND, url, "en", seen, None, ())
    return PageObservation(url, seen, "ok", 200, None, page=page)


def _check(db: Database, pages: list[PageObservation], at: datetime) -> CheckReport:
    return record_check(db, "auth", pages, observed_at=at)


def test_site_events_quote_no_password(db: Database) -> None:
    items = [Item("1"), Item("2")]
    _check(db, [org_page("1", items, T0)], T0)
    report = _check(
        db,
        [
            org_page("1", items, T0),
            failed(f"{AUTH}/en/organizations/2", T0),
            _not_found(f"{AUTH}/en/actions", T0),
            unrecognised(f"{AUTH}/en/organizations/3", T0),
        ],
        T0 + timedelta(hours=1),
    )

    kinds = sorted(e.kind.value for e in report.events)
    assert kinds == ["layout_anomaly", "source_failing"]
    shown = json.dumps([e.detail for e in report.events])
    assert "/en/organizations/2" in shown
    assert "/en/organizations/3" in shown
    assert "/en/actions" in shown
    assert SECRET not in shown
