"""Change events: what planwatch reports, stores and notifies about."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class EventKind(enum.StrEnum):
    ACTION_ADDED = "action_added"
    ACTION_REMOVED = "action_removed"
    STATUS_CHANGED = "status_changed"
    PHASE_CHANGED = "phase_changed"
    RENAMED = "renamed"
    IDENTIFIER_CHANGED = "identifier_changed"
    MERGED = "merged"
    TASKS_CHANGED = "tasks_changed"
    RESPONSIBLE_PARTIES_CHANGED = "responsible_parties_changed"
    COMPLETION_CHANGED = "completion_changed"
    UPDATED = "updated"
    ORGANIZATION_RENAMED = "organization_renamed"
    ACTION_COUNT_CHANGED = "action_count_changed"
    BECAME_STALE = "became_stale"
    NO_LONGER_STALE = "no_longer_stale"
    TASK_LATE = "task_late"
    TASK_DUE_SOON = "task_due_soon"
    SOURCE_FAILING = "source_failing"
    SOURCE_RECOVERED = "source_recovered"
    LAYOUT_ANOMALY = "layout_anomaly"
    LAYOUT_RESTORED = "layout_restored"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    source: str
    observed_at: datetime
    action_id: str | None = None
    action_identifier: str | None = None
    name: str | None = None  # the action's or organization's name, for people
    organization_id: str | None = None
    field: str | None = None
    before: Any = None
    after: Any = None
    url: str | None = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def subject(self) -> str:
        """Who the event is about, for people: the action's name or the source."""
        if self.action_id is not None:
            label = self.action_identifier or self.action_id
            return f"{label}. {self.name}" if self.name else label
        if self.organization_id is not None:
            return self.name or f"organization {self.organization_id}"
        return self.source
