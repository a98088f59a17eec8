"""What change detection remembers between checks, beyond the records' versions.

- the reminder ledger (``deadline_ledger``): conditions that hold and how far along
  their alert cadence they are;
- each record's recent field digests (``record_memory``), so a flip between two
  states alerts once;
- the staleness lines and time zone a source goes by (``plan_settings``).

Callers own the session and its transaction: all of it is written with the check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Check, DeadlineEntry, PlanSettings, RecordMemory

# Outcomes of checks whose pages all answered normally: the first is the baseline.
NORMAL_OUTCOMES = ("baseline", "unchanged", "changed")

RecordKey = tuple[str, str]  # (record kind, platform id)


def had_normal_check(session: Session, source_id: int) -> bool:
    found = session.scalar(
        select(Check.id)
        .where(Check.source_id == source_id, Check.outcome.in_(NORMAL_OUTCOMES))
        .limit(1)
    )
    return found is not None


# -- the ledger ------------------------------------------------------------------------


def ledger(session: Session, source_id: int) -> dict[str, DeadlineEntry]:
    rows = session.scalars(
        select(DeadlineEntry).where(DeadlineEntry.source_id == source_id)
    )
    return {row.subject: row for row in rows}


def open_entry(
    session: Session,
    source_id: int,
    *,
    kind: str,
    subject: str,
    action_id: str,
    started_at: datetime,
    alert_index: int,
    now: datetime,
    alerted: bool,
) -> DeadlineEntry:
    row = DeadlineEntry(
        source_id=source_id,
        kind=kind,
        subject=subject,
        action_platform_id=action_id,
        started_at=started_at,
        noted_at=now,
        alert_index=alert_index,
        alerts=1 if alerted else 0,
        last_alert_at=now if alerted else None,
    )
    session.add(row)
    return row


def advance_entry(row: DeadlineEntry, alert_index: int, now: datetime) -> None:
    row.alert_index = alert_index
    row.alerts += 1
    row.last_alert_at = now


def drop_entry(session: Session, row: DeadlineEntry) -> None:
    session.delete(row)


# -- record memory ---------------------------------------------------------------------


def record_memory(session: Session, source_id: int) -> dict[RecordKey, RecordMemory]:
    rows = session.scalars(
        select(RecordMemory).where(RecordMemory.source_id == source_id)
    )
    return {(row.record_kind, row.platform_id): row for row in rows}


def recent_checks(row: RecordMemory | None) -> list[dict[str, Any]]:
    """The record's field digests on its last checks, oldest first.

    Each item is {"at": ISO time of the check, "fields": {field: digest}}.
    """
    return [] if row is None else list(row.recent.get("checks") or [])


def remember(
    session: Session,
    rows: dict[RecordKey, RecordMemory],
    source_id: int,
    key: RecordKey,
    checks: list[dict[str, Any]],
) -> None:
    row = rows.get(key)
    if row is None:
        row = RecordMemory(
            source_id=source_id, record_kind=key[0], platform_id=key[1], recent={}
        )
        session.add(row)
        rows[key] = row
    row.recent = {"checks": checks}


# -- plan settings ---------------------------------------------------------------------


def plan_settings(session: Session, source_id: int) -> PlanSettings | None:
    return session.get(PlanSettings, source_id)


def save_plan_settings(
    session: Session,
    source_id: int,
    *,
    limits: tuple[int, int, int],
    limits_from: str,
    plan_limits: dict[str, Any] | None,
    timezone: str | None,
    now: datetime,
) -> None:
    row = session.get(PlanSettings, source_id)
    if row is None:
        row = PlanSettings(source_id=source_id)
        session.add(row)
    row.target_days, row.acceptable_days, row.stale_days = limits
    row.limits_from = limits_from
    if plan_limits is not None or row.plan_limits is None:
        row.plan_limits = plan_limits
    if timezone is not None:
        row.timezone = timezone
    row.observed_at = now
