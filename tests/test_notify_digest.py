"""Digests at a local time of day, on the 2026 Europe/Helsinki DST changes.

Helsinki moves from UTC+2 to UTC+3 at 03:00 local on 29 March 2026 (the hour
03:00-04:00 does not exist) and back at 04:00 local on 25 October 2026 (the hour
03:00-04:00 happens twice). The clock is moved with time-machine; the worker reads
it as it would in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from notifiers.deliver import Outgoing, deliver_pending
from notifiers.subscriptions import Filters, Routing, Schedule, Subscription
from notifiers.targets import Target
from storage.db import Database
from storage.events import Event
from tests.notify_helpers import record, seed, sqlite_only, status_change

HELSINKI = "Europe/Helsinki"
lite_db = sqlite_only()
MORNING_ENDS = 8  # UTC hour: every digest here is due before it


@dataclass(frozen=True, slots=True)
class Sent:
    at: datetime
    target: str
    title: str
    body: str


def _routing(*subs: Subscription) -> Routing:
    names = {t for s in subs for t in s.targets}
    return Routing({n: Target(n, f"json://127.0.0.1:9/{n}") for n in names}, subs)


def _digest(
    name: str,
    at: time,
    *,
    weekday: int | None = None,
    send_empty: bool = False,
    language: str = "en",
    filters: Filters | None = None,
) -> Subscription:
    return Subscription(
        name,
        (name,),
        language=language,
        filters=filters or Filters(),
        schedule=Schedule(at, HELSINKI, weekday=weekday),
        send_empty=send_empty,
        timezone=HELSINKI,
    )


def _ticks(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    """Moments from start to end, only in the night and early morning (UTC), when
    every digest here is due: fewer worker passes, the same moments."""
    moment = start
    while moment < end:
        if moment.hour < MORNING_ENDS:
            yield moment
        moment += step


def _run(
    db: Database,
    routing: Routing,
    start: datetime,
    end: datetime,
    step: timedelta,
    events: dict[datetime, list[Event]] | None = None,
) -> list[Sent]:
    """Run the worker on every tick of a moved clock; record events on the way."""
    sent: list[Sent] = []

    def send(target: Target, message: Outgoing) -> None:
        now = datetime.now(UTC)
        sent.append(Sent(now, target.name, message.title, message.body))

    moments = sorted({*_ticks(start, end, step), *(events or {})})
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            for event in (events or {}).get(moment, []):
                record(db, routing, [event], now=moment)
            deliver_pending(db.sessions, routing, send=send)
    return sent


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_digests_follow_local_time_across_the_spring_change(
    db: Database,
) -> None:
    seed(db)
    routing = _routing(
        _digest("morning", time(8, 0), send_empty=True),
        _digest("night", time(3, 30), send_empty=True),
    )

    sent = _run(
        db,
        routing,
        _utc(2026, 3, 27, 0, 0),
        _utc(2026, 3, 31, 0, 0),
        timedelta(minutes=30),
    )

    morning = [s.at for s in sent if s.target == "morning"]
    night = [s.at for s in sent if s.target == "night"]
    assert morning == [
        _utc(2026, 3, 27, 6, 0),  # 08:00 EET
        _utc(2026, 3, 28, 6, 0),
        _utc(2026, 3, 29, 5, 0),  # 08:00 EEST: the day is 23 hours long
        _utc(2026, 3, 30, 5, 0),
    ]
    assert night == [
        _utc(2026, 3, 27, 1, 30),  # 03:30 EET
        _utc(2026, 3, 28, 1, 30),
        _utc(2026, 3, 29, 1, 30),  # 03:30 does not exist: runs at 04:30 EEST, once
        _utc(2026, 3, 30, 0, 30),  # 03:30 EEST
    ]


def test_daily_digests_follow_local_time_across_the_autumn_change(
    lite_db: Database,
) -> None:
    seed(lite_db)
    routing = _routing(
        _digest("morning", time(8, 0), send_empty=True),
        _digest("night", time(3, 30), send_empty=True),
    )

    sent = _run(
        lite_db,
        routing,
        _utc(2026, 10, 23, 22, 0),
        _utc(2026, 10, 27, 0, 0),
        timedelta(minutes=30),
    )

    assert [s.at for s in sent if s.target == "morning"] == [
        _utc(2026, 10, 24, 5, 0),  # 08:00 EEST
        _utc(2026, 10, 25, 6, 0),  # 08:00 EET: the day is 25 hours long
        _utc(2026, 10, 26, 6, 0),
    ]
    assert [s.at for s in sent if s.target == "night"] == [
        _utc(2026, 10, 24, 0, 30),  # 03:30 EEST
        _utc(2026, 10, 25, 0, 30),  # 03:30 happens twice: only the first counts
        _utc(2026, 10, 26, 1, 30),  # 03:30 EET
    ]


def test_a_weekly_digest_keeps_its_weekday_and_hour(lite_db: Database) -> None:
    seed(lite_db)
    routing = _routing(_digest("weekly", time(9, 0), weekday=0, send_empty=True))

    sent = _run(
        lite_db,
        routing,
        _utc(2026, 3, 22, 0, 0),
        _utc(2026, 4, 7, 0, 0),
        timedelta(hours=1),
    )

    assert [s.at for s in sent] == [
        _utc(2026, 3, 23, 7, 0),  # Monday 09:00 EET
        _utc(2026, 3, 30, 6, 0),  # Monday 09:00 EEST
        _utc(2026, 4, 6, 6, 0),
    ]


def test_a_digest_lists_what_came_in_since_the_last_one_grouped_by_unit(
    lite_db: Database,
) -> None:
    seed(lite_db)
    lead = _digest(
        "lead",
        time(8, 0),
        filters=Filters(organizations=frozenset({"3"})),
        language="fi",
    )
    routing = _routing(lead)
    events = {
        _utc(2026, 3, 27, 9, 0): [status_change("10")],  # after Friday's digest
        _utc(2026, 3, 28, 12, 0): [status_change("11")],  # not the lead's unit
        _utc(2026, 3, 28, 13, 0): [status_change("12")],
    }

    sent = _run(
        lite_db,
        routing,
        _utc(2026, 3, 27, 0, 0),
        _utc(2026, 3, 30, 0, 0),
        timedelta(hours=1),
        events,
    )

    # Nothing on Friday or Saturday morning: empty digests only when asked for.
    assert [(s.at, s.title) for s in sent] == [
        (_utc(2026, 3, 28, 6, 0), "planwatch: kooste lead, 1 muutos"),
        (_utc(2026, 3, 29, 5, 0), "planwatch: kooste lead, 1 muutos"),
    ]
    assert "Cycling Office" in sent[0].body
    assert "1.1. Bike lanes (fi) — tila: Aikataulussa → Myöhässä" in sent[0].body
    assert "Transport Unit" in sent[1].body
    assert "1.2. Trams (fi)" in sent[1].body
    assert "Heat pumps" not in sent[0].body + sent[1].body


def test_a_worker_that_was_down_sends_one_digest_covering_it_all(
    lite_db: Database,
) -> None:
    seed(lite_db)
    routing = _routing(_digest("lead", time(8, 0)))
    events = {
        _utc(2026, 3, 26, 10, 0): [status_change("10")],
        _utc(2026, 3, 27, 10, 0): [status_change("11")],
    }
    for moment, batch in events.items():
        record(lite_db, routing, batch, now=moment)

    # Down from the 26th; back on the 29th at 10:00 local, then every hour.
    sent = _run(
        lite_db,
        routing,
        _utc(2026, 3, 29, 7, 0),
        _utc(2026, 3, 30, 0, 0),
        timedelta(hours=1),
    )

    assert [(s.at, s.title) for s in sent] == [
        (_utc(2026, 3, 29, 7, 0), "planwatch: lead digest, 2 changes"),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_utc(2026, 3, 29, 1, 29), _utc(2026, 3, 28, 1, 30)),
        (_utc(2026, 3, 29, 1, 30), _utc(2026, 3, 29, 1, 30)),
        (_utc(2026, 10, 25, 1, 45), _utc(2026, 10, 25, 0, 30)),
        (_utc(2026, 10, 25, 2, 0), _utc(2026, 10, 25, 0, 30)),
    ],
)
def test_the_last_scheduled_moment_is_unique_around_dst(
    now: datetime, expected: datetime
) -> None:
    schedule = Schedule(time(3, 30), HELSINKI)
    assert schedule.last_due(now) == expected
    assert schedule.next_due(expected - timedelta(seconds=1)) == expected
