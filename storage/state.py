"""What planwatch knows of one action or organization after a check.

A state merges every page of a source that showed the record: the organization table,
the action list and the action's own page, in every language. Fields that no page of
the check showed are carried over from the previous state, so a page that was not
fetched never reads as a change. States are stored as JSON in version rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
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
            mine, theirs = getattr(self, f.name), getattr(previous, f.name)
            if isinstance(mine, dict):
                updates[f.name] = {**theirs, **mine}
            elif mine is None and theirs is not None:
                updates[f.name] = theirs
        return replace(self, **updates)


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
