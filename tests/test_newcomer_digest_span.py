"""A digest's "Changes from ... to ..." spans every change it lists.

Found trying planwatch as a newcomer: the worker was down from Thursday to Sunday;
back on Sunday it sent one digest covering the gap, as the README says, listing
Thursday's and Friday's changes under the words "Changes from 2026-03-28 08:00 to
2026-03-29 08:00", the one day before Sunday's moment. A reader took the two
changes for Saturday's. The span now starts at the first change listed when that
is earlier than the moment before; an on-time digest reads as it did.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from notifiers.outbox import flush_digests
from notifiers.subscriptions import Routing, Schedule, Subscription
from notifiers.targets import Target
from storage.db import Database
from tests.notify_helpers import record, seed, sqlite_only, status_change

lite_db = sqlite_only()
HELSINKI = "Europe/Helsinki"
DIGEST = Subscription(
    "lead",
    ("lead",),
    schedule=Schedule(time(8, 0), HELSINKI),
    timezone=HELSINKI,
)
ROUTING = Routing({"lead": Target("lead", "json://127.0.0.1:9/lead")}, [DIGEST])


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _digest_body(db: Database, now: datetime) -> str:
    queued = flush_digests(db.sessions, ROUTING, now, dry_run=True)
    assert len(queued) == 1
    return queued[0].message.body


def test_a_digest_after_a_gap_spans_its_oldest_change(lite_db: Database) -> None:
    seed(lite_db)
    record(lite_db, ROUTING, [status_change("10")], now=_utc(2026, 3, 26, 10, 0))
    record(lite_db, ROUTING, [status_change("11")], now=_utc(2026, 3, 27, 10, 0))

    body = _digest_body(lite_db, _utc(2026, 3, 29, 7, 0))  # 10:00 local, back up

    assert (
        "Changes from 2026-03-26 12:00 EET to 2026-03-29 08:00 EEST (Europe/Helsinki)"
        in body
    )
    assert "Bike lanes" in body
    assert "Heat pumps" in body


def test_an_on_time_digest_spans_the_day_before(lite_db: Database) -> None:
    seed(lite_db)
    record(lite_db, ROUTING, [status_change("10")], now=_utc(2026, 3, 28, 10, 0))

    body = _digest_body(lite_db, _utc(2026, 3, 29, 5, 0))  # its moment, 08:00 local

    assert (
        "Changes from 2026-03-28 08:00 EET to 2026-03-29 08:00 EEST (Europe/Helsinki)"
        in body
    )
