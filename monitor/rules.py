"""The per-source rules change detection goes by, read from the source's config."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import SourceConfig
from monitor.deadlines import DEFAULT_DUE_SOON_DAYS, DEFAULT_REMINDER_GAPS, Cadence
from parsers.records import TimelinessLimits

DEFAULT_FLIP_MEMORY = 5
# Caches that serve two versions of a page live minutes to hours (the platform's own
# API cache, 10 minutes): a value that comes back after longer is a real change.
DEFAULT_FLIP_HOURS = 6.0


@dataclass(frozen=True, slots=True)
class ChangeRules:
    failures_before_alert: int = 1
    limits: TimelinessLimits | None = None  # overrides the plan's own lines
    timezone: str | None = None  # used when the plan's pages do not name one
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS
    reminder_gaps: tuple[int, ...] = DEFAULT_REMINDER_GAPS
    flip_memory: int = DEFAULT_FLIP_MEMORY
    flip_hours: float = DEFAULT_FLIP_HOURS

    @property
    def cadence(self) -> Cadence:
        return Cadence(self.reminder_gaps)

    @classmethod
    def from_config(cls, source: SourceConfig) -> ChangeRules:
        lines = source.stale_days
        return cls(
            failures_before_alert=source.failures_before_alert,
            limits=TimelinessLimits(*lines) if lines else None,
            timezone=source.timezone,
            due_soon_days=source.due_soon_days,
            reminder_gaps=tuple(source.reminder_days),
            flip_memory=source.flip_memory,
            flip_hours=source.flip_hours,
        )
