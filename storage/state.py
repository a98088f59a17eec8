"""What planwatch knows of one action or organization after a check.

A state merges every page of a source that showed the record: the organization table,
the action list and the action's own page, in every language. Fields that no page of
the check showed are carried over from the previous state, so a page that was not
fetched never reads as a change. States are stored as JSON in version rows.

Carrying over is done by meaning, not field by field: the three "information updated"
fields are one value (an exact time, or the interval a relative string stands for);
labels belong to the status or phase they name; task names belong to their task.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TaskState:
    id: str
    state: str | None = None
    due_at: str | None = None
    completed_at: str | None = None
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionState:
    id: str
    identifier: str | None = None
    url: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    status_labels: dict[str, str] = field(default_factory=dict)
    status_summary: str | None = None  # the platform's summary, e.g. COMPLETED
    phase: str | None = None
    phase_labels: dict[str, str] = field(default_factory=dict)
    tasks_total: int | None = None
    tasks_completed: int | None = None
    tasks: tuple[TaskState, ...] | None = None
    completion: int | None = None
    updated_exact: str | None = None
    updated_earliest: str | None = None
    updated_latest: str | None = None
    responsible: tuple[tuple[str, str | None], ...] | None = None
    responsible_names: dict[str, str] = field(default_factory=dict)
    merged_with: str | None = None
    organizations: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.tasks is not None:
            data["tasks"] = [asdict(t) for t in self.tasks]
        if self.responsible is not None:
            data["responsible"] = [list(p) for p in self.responsible]
        data["organizations"] = list(self.organizations)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActionState:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("tasks") is not None:
            values["tasks"] = tuple(TaskState(**t) for t in values["tasks"])
        if values.get("responsible") is not None:
            values["responsible"] = tuple(
                (str(p[0]), p[1]) for p in values["responsible"]
            )
        values["organizations"] = tuple(values.get("organizations") or ())
        return cls(**values)

    def carry_over(self, previous: ActionState | None) -> ActionState:
        """Fill what this check did not observe from the previous state."""
        if previous is None:
            return self
        updates: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _UPDATED:
                continue
            mine, theirs = getattr(self, f.name), getattr(previous, f.name)
            if isinstance(mine, dict):
                updates[f.name] = {**theirs, **mine}
            elif mine is None and theirs is not None:
                updates[f.name] = theirs
        # A label in a language this check did not see names the old value.
        if _moved(self.status, previous.status):
            updates["status_labels"] = dict(self.status_labels)
        if _moved(self.phase, previous.phase):
            updates["phase_labels"] = dict(self.phase_labels)
        if self.tasks is not None and previous.tasks is not None:
            updates["tasks"] = _keep_task_names(self.tasks, previous.tasks)
        updates.update(_carry_updated(self, previous))
        return replace(self, **updates)


_UPDATED = ("updated_exact", "updated_earliest", "updated_latest")


def _moved(mine: str | None, theirs: str | None) -> bool:
    return mine is not None and theirs is not None and mine != theirs


def _keep_task_names(
    mine: tuple[TaskState, ...], theirs: tuple[TaskState, ...]
) -> tuple[TaskState, ...]:
    """Organization tables show no task names: keep those an earlier page showed."""
    known = {t.id: t.names for t in theirs}
    return tuple(replace(t, names={**known.get(t.id, {}), **t.names}) for t in mine)


def _carry_updated(mine: ActionState, theirs: ActionState) -> dict[str, Any]:
    """The "information updated" value after this check, as one unit.

    Nothing observed: keep the previous value. An interval that still contains the
    previous exact time: keep the exact time (it is the same update, known better).
    Otherwise what this check saw stands, so a move is never hidden by the old value.
    """
    seen = [getattr(mine, name) for name in _UPDATED]
    if all(value is None for value in seen):
        return {name: getattr(theirs, name) for name in _UPDATED}
    exact = theirs.updated_exact
    if mine.updated_exact is None and exact is not None and _within(exact, mine):
        return {name: exact for name in _UPDATED}
    return {}


def _within(moment: str, interval: ActionState) -> bool:
    earliest, latest = interval.updated_earliest, interval.updated_latest
    if earliest is None or latest is None:
        return False
    value = datetime.fromisoformat(moment)
    return datetime.fromisoformat(earliest) <= value <= datetime.fromisoformat(latest)


@dataclass(frozen=True, slots=True)
class OrganizationState:
    id: str
    names: dict[str, str] = field(default_factory=dict)
    action_count: int | None = None
    parent_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrganizationState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def carry_over(self, previous: OrganizationState | None) -> OrganizationState:
        if previous is None:
            return self
        return replace(
            self,
            names={**previous.names, **self.names},
            action_count=(
                self.action_count
                if self.action_count is not None
                else previous.action_count
            ),
            parent_id=self.parent_id or previous.parent_id,
        )
