"""Checks that can only repeat the last one: record them without diffing again.

A check is *settled* when it read every page, found nothing to report and changed
nothing but bookkeeping: no event, no new version or record, no change held back as
a flip, no action missing from the pages, no deadline step, a healthy source. The
next check that sees the very same parsed pages (each 304 or same-body page reuses
its parse, `monitor.conditional`) merges them into the very same states and compares
them with the very same stored states, so it too finds nothing; what it still does
is bookkeeping that depends on the clock:

- every record seen gets ``last_seen_at`` and a new entry in its flip memory;
- the plan settings note the check's time;
- deadlines are judged at the new time: staleness lines, late and due-soon tasks and
  reminders may fire. `repeat` judges them with the same functions, on the states,
  rules and ledger the settled check used, and gives up (the full check runs) as
  soon as any step would follow.

`SettledChecks` keeps the last settled check of each source in a long-running
process (``planwatch run``). The stored source must still be as that check left it
(its last check is that check, unchanged and healthy): a check by another process,
an import, or a transaction that rolled back sends the next check the full way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.orm import Session

from monitor import deadlines
from monitor.changes import Fingerprint
from monitor.rules import ChangeRules
from parsers.records import ParsedPage
from storage.memory import RecordKey
from storage.models import (
    ActionRecord,
    Check,
    OrganizationRecord,
    PlanSettings,
    RecordMemory,
    Source,
)
from storage.state import ActionState

UNCHANGED = "unchanged"  # pipeline.CheckOutcome.UNCHANGED


@dataclass(frozen=True, slots=True)
class Remembered:
    """One record's flip memory as the settled check stored it."""

    row_id: int
    fields: Fingerprint
    checks: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Settled:
    """What a settled check read, stored and judged."""

    pages: tuple[ParsedPage | None, ...]
    observed_at: datetime
    rules: ChangeRules
    action_rows: tuple[int, ...]
    organization_rows: tuple[int, ...]
    memory: dict[RecordKey, Remembered]
    deadline_states: dict[str, ActionState]
    deadline_rules: deadlines.DeadlineRules
    ledger: tuple[deadlines.Entry, ...]

    def fits(
        self,
        source: Source,
        pages: Sequence[ParsedPage | None],
        rules: ChangeRules,
    ) -> bool:
        """Is this check the settled one again: same source state, same parses?"""
        return (
            source.last_check_at == self.observed_at
            and source.last_outcome == UNCHANGED
            and source.consecutive_failures == 0
            and not source.failing_reported
            and not source.anomaly_reported
            and rules == self.rules
            and len(pages) == len(self.pages)
            and all(a is b for a, b in zip(pages, self.pages, strict=True))
        )


@dataclass
class SettledChecks:
    """The last settled check of each source, in this process's memory."""

    _by_source: dict[str, Settled] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, source: str) -> Settled | None:
        with self._lock:
            return self._by_source.get(source)

    def put(self, source: str, settled: Settled | None) -> None:
        with self._lock:
            if settled is None:
                self._by_source.pop(source, None)
            else:
                self._by_source[source] = settled


def recent_and_kept(
    checks: Sequence[dict[str, Any]],
    fields: Fingerprint,
    now: datetime,
    rules: ChangeRules,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A record's recent checks (within the flip window), and what to store now."""
    keep = rules.flip_memory
    if not keep:
        return [], []
    since = now - timedelta(hours=rules.flip_hours)
    recent = [
        item for item in checks[-keep:] if datetime.fromisoformat(item["at"]) >= since
    ]
    kept = [*recent, {"at": now.isoformat(), "fields": fields}][-keep:]
    return recent, kept


def repeat(
    session: Session,
    source: Source,
    check: Check,
    pages: Sequence[ParsedPage | None],
    rules: ChangeRules,
    settled: SettledChecks | None,
) -> bool:
    """Record ``check`` as a repeat of the settled one, if it is; else False.

    Nothing is written unless the whole check is a repeat.
    """
    if settled is None:
        return False
    last = settled.get(source.name)
    if last is None or not last.fits(source, pages, rules):
        return False
    now = check.observed_at
    judged = deadlines.assess(last.deadline_states, now, last.deadline_rules)
    cadence = last.deadline_rules.cadence
    if deadlines.reconcile(judged, last.ledger, now, cadence, baseline=False):
        return False

    memory = {
        key: replace(
            item, checks=recent_and_kept(item.checks, item.fields, now, rules)[1]
        )
        for key, item in last.memory.items()
    }
    _write(session.connection(), source, last, memory, now)
    settled.put(source.name, replace(last, observed_at=now, memory=memory))
    return True


# Built once, run with each repeat's values: building them anew for every check
# (and SQLAlchemy finding their compiled form again) cost as much as running them.
_SEEN_ACTIONS = (
    update(ActionRecord)
    .where(ActionRecord.id.in_(bindparam("rows", expanding=True)))
    .values(last_seen_at=bindparam("now", type_=ActionRecord.last_seen_at.type))
)
_SEEN_ORGANIZATIONS = (
    update(OrganizationRecord)
    .where(OrganizationRecord.id.in_(bindparam("rows", expanding=True)))
    .values(last_seen_at=bindparam("now", type_=OrganizationRecord.last_seen_at.type))
)
_REMEMBERED = (
    update(RecordMemory)
    .where(RecordMemory.id == bindparam("row_id"))
    .values(recent=bindparam("checks", type_=RecordMemory.recent.type))
)
_PLAN_SEEN = (
    update(PlanSettings)
    .where(PlanSettings.source_id == bindparam("source"))
    .values(observed_at=bindparam("now", type_=PlanSettings.observed_at.type))
)


def _write(
    connection: Connection,
    source: Source,
    last: Settled,
    memory: dict[RecordKey, Remembered],
    now: datetime,
) -> None:
    """What the full check writes besides the check itself, as plain statements
    (through the session's connection: no ORM bookkeeping)."""
    if last.action_rows:
        connection.execute(_SEEN_ACTIONS, {"rows": last.action_rows, "now": now})
    if last.organization_rows:
        seen = {"rows": last.organization_rows, "now": now}
        connection.execute(_SEEN_ORGANIZATIONS, seen)
    if memory:
        connection.execute(
            _REMEMBERED,
            [
                {"row_id": m.row_id, "checks": {"checks": m.checks}}
                for m in memory.values()
            ],
        )
    connection.execute(_PLAN_SEEN, {"source": source.id, "now": now})
