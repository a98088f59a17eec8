"""A small plan in the database, and events on it, for the notification tests.

The plan: the city (1) with two divisions (2 environment, 3 urban), a unit under
urban (4 transport) and one under transport (5 cycling office). Actions:

- 10 "Bike lanes", responsible: 5 (cycling office), so under 4, 3 and 1;
- 11 "Heat pumps", responsible: 2 (environment);
- 12 "Trams", responsible: 4 (transport, primary) and 2.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from notifiers.outbox import queue_check
from notifiers.subscriptions import Routing
from storage import repo
from storage.db import Database, open_database
from storage.events import Event, EventKind
from storage.models import (
    ActionRecord,
    ActionVersion,
    Check,
    OrganizationRecord,
    OrganizationVersion,
    Source,
)
from storage.state import ActionState, OrganizationState

SITE = "https://watch.example.org"
ORGS = {
    "1": ("City", None),
    "2": ("Environment Division", "1"),
    "3": ("Urban Division", "1"),
    "4": ("Transport Unit", "3"),
    "5": ("Cycling Office", "4"),
}
ACTIONS = {
    "10": ("1.1", "Bike lanes", (("5", "PRIMARY"),)),
    "11": ("2.1", "Heat pumps", (("2", "PRIMARY"),)),
    "12": ("1.2", "Trams", (("4", "PRIMARY"), ("2", "COLLABORATOR"))),
}
PAGES = (f"{SITE}/en/actions", f"{SITE}/en/organizations/1")
T0 = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Plan:
    source_id: int
    source: str


def seed(db: Database, source: str = "city", now: datetime = T0) -> Plan:
    """The organizations and actions above, as a baseline check would store them."""
    with db.sessions.begin() as session:
        row = repo.source(session, source, now)
        check = _check(session, row, now)
        for org_id, (name, parent) in ORGS.items():
            record = OrganizationRecord(
                source_id=row.id,
                platform_id=org_id,
                first_seen_at=now,
                last_seen_at=now,
            )
            session.add(record)
            session.flush()
            state = OrganizationState(id=org_id, names={"en": name}, parent_id=parent)
            session.add(
                OrganizationVersion(
                    organization_id=record.id,
                    check_id=check.id,
                    valid_from=now,
                    state=state.to_json(),
                )
            )
        for action_id, (identifier, name, parties) in ACTIONS.items():
            action = ActionRecord(
                source_id=row.id,
                platform_id=action_id,
                identifier=identifier,
                first_seen_at=now,
                last_seen_at=now,
                missing_checks=0,
            )
            session.add(action)
            session.flush()
            state = ActionState(
                id=action_id,
                identifier=identifier,
                url=f"{SITE}/en/actions/{identifier}",
                names={"en": name, "fi": f"{name} (fi)"},
                responsible=parties,
            )
            session.add(
                ActionVersion(
                    action_id=action.id,
                    check_id=check.id,
                    valid_from=now,
                    state=state.to_json(),
                )
            )
        return Plan(row.id, source)


def status_change(
    action_id: str,
    before: str = "on_time",
    after: str = "late",
    *,
    source: str = "city",
    now: datetime = T0,
    name: str | None = None,
    url: str | None = None,
) -> Event:
    identifier, default_name, _ = ACTIONS[action_id]
    return Event(
        kind=EventKind.STATUS_CHANGED,
        source=source,
        observed_at=now,
        action_id=action_id,
        action_identifier=identifier,
        name=name or default_name,
        field="status",
        before=before,
        after=after,
        url=url or f"{SITE}/en/actions/{identifier}",
        detail={
            "labels": {
                "en": [before.replace("_", " ").title(), after.title()],
                "fi": ["Aikataulussa", "Myöhässä"],
            }
        },
    )


def site_event(kind: EventKind, *, source: str = "city", now: datetime = T0) -> Event:
    return Event(
        kind=kind, source=source, observed_at=now, detail={"reason": "timeout"}
    )


def record(
    db: Database,
    routing: Routing,
    events: Sequence[Event],
    *,
    source: str = "city",
    now: datetime = T0,
) -> int:
    """A check that found ``events``, queued as the pipeline does; returns rows."""
    with db.sessions.begin() as session:
        row = repo.source(session, source, now)
        check = _check(session, row, now)
        rows = repo.add_events(session, row, check, events)
        return queue_check(
            session, row, check, events, [r.id for r in rows], routing, PAGES
        )


def _check(session: Session, source: Source, now: datetime) -> Check:
    check = Check(
        source_id=source.id,
        observed_at=now,
        started_at=now,
        finished_at=now,
        outcome="changed",
        pages=len(PAGES),
        events=0,
    )
    session.add(check)
    session.flush()
    return check


def sqlite_only() -> Any:
    """A fixture ``lite_db``: SQLite only, for tests whose storage side the ``db``
    tests already cover on both databases (they exercise delivery, the clock or
    the CLI). Use as ``lite_db = sqlite_only()`` in a test module."""

    @pytest.fixture
    def lite_db(tmp_path: Path) -> Iterator[Database]:
        database = open_database(str(tmp_path / "notify.sqlite"))
        yield database
        database.close()

    return lite_db
