"""An A/B flip holds the "information updated" time with the values it came with.

Found checking the series-2024 site on 127.0.0.1 while the server flipped between
rounds r01 and r02 (as two caches behind a load balancer do): r01, r02, then r01
again within flip_hours. On the flip back, the reverted status, tasks and names
were held as README promises, but action 7's "information updated", folded into
its tasks change rather than a change of its own, was not: the held check stored
r02's tasks with r01's update time (2025-01-02) and reported `became_stale` for
it ("age 0 -> 701 days"), an alert from a page flipping between two caches.
The update time is now held with the rest, and the flip alerts nothing until a
second check confirms it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from monitor.pipeline import CheckReport, observe_saved, record_check
from storage import repo
from storage.db import Database
from storage.models import Source
from tests import change_series as series

URLS = [f"{series.HOST}/en/actions", f"{series.HOST}/en/organizations/2"]


def _check(db: Database, name: str, at: datetime) -> CheckReport:
    pages = [observe_saved(url, series.page_body(name, url), at) for url in URLS]
    return record_check(db, "flip", pages, observed_at=at)


def _kinds(report: CheckReport) -> list[str]:
    return sorted(e.kind.value for e in report.events)


def _stored_update_time(db: Database, action_id: str) -> str | None:
    with db.reader() as session:
        source = session.scalars(select(Source).where(Source.name == "flip")).one()
        _, state = repo.current_actions(session, source.id)[action_id]
    return None if state is None else state.updated_exact


def test_a_flip_back_alerts_nothing_until_confirmed(db: Database) -> None:
    t0 = series.check_time("r02")
    hour = timedelta(hours=1)
    _check(db, "r01", t0)
    changed = _check(db, "r02", t0 + hour)
    after_r02 = _stored_update_time(db, "7")
    flip = _check(db, "r01", t0 + 2 * hour)
    held = _stored_update_time(db, "7")
    again = _check(db, "r02", t0 + 3 * hour)

    assert "tasks_changed" in _kinds(changed)
    assert _kinds(flip) == []
    assert _kinds(again) == []
    assert held == after_r02


def test_a_confirmed_flip_back_is_still_reported(db: Database) -> None:
    t0 = series.check_time("r02")
    hour = timedelta(hours=1)
    _check(db, "r01", t0)
    changed = _check(db, "r02", t0 + hour)
    _check(db, "r01", t0 + 2 * hour)
    confirmed = _check(db, "r01", t0 + 3 * hour)

    [tasks] = [e for e in changed.events if e.action_id == "7"]
    assert tasks.kind.value == "tasks_changed"
    reverted = {e.kind.value for e in confirmed.events if e.action_id == "7"}
    assert "tasks_changed" in reverted
