"""The platform's own data shapes -> records.

A page's embedded data and the public GraphQL API answer with the same objects
(``Action``, ``Organization``, ``Plan``, as the UI's queries ask for them), so both
source kinds turn into records here. Whatever a query did not ask for stays ``None``:
an organization page's actions carry task states but no task names, so their tasks
have ``name=None``; its responsible parties carry no role.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from parsers.records import (
    Action,
    IndicatorRef,
    Layer,
    Organization,
    Phase,
    PhaseDef,
    PlanContext,
    ResponsibleParty,
    Status,
    StatusDef,
    Task,
    TaskCounts,
    TimelinessClass,
    TimelinessLimits,
    TimeRange,
)
from parsers.text import clean

OPEN_TASK_STATES = frozenset({"NOT_STARTED", "IN_PROGRESS"})
COUNTED_TASK_STATES = frozenset({"NOT_STARTED", "IN_PROGRESS", "COMPLETED"})

UrlFor = Callable[[str | None], str | None]


def action(raw: dict[str, Any], now: datetime, url_for: UrlFor) -> Action:
    """One ``Action`` object as a record; ``now`` judges late tasks."""
    return _Builder(now, url_for).action(raw)


def actions(raws: Iterable[Any], now: datetime, url_for: UrlFor) -> tuple[Action, ...]:
    build = _Builder(now, url_for).action
    return tuple(
        build(raw)
        for raw in raws
        if isinstance(raw, dict) and raw.get("id") is not None
    )


class _Builder:
    """Builds the records of one list of actions.

    A plan's actions repeat a handful of statuses, phases and responsible parties:
    each distinct one is built once per list and shared (records are immutable).
    """

    def __init__(self, now: datetime, url_for: UrlFor) -> None:
        self.now = now.astimezone(UTC)
        self.url_for = url_for
        self.shared: dict[tuple[Any, ...], Any] = {}

    def action(self, raw: dict[str, Any]) -> Action:
        get = raw.get
        identifier = text(get("identifier"))
        raw_tasks = get("tasks")
        task_list = (
            tuple([task(t) for t in raw_tasks if isinstance(t, dict)])
            if isinstance(raw_tasks, list)
            else None
        )
        updated = iso(get("updatedAt"))
        merged = _dict(get("mergedWith"))
        superseded = _dict(get("supersededBy"))
        return Action(
            id=str(raw["id"]),
            identifier=identifier,
            name=clean(text(get("name"))),
            url=self.url_for(identifier),
            status=self.named(Status, get("status")),
            phase=self.named(Phase, get("implementationPhase")),
            tasks=task_counts(task_list, self.now) if task_list is not None else None,
            updated_at=TimeRange.at(updated) if updated else None,
            completion=integer(get("completion")),
            task_list=task_list,
            responsible_parties=self.parties(get("responsibleParties")),
            status_summary=text(_get(raw, "statusSummary", "identifier")),
            merged_with=text(merged.get("id")),
            start_date=day(get("startDate")),
            end_date=day(get("endDate")),
            layer=Layer.EMBEDDED,
            merged_with_identifier=text(merged.get("identifier")),
            superseded_by=text(superseded.get("id")),
            superseded_by_identifier=text(superseded.get("identifier")),
            related_indicators=indicators(get("relatedIndicators")),
            timeliness=text(_get(raw, "timeliness", "identifier")),
            schedule_continuous=_bool(get("scheduleContinuous")),
            primary_org_id=text(_get(raw, "primaryOrg", "id")),
        )

    def named(self, kind: type[_Named], raw: Any) -> _Named | None:
        """A ``Status`` or ``Phase`` from its ``{identifier, name}`` object."""
        if not isinstance(raw, dict):
            return None
        key = (kind, raw.get("identifier"), raw.get("name"))
        return self._once(key, _named, kind, raw)  # type: ignore[no-any-return]

    def parties(self, raw: Any) -> tuple[ResponsibleParty, ...] | None:
        if not isinstance(raw, list):
            return None
        found = []
        for item in raw:
            org = item.get("organization") if isinstance(item, dict) else None
            if not isinstance(org, dict) or org.get("id") is None:
                continue
            key = (ResponsibleParty, org["id"], org.get("name"), item.get("role"))
            found.append(self._once(key, _party, item, org))
        return tuple(found)

    def _once(self, key: tuple[Any, ...], build: Callable[..., Any], *args: Any) -> Any:
        try:
            found = self.shared.get(key)
        except TypeError:  # an unhashable value in the data: nothing to share
            return build(*args)
        if found is None:
            found = self.shared[key] = build(*args)
        return found


_Named = TypeVar("_Named", Status, Phase)


def _named(kind: type[_Named], raw: dict[str, Any]) -> _Named:
    return kind(text(raw.get("identifier")), clean(text(raw.get("name"))))


def _party(item: dict[str, Any], org: dict[str, Any]) -> ResponsibleParty:
    return ResponsibleParty(
        organization_id=str(org["id"]),
        organization_name=clean(text(org.get("name"))),
        role=text(item.get("role")),
    )


def organization(raw: dict[str, Any], action_count: int | None) -> Organization:
    return Organization(
        id=text(raw.get("id")),
        name=clean(text(raw.get("name"))),
        action_count=action_count,
        parent_id=text(_get(raw, "parent", "id")),
        abbreviation=clean(text(raw.get("abbreviation"))) or None,
    )


def task_counts(tasks: Iterable[Task], now: datetime) -> TaskCounts:
    """Counts as the platform's task bar computes them.

    Cancelled tasks do not count; an open task is late when its due date (a
    date-only value, read as UTC midnight, as the UI's ``new Date(dueAt)`` does) is
    before ``now``.
    """
    total = completed = late = 0
    today = now.astimezone(UTC)
    for item in tasks:
        state = item.state
        if state == "COMPLETED":
            total += 1
            completed += 1
        elif state in OPEN_TASK_STATES:
            total += 1
            due = item.due_at
            if due is not None:
                late += datetime(due.year, due.month, due.day, tzinfo=UTC) < today
    return TaskCounts(
        total=total, completed=completed, late=late, on_time=total - completed - late
    )


def plan_context(plans: list[dict[str, Any]]) -> PlanContext | None:
    """The plan's context from the plan objects a page or an answer carries.

    Each value comes from the first object that has it: the UI's plan context,
    the page's own query and the layout each ask for part of it.
    """
    if not plans:
        return None

    def first(key: str) -> Any:
        for plan in plans:
            value = plan.get(key)
            if value not in (None, [], ""):
                return value
        return None

    classes = tuple(
        TimelinessClass(
            identifier=str(c["identifier"]),
            label=clean(text(c.get("label"))),
            comparison=text(c.get("comparison")),
            days=integer(c.get("days")),
        )
        for c in first("actionTimelinessClasses") or []
        if isinstance(c, dict) and c.get("identifier")
    )
    primary = text(first("primaryLanguage"))
    others = [str(lang) for lang in first("otherLanguages") or []]
    return PlanContext(
        identifier=text(first("identifier") or first("id")),
        name=clean(text(first("name"))),
        primary_language=primary,
        languages=tuple([primary, *others] if primary else others),
        timezone=text(first("timezone")),
        limits=limits(classes),
        statuses=tuple(
            StatusDef(
                identifier=str(s["identifier"]),
                name=clean(text(s.get("name"))),
                is_completed=_bool(s.get("isCompleted")),
            )
            for s in first("actionStatuses") or []
            if isinstance(s, dict) and s.get("identifier")
        ),
        phases=tuple(
            PhaseDef(
                identifier=str(p["identifier"]),
                name=clean(text(p.get("name"))),
                order=integer(p.get("order")),
            )
            for p in first("actionImplementationPhases") or []
            if isinstance(p, dict) and p.get("identifier")
        ),
        timeliness_classes=classes,
    )


def limits(classes: tuple[TimelinessClass, ...]) -> TimelinessLimits | None:
    if not classes:
        return None
    days = {c.identifier: c.days for c in classes}
    defaults = TimelinessLimits()
    return TimelinessLimits(
        target=days.get("OPTIMAL") or defaults.target,
        acceptable=days.get("ACCEPTABLE") or defaults.acceptable,
        stale=days.get("STALE") or defaults.stale,
    )


def task(raw: dict[str, Any]) -> Task:
    return Task(
        id=text(raw.get("id")),
        name=clean(text(raw.get("name"))),
        state=text(raw.get("state")),
        due_at=day(raw.get("dueAt")),
        completed_at=day(raw.get("completedAt")),
    )


def indicators(raw: Any) -> tuple[IndicatorRef, ...] | None:
    """``relatedIndicators`` as references; None when the query did not ask."""
    if not isinstance(raw, list):
        return None
    found = []
    for item in raw:
        indicator = item.get("indicator") if isinstance(item, dict) else None
        if isinstance(indicator, dict) and indicator.get("id") is not None:
            found.append(
                IndicatorRef(str(indicator["id"]), clean(text(indicator.get("name"))))
            )
    return tuple(found)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _get(raw: dict[str, Any], key: str, inner: str) -> Any:
    value = raw.get(key)
    return value.get(inner) if isinstance(value, dict) else None


def text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def integer(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def day(value: Any) -> date | None:
    # Plans repeat their dates (start, end, due dates): parse each once.
    return _day(value) if type(value) is str else None


def iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return None
