"""Reading and writing history. Callers own the session and its transaction."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.events import Event, EventKind
from storage.models import (
    ActionRecord,
    ActionVersion,
    Blob,
    Check,
    EventRow,
    OrganizationRecord,
    OrganizationVersion,
    Source,
)
from storage.state import ActionState, OrganizationState

# Built once, run with each name (see monitor.settled on why).
_SOURCE_NAMED = select(Source).where(Source.name == bindparam("name"))


def source(session: Session, name: str, now: datetime, kind: str = "pages") -> Source:
    row = session.scalar(_SOURCE_NAMED, {"name": name})
    if row is None:
        row = Source(name=name, kind=kind, created_at=now, consecutive_failures=0)
        session.add(row)
        session.flush()
    return row


def store_blob(session: Session, body: bytes, now: datetime) -> str:
    """Store page bytes once per distinct content; return their SHA-256."""
    digest = hashlib.sha256(body).hexdigest()
    if session.get(Blob, digest) is None:
        session.add(
            Blob(
                sha256=digest,
                size=len(body),
                data=zlib.compress(body, 6),
                created_at=now,
            )
        )
    return digest


def load_blob(session: Session, digest: str) -> bytes | None:
    blob = session.get(Blob, digest)
    return None if blob is None else zlib.decompress(blob.data)


def current_actions(
    session: Session, source_id: int
) -> dict[str, tuple[ActionRecord, ActionState | None]]:
    records = session.scalars(
        select(ActionRecord).where(ActionRecord.source_id == source_id)
    ).all()
    versions = _open_versions(
        session, ActionVersion, ActionVersion.action_id, [r.id for r in records]
    )
    return {
        r.platform_id: (
            r,
            ActionState.from_json(versions[r.id].state) if r.id in versions else None,
        )
        for r in records
    }


def current_organizations(
    session: Session, source_id: int
) -> dict[str, tuple[OrganizationRecord, OrganizationState | None]]:
    records = session.scalars(
        select(OrganizationRecord).where(OrganizationRecord.source_id == source_id)
    ).all()
    versions = _open_versions(
        session,
        OrganizationVersion,
        OrganizationVersion.organization_id,
        [r.id for r in records],
    )
    return {
        r.platform_id: (
            r,
            OrganizationState.from_json(versions[r.id].state)
            if r.id in versions
            else None,
        )
        for r in records
    }


def _open_versions(
    session: Session, model: Any, key: Any, ids: Sequence[int]
) -> dict[int, Any]:
    if not ids:
        return {}
    rows = session.scalars(
        select(model).where(key.in_(ids), model.valid_to.is_(None))
    ).all()
    return {getattr(row, key.key): row for row in rows}


def save_action(
    session: Session,
    record: ActionRecord,
    state: ActionState,
    check: Check,
    changed: list[str] | None,
) -> None:
    """Close the open version and open a new one holding ``state``."""
    _close_open(session, ActionVersion, ActionVersion.action_id, record.id, check)
    session.add(
        ActionVersion(
            action_id=record.id,
            check_id=check.id,
            valid_from=check.observed_at,
            valid_to=None,
            state=state.to_json(),
            changed_fields={"fields": changed} if changed is not None else None,
        )
    )


def save_organization(
    session: Session,
    record: OrganizationRecord,
    state: OrganizationState,
    check: Check,
    changed: list[str] | None,
) -> None:
    _close_open(
        session,
        OrganizationVersion,
        OrganizationVersion.organization_id,
        record.id,
        check,
    )
    session.add(
        OrganizationVersion(
            organization_id=record.id,
            check_id=check.id,
            valid_from=check.observed_at,
            valid_to=None,
            state=state.to_json(),
            changed_fields={"fields": changed} if changed is not None else None,
        )
    )


def close_action(session: Session, record: ActionRecord, check: Check) -> None:
    _close_open(session, ActionVersion, ActionVersion.action_id, record.id, check)


def _close_open(
    session: Session, model: Any, key: Any, record_id: int, check: Check
) -> None:
    for row in session.scalars(
        select(model).where(key == record_id, model.valid_to.is_(None))
    ):
        row.valid_to = check.observed_at


def add_events(
    session: Session, source_row: Source, check: Check, events: Iterable[Event]
) -> list[EventRow]:
    rows = [
        EventRow(
            source_id=source_row.id,
            check_id=check.id,
            kind=event.kind.value,
            observed_at=event.observed_at,
            action_platform_id=event.action_id,
            action_identifier=event.action_identifier,
            organization_platform_id=event.organization_id,
            name=event.name,
            field=event.field,
            before=None if event.before is None else {"value": event.before},
            after=None if event.after is None else {"value": event.after},
            url=event.url,
            detail=event.detail or None,
        )
        for event in events
    ]
    session.add_all(rows)
    session.flush()
    return rows


def event_from_row(row: Any, source_name: str) -> Event:
    """An Event from an ``events`` row (or a query row with the same columns)."""
    return Event(
        kind=EventKind(row.kind),
        source=source_name,
        observed_at=row.observed_at,
        action_id=row.action_platform_id,
        action_identifier=row.action_identifier,
        name=row.name,
        organization_id=row.organization_platform_id,
        field=row.field,
        before=(row.before or {}).get("value"),
        after=(row.after or {}).get("value"),
        url=row.url,
        detail=row.detail or {},
    )
