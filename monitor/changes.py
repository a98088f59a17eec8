"""From parsed pages to states, and from two states to change events.

One check sees a source through several pages (organization tables, the action list,
each action's own page) in several languages. ``merge_pages`` folds them into one
state per action and organization, so one change seen on five pages is one event.
``diff_action`` and ``diff_organization`` compare identifiers and values, never
rendered text: labels and relative times are shown, not compared.

``fingerprint`` and ``hold_flips`` keep a page that flips between two states (two
caches behind one host) from alerting on every check: a change back to a value the
record had within its last few checks is held until a second check in a row confirms
it. A flip therefore alerts once; a real revert is reported one check later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from parsers.records import Action, PageKind, ParsedPage, PlanContext
from storage.events import EventKind
from storage.state import ActionState, OrganizationState, TaskState

# Later pages override earlier ones: an action's own page knows the most.
_PRIORITY = {PageKind.ORGANIZATION: 0, PageKind.ACTION_LIST: 1, PageKind.ACTION: 2}


@dataclass(frozen=True, slots=True)
class Change:
    """One field-level difference of one record, before it becomes an Event."""

    kind: EventKind
    field: str | None
    before: Any
    after: Any
    detail: dict[str, Any]


@dataclass(slots=True)
class MergedCheck:
    actions: dict[str, ActionState] = field(default_factory=dict)
    organizations: dict[str, OrganizationState] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    plan: PlanContext | None = None  # the first page's that names timeliness lines


def merge_pages(pages: Iterable[ParsedPage]) -> MergedCheck:
    merged = MergedCheck()
    masters: dict[str, str] = {}
    ordered = sorted(pages, key=lambda p: (_PRIORITY.get(p.kind, 0), p.url))
    for page in ordered:
        lang = page.language or "und"
        if lang not in merged.languages:
            merged.languages.append(lang)
        merged.plan = _better_plan(merged.plan, page.plan)
        org = page.organization
        if org is not None and org.id is not None:
            merged.organizations[org.id] = _merge_org(
                merged.organizations.get(org.id), org.id, lang, org.name, org
            )
        for action in page.actions:
            state = _merge_action(merged.actions.get(action.id), action, lang)
            if org is not None and org.id is not None:
                orgs = sorted({*state.organizations, org.id})
                state = replace(state, organizations=tuple(orgs))
            merged.actions[action.id] = state
            if action.merged_with is None and action.merged_with_identifier:
                masters[action.id] = action.merged_with_identifier
    _resolve_masters(merged, masters)
    return merged


def _resolve_masters(merged: MergedCheck, masters: Mapping[str, str]) -> None:
    """Markup names the action a merged one went into by identifier, not by id."""
    by_identifier = {s.identifier: key for key, s in merged.actions.items()}
    for action_id, identifier in sorted(masters.items()):
        state = merged.actions[action_id]
        master = by_identifier.get(identifier)
        if state.merged_with is None and master is not None:
            merged.actions[action_id] = replace(state, merged_with=master)


def _better_plan(
    current: PlanContext | None, candidate: PlanContext | None
) -> PlanContext | None:
    if candidate is None:
        return current
    if current is None:
        return candidate
    if current.limits is None and candidate.limits is not None:
        return msgspec.structs.replace(
            candidate, timezone=current.timezone or candidate.timezone
        )
    if current.timezone is None and candidate.timezone is not None:
        return msgspec.structs.replace(current, timezone=candidate.timezone)
    return current


def _merge_org(
    current: OrganizationState | None,
    org_id: str,
    lang: str,
    name: str | None,
    org: Any,
) -> OrganizationState:
    state = current or OrganizationState(id=org_id)
    names = {**state.names, lang: name} if name else dict(state.names)
    return replace(
        state,
        names=names,
        action_count=(
            org.action_count if org.action_count is not None else state.action_count
        ),
        parent_id=org.parent_id or state.parent_id,
    )


def _merge_action(
    current: ActionState | None, action: Action, lang: str
) -> ActionState:
    state = current or ActionState(id=action.id)
    updates: dict[str, Any] = {}
    if action.identifier is not None:
        updates["identifier"] = action.identifier
    if action.url is not None:
        updates["url"] = action.url
    if action.name:
        updates["names"] = {**state.names, lang: action.name}
    if action.status is not None:
        if action.status.identifier is not None:
            updates["status"] = action.status.identifier
        if action.status.label:
            updates["status_labels"] = {
                **state.status_labels,
                lang: action.status.label,
            }
    if action.status_summary is not None:
        updates["status_summary"] = action.status_summary
    if action.phase is not None:
        if action.phase.identifier is not None:
            updates["phase"] = action.phase.identifier
        if action.phase.label:
            updates["phase_labels"] = {**state.phase_labels, lang: action.phase.label}
    if action.tasks is not None:
        updates["tasks_total"] = action.tasks.total
        updates["tasks_completed"] = action.tasks.completed
    if action.task_list is not None:
        updates["tasks"] = _merge_tasks(state.tasks, action, lang)
    if action.completion is not None:
        updates["completion"] = action.completion
    if action.updated_at is not None:
        exact = action.updated_at.exact
        updates["updated_exact"] = exact.isoformat() if exact else None
        earliest, latest = action.updated_at.earliest, action.updated_at.latest
        updates["updated_earliest"] = earliest.isoformat() if earliest else None
        updates["updated_latest"] = latest.isoformat() if latest else None
    if action.responsible_parties is not None:
        known_roles = {org: role for org, role in state.responsible or () if role}
        parties = {
            p.organization_id: p.role or known_roles.get(p.organization_id)
            for p in action.responsible_parties
        }
        updates["responsible"] = tuple(sorted(parties.items(), key=lambda p: p[0]))
        names = {
            p.organization_id: p.organization_name
            for p in action.responsible_parties
            if p.organization_name
        }
        updates["responsible_names"] = {**state.responsible_names, **names}
    if action.merged_with is not None or action.layer.value in ("embedded", "api"):
        updates["merged_with"] = action.merged_with
    return replace(state, **updates)


def _merge_tasks(
    current: tuple[TaskState, ...] | None, action: Action, lang: str
) -> tuple[TaskState, ...]:
    known = {t.id: t for t in current or ()}
    merged: dict[str, TaskState] = {}
    for task in action.task_list or ():
        if task.id is None:
            continue
        old = known.get(task.id) or TaskState(id=task.id)
        names = {**old.names, lang: task.name} if task.name else dict(old.names)
        merged[task.id] = TaskState(
            id=task.id,
            state=task.state,
            due_at=task.due_at.isoformat() if task.due_at else old.due_at,
            completed_at=(task.completed_at.isoformat() if task.completed_at else None),
            names=names,
        )
    return tuple(sorted(merged.values(), key=lambda t: _natural(t.id)))


# -- diffs ---------------------------------------------------------------------------


def diff_action(old: ActionState, new: ActionState) -> list[Change]:
    changes: list[Change] = []
    if _differs(old.identifier, new.identifier):
        changes.append(
            Change(
                EventKind.IDENTIFIER_CHANGED,
                "identifier",
                old.identifier,
                new.identifier,
                {},
            )
        )
    renamed = _renamed(old.names, new.names)
    if renamed:
        before, after = _pick_language(renamed)
        changes.append(
            Change(EventKind.RENAMED, "name", before, after, {"languages": renamed})
        )
    if new.merged_with is not None and old.merged_with != new.merged_with:
        changes.append(
            Change(
                EventKind.MERGED, "merged_with", old.merged_with, new.merged_with, {}
            )
        )
    if _differs(old.status, new.status):
        changes.append(
            Change(
                EventKind.STATUS_CHANGED,
                "status",
                old.status,
                new.status,
                {"labels": _labels(old.status_labels, new.status_labels)},
            )
        )
    if _differs(old.phase, new.phase):
        changes.append(
            Change(
                EventKind.PHASE_CHANGED,
                "phase",
                old.phase,
                new.phase,
                {"labels": _labels(old.phase_labels, new.phase_labels)},
            )
        )
    tasks = _tasks_change(old, new)
    if tasks is not None:
        changes.append(tasks)
    if _responsible_differs(old, new):
        changes.append(
            Change(
                EventKind.RESPONSIBLE_PARTIES_CHANGED,
                "responsible_parties",
                _party_names(old, new, old.responsible),
                _party_names(old, new, new.responsible),
                {},
            )
        )
    if _differs(old.completion, new.completion):
        changes.append(
            Change(
                EventKind.COMPLETION_CHANGED,
                "completion",
                old.completion,
                new.completion,
                {},
            )
        )
    if not changes and _updated_moved(old, new):
        changes.append(
            Change(
                EventKind.UPDATED,
                "updated_at",
                old.updated_exact or old.updated_latest,
                new.updated_exact or new.updated_earliest,
                {},
            )
        )
    return changes


def diff_organization(old: OrganizationState, new: OrganizationState) -> list[Change]:
    changes: list[Change] = []
    renamed = _renamed(old.names, new.names)
    if renamed:
        before, after = _pick_language(renamed)
        changes.append(
            Change(
                EventKind.ORGANIZATION_RENAMED,
                "name",
                before,
                after,
                {"languages": renamed},
            )
        )
    if _differs(old.action_count, new.action_count):
        changes.append(
            Change(
                EventKind.ACTION_COUNT_CHANGED,
                "action_count",
                old.action_count,
                new.action_count,
                {},
            )
        )
    return changes


def changed_fields(changes: Iterable[Change]) -> list[str]:
    return sorted({c.field for c in changes if c.field})


def _differs(old: Any, new: Any) -> bool:
    return old is not None and new is not None and old != new


def _renamed(old: dict[str, str], new: dict[str, str]) -> dict[str, list[str]]:
    return {
        lang: [old[lang], new[lang]]
        for lang in sorted(old.keys() & new.keys())
        if old[lang] != new[lang]
    }


def _pick_language(changes: dict[str, list[str]]) -> tuple[str, str]:
    lang = "en" if "en" in changes else next(iter(changes))
    before, after = changes[lang]
    return before, after


def _labels(old: dict[str, str], new: dict[str, str]) -> dict[str, list[str | None]]:
    return {
        lang: [old.get(lang), new.get(lang)] for lang in sorted(old.keys() | new.keys())
    }


def _tasks_change(old: ActionState, new: ActionState) -> Change | None:
    detail: dict[str, Any] = {}
    if old.tasks is not None and new.tasks is not None:
        before = {t.id: t for t in old.tasks}
        after = {t.id: t for t in new.tasks}
        added = sorted(after.keys() - before.keys(), key=_natural)
        removed = sorted(before.keys() - after.keys(), key=_natural)
        states = {
            tid: [before[tid].state, after[tid].state]
            for tid in sorted(before.keys() & after.keys(), key=_natural)
            if before[tid].state != after[tid].state
        }
        if added:
            detail["added"] = [_task_label(after[t]) for t in added]
        if removed:
            detail["removed"] = [_task_label(before[t]) for t in removed]
        if states:
            detail["states"] = {
                _task_label(after[t]): pair for t, pair in states.items()
            }
    counts_moved = _differs(old.tasks_total, new.tasks_total) or _differs(
        old.tasks_completed, new.tasks_completed
    )
    if not detail and not counts_moved:
        return None
    return Change(
        EventKind.TASKS_CHANGED,
        "tasks",
        {"total": old.tasks_total, "completed": old.tasks_completed},
        {"total": new.tasks_total, "completed": new.tasks_completed},
        detail,
    )


def _task_label(task: TaskState) -> str:
    if task.names:
        return task.names.get("en") or next(iter(task.names.values()))
    return f"task {task.id}"


def _responsible_differs(old: ActionState, new: ActionState) -> bool:
    if old.responsible is None or new.responsible is None:
        return False
    return {o for o, _ in old.responsible} != {o for o, _ in new.responsible}


def _party_names(
    old: ActionState,
    new: ActionState,
    parties: tuple[tuple[str, str | None], ...] | None,
) -> list[str]:
    names = {**old.responsible_names, **new.responsible_names}
    return [names.get(org_id, f"organization {org_id}") for org_id, _ in parties or ()]


def _updated_moved(old: ActionState, new: ActionState) -> bool:
    """Did the platform's "information updated" time move forward?

    With exact times, any difference counts. With intervals from relative strings,
    only intervals that cannot both hold do: clock drift never fires.
    """
    if old.updated_exact and new.updated_exact:
        return _time(new.updated_exact) > _time(old.updated_exact)
    if old.updated_latest and new.updated_earliest:
        return _time(new.updated_earliest) > _time(old.updated_latest)
    return False


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _natural(value: str) -> tuple[int, str]:
    # str.isdigit takes "²", which int() cannot read.
    return (int(value), "") if value.isdecimal() else (1 << 62, value)


# -- flips ---------------------------------------------------------------------------

S = TypeVar("S", ActionState, OrganizationState)

Fingerprint = dict[str, str]

# What each reported field compares, as plain data: the same projections decide
# whether a value was seen before. Labels and relative-time intervals are left out.
_ACTION_VALUES: dict[str, Callable[[ActionState], Any]] = {
    "identifier": lambda s: s.identifier,
    "name": lambda s: sorted(s.names.items()),
    "merged_with": lambda s: s.merged_with,
    "status": lambda s: s.status,
    "phase": lambda s: s.phase,
    "tasks": lambda s: [
        s.tasks_total,
        s.tasks_completed,
        None if s.tasks is None else [[t.id, t.state] for t in s.tasks],
    ],
    "responsible_parties": lambda s: (
        None if s.responsible is None else sorted(o for o, _ in s.responsible)
    ),
    "completion": lambda s: s.completion,
    "updated_at": lambda s: s.updated_exact,
}
_ORGANIZATION_VALUES: dict[str, Callable[[OrganizationState], Any]] = {
    "name": lambda s: sorted(s.names.items()),
    "action_count": lambda s: s.action_count,
}

# The state attributes that carry each field, restored when a change is held.
_ACTION_ATTRIBUTES = {
    "identifier": ("identifier", "url"),
    "name": ("names",),
    "merged_with": ("merged_with",),
    "status": ("status", "status_labels", "status_summary"),
    "phase": ("phase", "phase_labels"),
    "tasks": ("tasks", "tasks_total", "tasks_completed"),
    "responsible_parties": ("responsible", "responsible_names"),
    "completion": ("completion",),
    "updated_at": ("updated_exact", "updated_earliest", "updated_latest"),
}
_ORGANIZATION_ATTRIBUTES = {"name": ("names",), "action_count": ("action_count",)}


def fingerprint(state: ActionState | OrganizationState) -> Fingerprint:
    """A short digest of each compared field's value."""
    values: Mapping[str, Callable[[Any], Any]] = (
        _ACTION_VALUES if isinstance(state, ActionState) else _ORGANIZATION_VALUES
    )
    return {name: _digest(value(state)) for name, value in values.items()}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()


