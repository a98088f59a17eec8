"""A not-found answer says an action is gone only on that action's own page.

Found by serving the series-2024 pages on 127.0.0.1 and checking a source of two
pages, the action list and organization 2, with the action list then answering
404 (a mistyped path, a plan moved, a proxy in front of a site being redeployed):
the check said "unchanged", 0 failed, exit 0, and the second such check reported
``action_removed`` for the nine actions only the action list showed. Once the
list answered again they came back as nine ``action_added``. The same happened
when the list answered 404 from the very first check: the baseline passed as
normal, and the list's actions were ``action_added`` (with task alerts) on the
next one. Kausal Watch's own not-found body (HTTP 200) on a list or organization
page, as for a language the plan does not have, did the same.

README: "An action is `removed` only when its own page answers not found, or when
it is missing from pages that otherwise parsed normally on two checks in a row";
"a failed fetch, an error page ... never removes anything". An action list or an
organization page answering not found is now a page that could not be read.
"""

from __future__ import annotations

import gzip
from datetime import datetime

import pytest

from monitor.pipeline import CheckOutcome, CheckReport, observe_saved, record_check
from storage.db import Database
from tests import change_series as series

LIST = f"{series.HOST}/actions"
ORG = f"{series.HOST}/organizations/2"
GENERIC_404 = b"<html><body><h1>404 Not Found</h1><hr>nginx</body></html>"


def _kausal_not_found() -> bytes:
    # What the platform answers (200) for a page it has not: here a locale.
    saved = series.SERIES / "extra" / "html" / "unknown-locale.fr.html.gz"
    return gzip.decompress(saved.read_bytes())


def _check(db: Database, name: str, at: datetime, list_answer: str) -> CheckReport:
    org = observe_saved(ORG, series.page_body(name, ORG), at)
    if list_answer == "ok":
        listing = observe_saved(LIST, series.page_body(name, LIST), at)
    elif list_answer == "404":
        listing = observe_saved(LIST, GENERIC_404, at, status_code=404)
    else:
        listing = observe_saved(LIST, _kausal_not_found(), at)
    return record_check(db, "demo", [listing, org], observed_at=at)


def _kinds(report: CheckReport) -> set[str]:
    return {e.kind.value for e in report.events}


@pytest.mark.parametrize("answer", ["404", "kausal"])
def test_an_action_list_answering_not_found_removes_nothing(
    db: Database, answer: str
) -> None:
    t0 = series.check_time("r00")
    day = series.check_time("r01") - t0
    base = _check(db, "r00", t0, "ok")
    gone = [_check(db, "r01", t0 + day * n / 4, answer) for n in (1, 2, 3)]
    back = _check(db, "r01", t0 + day, "ok")

    assert base.outcome is CheckOutcome.BASELINE
    assert [r.outcome for r in gone] == [CheckOutcome.FAILED] * 3
    assert _kinds(gone[0]) == {"source_failing"}
    assert all("action_removed" not in _kinds(r) for r in gone)
    assert _kinds(back) == {"source_recovered"}


@pytest.mark.parametrize("answer", ["404", "kausal"])
def test_a_first_check_without_the_action_list_adds_nothing_later(
    db: Database, answer: str
) -> None:
    t0 = series.check_time("r00")
    first = _check(db, "r00", t0, answer)
    full = _check(db, "r01", series.check_time("r01"), "ok")

    assert first.outcome is CheckOutcome.FAILED
    assert "action_added" not in _kinds(full)
    assert _kinds(full) == {"source_recovered"}
