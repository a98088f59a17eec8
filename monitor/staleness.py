"""How old an action's information is, and which of the plan's lines it has passed.

A plan names three lines (its timeliness classes): updated within ``target`` days is
on target, within ``acceptable`` days acceptable, and older than ``stale`` days stale
(30, 60 and 180 days unless the plan or the source's config says otherwise).

Age is measured conservatively. With the exact "information updated" time the age is
exact; with only the interval a relative string such as "6 months ago" stands for, the
age is counted from the interval's latest end, so an action is called stale only when
even the latest possible update is older than the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parsers.records import TimelinessLimits
from storage.state import ActionState

DEFAULT_LIMITS = TimelinessLimits()

# Status summaries (and the default status identifiers) of actions that are finished
# or out of play (the platform's own notifications skip them too): their age is
# nobody's concern.
INACTIVE_SUMMARIES = frozenset(
    {"COMPLETED", "CANCELLED", "MERGED", "OUT_OF_SCOPE", "POSTPONED"}
)

LINES = ("target", "acceptable", "stale")


@dataclass(frozen=True, slots=True)
class Age:
    """An action's age at one moment: at least ``days``, since ``since``."""

    days: float
    since: datetime  # the latest possible update time
    exact: bool

    def passed(self, limits: TimelinessLimits) -> str | None:
        """The furthest line this age is past, or None while on target."""
        crossed = [line for line in LINES if self.days > getattr(limits, line)]
        return crossed[-1] if crossed else None


def is_active(state: ActionState) -> bool | None:
    """Is the action still in play? None when no page said what its status is.

    The 2024 organization tables show no status at all, and the markup names a
    status only in the plan's own words: planwatch then cannot tell a finished
    action from a forgotten one, and judges neither.
    """
    if state.merged_with is not None:
        return False
    summary = state.status_summary or state.status
    if summary is None:
        return None
    return summary.upper() not in INACTIVE_SUMMARIES


def latest_update(state: ActionState) -> tuple[datetime, bool] | None:
    """The latest moment the information can have been updated, and if exact."""
    if state.updated_exact is not None:
        return datetime.fromisoformat(state.updated_exact), True
    if state.updated_latest is not None:
        return datetime.fromisoformat(state.updated_latest), False
    return None


def age(state: ActionState, now: datetime) -> Age | None:
    known = latest_update(state)
    if known is None:
        return None
    since, exact = known
    return Age(days=(now - since) / timedelta(days=1), since=since, exact=exact)


def is_stale(
    state: ActionState, now: datetime, limits: TimelinessLimits
) -> bool | None:
    """True or False for an active action whose update time is known, else None."""
    if is_active(state) is not True:
        return None
    current = age(state, now)
    if current is None:
        return None
    return current.days > limits.stale


def stale_since(state: ActionState, limits: TimelinessLimits) -> datetime | None:
    """When the action crossed (or will cross) the stale line."""
    known = latest_update(state)
    return None if known is None else known[0] + timedelta(days=limits.stale)


def effective_limits(
    override: TimelinessLimits | None,
    plan: TimelinessLimits | None,
    remembered: TimelinessLimits | None = None,
) -> TimelinessLimits:
    """The source's config wins, then the plan's own lines, then the defaults."""
    return override or plan or remembered or DEFAULT_LIMITS
