"""Deadlines: actions crossing the stale line, late tasks, tasks due soon, reminders.

These events come from the clock as much as from the pages, so each is judged from
the merged state at the check's observation time, never from rendered text:

- ``became_stale`` when an active action's latest possible update passes the stale
  line; ``no_longer_stale`` when a new update brings it back under. An action that is
  completed, merged or removed just leaves the ledger, silently; one whose status no
  page showed is not judged.
- ``task_late`` when an open task's due date is before today in the plan's time zone;
  ``task_due_soon`` when it is due within the window (30 days unless configured).

Each condition is one *ledger* entry, stored with the check. Its first alert is the
crossing itself; reminders follow a cadence of gaps in days (7, then every 30, unless
configured) counted from when the condition began. After a long gap only the latest
reminder due is sent, and a restart finds the ledger where it was, so none repeats.
Conditions already true at the baseline are entered without an alert; their
reminders follow the same cadence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from monitor import staleness
from parsers.records import TimelinessLimits
from storage.events import EventKind
from storage.state import ActionState, TaskState

OPEN_TASK_STATES = frozenset({"NOT_STARTED", "IN_PROGRESS"})
DEFAULT_DUE_SOON_DAYS = 30
DEFAULT_REMINDER_GAPS = (7, 30)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cadence:
    """When alerts about one condition go out, in days after it began.

    The first alert is at day 0; ``gaps`` are the days between the following ones,
    the last gap repeating: (7, 30) means days 0, 7, 37, 67, ... No gaps, no reminders.
    """

    gaps: tuple[int, ...] = DEFAULT_REMINDER_GAPS

    def index(self, elapsed: timedelta) -> int:
        """How many alert points after the first have passed."""
        days = elapsed / ONE_DAY
        if days < 0 or not self.gaps:
            return 0
        passed, offset = 0, 0
        for gap in self.gaps[:-1]:
            if offset + gap > days:
                return passed
            offset += gap
            passed += 1
        return passed + int((days - offset) // self.gaps[-1])


@dataclass(frozen=True, slots=True)
class DeadlineRules:
    limits: TimelinessLimits
    timezone: tzinfo
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS
    cadence: Cadence = Cadence()


@dataclass(frozen=True, slots=True)
class Condition:
    """One thing that holds now: an action is stale, a task is late or due soon."""

    kind: EventKind
    subject: str  # "stale:<action>", "late:<action>:<task>", "due_soon:<action>:<task>"
    action_id: str
    started_at: datetime
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    """What the ledger remembers of one condition."""

    kind: EventKind
    subject: str
    action_id: str
    started_at: datetime
    alert_index: int


@dataclass(frozen=True, slots=True)
class Step:
    """What to do about one subject: alert or not, then keep or drop its entry.

    ``alert`` is the event kind to emit (None: silent); ``index`` the entry's new
    alert index, or None to drop the entry.
    """

    subject: str
    action_id: str
    alert: EventKind | None
    index: int | None
    condition: Condition | None
    reminder: int = 0  # 0: the crossing itself; n: the n-th reminder point


@dataclass(slots=True)
class Assessment:
    holding: dict[str, Condition] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # active, known, under the line
    unknown: set[str] = field(default_factory=set)  # subjects that cannot be judged


def assess(
    states: Mapping[str, ActionState], now: datetime, rules: DeadlineRules
) -> Assessment:
    """Every condition that holds at ``now``, and what cannot be judged."""
    result = Assessment()
    today = now.astimezone(rules.timezone).date()
    for action_id, state in states.items():
        active = staleness.is_active(state)
        if active is None:
            result.unknown |= {f"stale:{action_id}", f"tasks:{action_id}"}
            continue
        if not active:
            continue
        _assess_staleness(result, action_id, state, now, rules.limits)
        if state.tasks is None:
            result.unknown.add(f"tasks:{action_id}")
            continue
        for task in state.tasks:
            condition = _task_condition(action_id, task, today, rules)
            if condition is not None:
                result.holding[condition.subject] = condition
    return result


def _assess_staleness(
    result: Assessment,
    action_id: str,
    state: ActionState,
    now: datetime,
    limits: TimelinessLimits,
) -> None:
    stale = staleness.is_stale(state, now, limits)
    if stale is None:  # no update time on any page
        result.unknown.add(f"stale:{action_id}")
        return
    if not stale:
        result.fresh.add(action_id)
        return
    current = staleness.age(state, now)
    since = staleness.stale_since(state, limits)
    assert current is not None
    assert since is not None
    result.holding[f"stale:{action_id}"] = Condition(
        kind=EventKind.BECAME_STALE,
        subject=f"stale:{action_id}",
        action_id=action_id,
        started_at=since,
        facts={
            "age_days": int(current.days),
            "limit_days": limits.stale,
            "updated_at": current.since.isoformat(),
            "exact": current.exact,
        },
    )


def _task_condition(
    action_id: str, task: TaskState, today: date, rules: DeadlineRules
) -> Condition | None:
    if task.state not in OPEN_TASK_STATES or task.due_at is None:
        return None
    due = date.fromisoformat(task.due_at[:10])
    facts: dict[str, Any] = {
        "task_id": task.id,
        "task": task.names.get("en") or next(iter(task.names.values()), None),
        "due_at": due.isoformat(),
    }
    if due < today:
        kind, starts = EventKind.TASK_LATE, due + ONE_DAY
        facts["days_late"] = (today - due).days
    elif (due - today).days <= rules.due_soon_days:
        kind, starts = EventKind.TASK_DUE_SOON, due - timedelta(rules.due_soon_days)
        facts["days_left"] = (due - today).days
    else:
        return None
    prefix = "late" if kind is EventKind.TASK_LATE else "due_soon"
    return Condition(
        kind=kind,
        subject=f"{prefix}:{action_id}:{task.id}",
        action_id=action_id,
        started_at=datetime.combine(starts, time(), tzinfo=rules.timezone),
        facts=facts,
    )


def reconcile(
    assessment: Assessment,
    ledger: Iterable[Entry],
    now: datetime,
    cadence: Cadence,
    *,
    baseline: bool,
) -> list[Step]:
    """Compare what holds now with the ledger: alerts, reminders, entries to drop."""
    steps: list[Step] = []
    known = {entry.subject: entry for entry in ledger}
    for subject, condition in sorted(assessment.holding.items()):
        index = cadence.index(now - condition.started_at)
        entry = known.get(subject)
        if entry is None:
            alert = None if baseline else condition.kind
            steps.append(Step(subject, condition.action_id, alert, index, condition))
        elif index > entry.alert_index:
            steps.append(
                Step(
                    subject,
                    condition.action_id,
                    condition.kind,
                    index,
                    condition,
                    reminder=index,
                )
            )
    for subject, entry in sorted(known.items()):
        if subject in assessment.holding or _undecided(entry, assessment):
            continue
        announce = (
            entry.kind is EventKind.BECAME_STALE
            and entry.action_id in assessment.fresh
            and not baseline
        )
        alert = EventKind.NO_LONGER_STALE if announce else None
        steps.append(Step(subject, entry.action_id, alert, None, None))
    return steps


def _undecided(entry: Entry, assessment: Assessment) -> bool:
    if entry.kind is EventKind.BECAME_STALE:
        return entry.subject in assessment.unknown
    return f"tasks:{entry.action_id}" in assessment.unknown
