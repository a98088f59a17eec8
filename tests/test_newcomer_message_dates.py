"""Dates in a message are read in the subscription's time zone, as its times are.

Found by rendering, for a subscription with timezone = "Europe/Helsinki", an
action whose information was updated at 00:30 Helsinki time on 2 September 2026
(21:30 UTC the day before): the message's time said "2026-09-02 ... EEST" but its
"information updated: ... → 2026-09-01" and its staleness alert's "(last update
2026-09-01)" gave the UTC date, a day before the one the plan's own page shows
and the one the reader would look for. README: a subscription's timezone is "also
used for times in messages".
"""

from __future__ import annotations

from datetime import UTC, datetime

from notifiers.context import Item
from notifiers.render import render_check, render_digest
from notifiers.subscriptions import Facts
from storage.events import Event, EventKind

UPDATED = "2026-09-01T21:30:00+00:00"  # 2 September, 00:30 in Helsinki
NOW = datetime(2027, 3, 2, 6, 0, tzinfo=UTC)
HELSINKI = "Europe/Helsinki"


def _events() -> list[Event]:
    updated = Event(
        EventKind.UPDATED,
        "espoo",
        NOW,
        action_id="3",
        action_identifier="3",
        name="Trams",
        field="updated_at",
        before="2026-03-01T10:00:00+00:00",
        after=UPDATED,
    )
    stale = Event(
        EventKind.BECAME_STALE,
        "espoo",
        NOW,
        action_id="4",
        action_identifier="4",
        name="Buses",
        field="age_days",
        before=180,
        after=181,
        detail={"limit_days": 180, "updated_at": UPDATED, "exact": True},
    )
    return [updated, stale]


def test_dates_are_in_the_subscriptions_zone() -> None:
    body = render_check("espoo", _events(), timezone=HELSINKI).body
    assert "information updated: 2026-03-01 → 2026-09-02" in body
    assert "(last update 2026-09-02)" in body
    items = [
        Item(event=e, facts=Facts(kind=e.kind, source=e.source)) for e in _events()
    ]
    digest = render_digest(
        "unit", items, since=None, until=NOW, timezone=HELSINKI, language="fi"
    ).body
    assert "tiedot päivitetty: 2026-03-01 → 2026-09-02" in digest
    assert "(viimeksi 2026-09-02)" in digest


def test_utc_stays_utc() -> None:
    body = render_check("espoo", _events()).body
    assert "information updated: 2026-03-01 → 2026-09-01" in body
    assert "(last update 2026-09-01)" in body