def hold_flips(
    changes: Sequence[Change], now: Fingerprint, recent: Sequence[Fingerprint]
) -> tuple[list[Change], list[Change]]:
    """Split changes into (report now, hold back).

    ``recent`` holds the fingerprints of the record's last checks, oldest first. A
    change to a value seen among them is a flip back unless the last check saw it
    too: then two checks in a row agree and the change is real.
    """
    report: list[Change] = []
    held: list[Change] = []
    for change in changes:
        digest = now.get(change.field or "")
        seen = digest is not None and any(
            r.get(change.field or "") == digest for r in recent
        )
        confirmed = bool(recent) and recent[-1].get(change.field or "") == digest
        (held if seen and not confirmed else report).append(change)
    return report, held


def folded_update_flip(
    old: ActionState, new: ActionState, now: Fingerprint, recent: Sequence[Fingerprint]
) -> list[Change]:
    """The "information updated" time going back to a recent value, as a change to
    hold, when the diff folded it into the action's other changes (it reports
    ``updated`` only alone): a flip holds it with the values it came with."""
    if old.updated_exact == new.updated_exact:
        return []
    change = Change(
        EventKind.UPDATED, "updated_at", old.updated_exact, new.updated_exact, {}
    )
    return hold_flips([change], now, recent)[1]


def restore(state: S, previous: S, held: Iterable[Change]) -> S:
    """``state`` with the held fields put back to their previous values."""
    attributes: Mapping[str, tuple[str, ...]] = (
        _ACTION_ATTRIBUTES
        if isinstance(state, ActionState)
        else _ORGANIZATION_ATTRIBUTES
    )
    updates: dict[str, Any] = {}
    for change in held:
        for name in attributes.get(change.field or "", ()):
            updates[name] = getattr(previous, name)
    return replace(state, **updates) if updates else state
