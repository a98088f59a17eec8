"""A unit's subscription hears that one of its actions went to another unit.

Found as a unit lead: with a subscription to unit 20 and one to unit 30, a check
that saw action 7's responsible party change from unit 20 to unit 30 sent the
change ("responsible parties: Transport Unit → Energy Unit") to unit 30's lead
only. The organizations an event concerns were read from the action's latest
version alone, so the unit the action left, the one whose lead most needs to know,
was never told, while `planwatch changes --organization 20` lists the change (an
organization's list has "every action O was responsible for just before or just
after the change").
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import select

from monitor.pipeline import PageObservation, record_check
from notifiers.subscriptions import Filters, Routing, Subscription
from notifiers.targets import Target
from parsers.records import ResponsibleParty
from storage.db import Database
from storage.events import EventKind
from storage.models import Notification
from tests.change_pages import Item, org_page

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
UNITS = {"20": "Transport Unit", "30": "Energy Unit"}


def _page(at: datetime, unit: str) -> PageObservation:
    observation = org_page("1", [Item("7")], at)
    assert observation.page is not None
    party = ResponsibleParty(unit, UNITS[unit], "PRIMARY")
    actions = tuple(
        msgspec.structs.replace(a, responsible_parties=(party,))
        for a in observation.page.actions
    )
    page = msgspec.structs.replace(observation.page, actions=actions)
    return replace(observation, page=page)


def test_the_unit_an_action_leaves_is_told(db: Database) -> None:
    targets = {
        f"lead-{u}": Target(f"lead-{u}", f"json://127.0.0.1:9/{u}") for u in UNITS
    }
    subscriptions = [
        Subscription(
            f"unit-{u}", (f"lead-{u}",), filters=Filters(organizations=frozenset({u}))
        )
        for u in UNITS
    ]
    routing = Routing(targets, subscriptions)
    record_check(db, "plan", [_page(T0, "20")], targets=routing, observed_at=T0)
    later = T0 + timedelta(hours=1)
    report = record_check(
        db, "plan", [_page(later, "30")], targets=routing, observed_at=later
    )
    kinds = [e.kind for e in report.events]
    assert kinds == [EventKind.RESPONSIBLE_PARTIES_CHANGED]

    with db.sessions() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert sorted(r.target for r in rows) == ["lead-20", "lead-30"]
    for row in rows:
        assert "Transport Unit → Energy Unit" in row.body
