"""An action past its staleness line is said to be so with its age, in messages.

Found by letting two checks of a hand-made page (information updated on 1
September 2026) run 170 and 181 days later and rendering the ``became_stale`` event
the second one recorded, as a notification does: every language read "has become
stale" ("on vanhentunut", ...) without the age, the last update or the line, where
README promises "not updated for 200 days (last update 2025-09-10), past the
180-day staleness line". The check keeps the age in the event's ``after`` (and the
previous one in ``before``, field ``age_days``), while the message looked for
``age_days`` in the detail only, where the rendering tests put it by hand. The same
bare sentence was what ``changes``, ``history`` and the web view showed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.pipeline import record_check
from notifiers.render import describe, render_check
from storage.db import Database
from storage.events import EventKind
from tests.change_pages import Item, org_page

DAY = timedelta(days=1)
UPDATED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def test_a_checks_became_stale_says_how_old_against_which_line(db: Database) -> None:
    items = [Item("1", updated=UPDATED)]
    reports = [
        record_check(db, "plan", [org_page("1", items, at)], observed_at=at)
        for at in (UPDATED + 170 * DAY, UPDATED + 181 * DAY)
    ]
    stale = [e for e in reports[1].events if e.kind is EventKind.BECAME_STALE]
    assert len(stale) == 1
    event = stale[0]
    assert describe(event) == (
        "not updated for 181 days (last update 2026-09-01), past the 180-day "
        "staleness line"
    )
    assert describe(event, "fi") == (
        "ei päivitetty 181 päivään (viimeksi 2026-09-01), yli 180 päivän "
        "vanhentumisrajan"
    )
    assert "seit 181 Tagen nicht aktualisiert" in describe(event, "de")
    assert "inte uppdaterad på 181 dagar" in describe(event, "sv")
    body = render_check("plan", [event]).body
    assert "not updated for 181 days" in body
