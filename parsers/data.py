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

from parsers import raw as raw_shapes
from parsers.raw import boolean, integer, text
from parsers.records import (
    ID_FROM_IDENTIFIER,
    Action,
    Anomaly,
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


def action(
    raw: dict[str, Any],
    now: datetime,
    url_for: UrlFor,
    problems: raw_shapes.Problems | None = None,
) -> Action:
    """One ``Action`` object as a record; ``now`` judges late tasks.

    Values that do not read are None in the record and, given ``problems``, said
    there: a changed format must not pass for a value the page left out.
    """
    read = raw_shapes.action(raw, problems)
    if read.id is None and problems is not None:
        problems.append(f"an action without an id: {read.identifier!r}")
    return _Builder(now, url_for, problems).action(read)


def actions(
    raws: Iterable[Any],
    now: datetime,
    url_for: UrlFor,
    problems: raw_shapes.Problems | None = None,
) -> tuple[Action, ...]:
    """The action objects among ``raws`` (dicts or ``parsers.raw`` structs)."""
    build = _Builder(now, url_for, problems).action
    found = []
    for raw in raw_shapes.actions(raws, problems):
        if raw.id is not None:
            found.append(build(raw))
        elif problems is not None:
            problems.append(f"an action without an id: {raw.identifier!r}")
    return tuple(found)


class _Builder:
    """Builds the records of one list of actions.

    A plan's actions repeat a handful of statuses, phases and responsible parties:
    each distinct one is built once per list and shared (records are immutable).
    """

    def __init__(
        self, now: datetime, url_for: UrlFor, problems: raw_shapes.Problems | None
    ) -> None:
        self.now = now.astimezone(UTC)
        self.url_for = url_for
        self.problems = problems
        self.shared: dict[tuple[Any, ...], Any] = {}

    def action(self, raw: raw_shapes.RawAction) -> Action:
        identifier = raw.identifier
        tasks = None if raw.tasks is None else tuple([_task(t) for t in raw.tasks])
        updated = iso(raw.updatedAt)
        start, end = day(raw.startDate), day(raw.endDate)
        merged, superseded = raw.mergedWith, raw.supersededBy
        if self.problems is not None and _unread(raw, updated, start, end, tasks):
            self._say_unread(raw, updated)
        return Action(
            # Without its id (said in the problems), keyed as the markup keys it.
            id=ID_FROM_IDENTIFIER + (identifier or "")
            if raw.id is None
            else str(raw.id),
            identifier=identifier,
            name=clean(raw.name),
            url=self.url_for(identifier),
            status=self.named(Status, raw.status),
            phase=self.named(Phase, raw.implementationPhase),
            tasks=None if tasks is None else task_counts(tasks, self.now),
            updated_at=TimeRange.at(updated) if updated else None,
            completion=raw.completion,
            task_list=tasks,
            responsible_parties=self.parties(raw.responsibleParties),
            status_summary=_identifier(raw.statusSummary),
            merged_with=_id(merged),
            start_date=start,
            end_date=end,
            layer=Layer.EMBEDDED,
            merged_with_identifier=_identifier(merged),
            superseded_by=_id(superseded),
            superseded_by_identifier=_identifier(superseded),
            related_indicators=_indicators(raw.relatedIndicators),
            timeliness=_identifier(raw.timeliness),
            schedule_continuous=raw.scheduleContinuous,
            primary_org_id=_id(raw.primaryOrg),
        )

    def _say_unread(self, raw: raw_shapes.RawAction, updated: datetime | None) -> None:
        """Say which dates the page gives in a form that does not read."""
        assert self.problems is not None
        unread = [("updatedAt", raw.updatedAt)] if updated is None else []
        unread += [("startDate", raw.startDate), ("endDate", raw.endDate)]
        for task in raw.tasks or ():
            unread.append((f"task {task.id} dueAt", task.dueAt))
            unread.append((f"task {task.id} completedAt", task.completedAt))
        self.problems += [
            f"action {raw.id}: {key} is {value[:40]!r}"
            for key, value in unread
            if value is not None and (key == "updatedAt" or day(value) is None)
        ]

    def named(self, kind: type[_Named], raw: raw_shapes.Named | None) -> _Named | None:
        """A ``Status`` or ``Phase`` from its ``{identifier, name}`` object."""
        if raw is None:
            return None
        key = (kind, raw.identifier, raw.name)
        found = self.shared.get(key)
        if found is None:
            found = self.shared[key] = kind(raw.identifier, clean(raw.name))
        return found

    def parties(
        self, raw: list[raw_shapes.Party] | None
    ) -> tuple[ResponsibleParty, ...] | None:
        if raw is None:
            return None
        found = []
        for party in raw:
            org = party.organization
            if org is None or org.id is None:
                continue
            key = (ResponsibleParty, org.id, org.name, party.role)
            shared = self.shared.get(key)
            if shared is None:
                shared = self.shared[key] = ResponsibleParty(
                    str(org.id), clean(org.name), party.role
                )
            found.append(shared)
        return tuple(found)


_Named = TypeVar("_Named", Status, Phase)


def _unread(
    raw: raw_shapes.RawAction,
    updated: datetime | None,
    start: date | None,
    end: date | None,
    tasks: tuple[Task, ...] | None,
) -> bool:
    """Whether a date the page gives did not read (what was read is None)."""
    if (
        (updated is None and raw.updatedAt is not None)
        or (start is None and raw.startDate is not None)
        or (end is None and raw.endDate is not None)
    ):
        return True
    return tasks is not None and any(
        (task.due_at is None and given.dueAt is not None)
        or (task.completed_at is None and given.completedAt is not None)
        for task, given in zip(tasks, raw.tasks or (), strict=True)
    )


def _task(raw: raw_shapes.RawTask) -> Task:
    return Task(
        id=None if raw.id is None else str(raw.id),
        name=clean(raw.name),
        state=raw.state,
        due_at=day(raw.dueAt),
        completed_at=day(raw.completedAt),
    )


def _indicators(
    raw: list[raw_shapes.IndicatorLink] | None,
) -> tuple[IndicatorRef, ...] | None:
    """``relatedIndicators`` as references; None when the query did not ask."""
    if not raw:
        return None if raw is None else ()
    return tuple(
        IndicatorRef(str(link.indicator.id), clean(link.indicator.name))
        for link in raw
        if link.indicator is not None and link.indicator.id is not None
    )


def _id(raw: raw_shapes.Ref | None) -> str | None:
    return None if raw is None or raw.id is None else str(raw.id)


def _identifier(raw: raw_shapes.Ref | None) -> str | None:
    return None if raw is None else raw.identifier


def unreadable(problems: list[str]) -> Anomaly:
    """One anomaly for the embedded values that did not read: the format of a field
    changed, or the page is damaged, and its records cannot be trusted as they are."""
    shown = "; ".join(problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return Anomaly(
        "unreadable_values",
        f"{len(problems)} values in the embedded data do not read: {shown}{more}",
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

    def listed(key: str) -> list[Any]:
        value = first(key)  # a number here was a TypeError out of the parse
        return value if isinstance(value, list) else []

    classes = tuple(
        TimelinessClass(
            identifier=str(c["identifier"]),
            label=clean(text(c.get("label"))),
            comparison=text(c.get("comparison")),
            days=integer(c.get("days")),
        )
        for c in listed("actionTimelinessClasses")
        if isinstance(c, dict) and c.get("identifier")
    )
    primary = text(first("primaryLanguage"))
    others = [lang for lang in listed("otherLanguages") if type(lang) is str]
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
                is_completed=boolean(s.get("isCompleted")),
            )
            for s in listed("actionStatuses")
            if isinstance(s, dict) and s.get("identifier")
        ),
        phases=tuple(
            PhaseDef(
                identifier=str(p["identifier"]),
                name=clean(text(p.get("name"))),
                order=integer(p.get("order")),
            )
            for p in listed("actionImplementationPhases")
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


def _get(raw: dict[str, Any], key: str, inner: str) -> Any:
    value = raw.get(key)
    return value.get(inner) if isinstance(value, dict) else None


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
        return _aware(value)
    except ValueError:
        return None


def utc_iso(value: Any) -> datetime | None:
    """``iso``, in UTC; None also for a time with no UTC equivalent (within a day
    of the calendar's ends), which no relative time can be read against."""
    moment = iso(value)
    try:
        return moment.astimezone(UTC) if moment is not None else None
    except OverflowError:
        return None


def utc_time(text: str) -> datetime:
    """A time someone gives (an option, a query, a WARC-Date), read as ``iso``
    reads one: ``ValueError`` if it is not ISO-8601, ``OverflowError`` if it has no
    UTC equivalent (a time within a day of the calendar's ends), which is what the
    history is kept and compared in."""
    moment = _aware(text)
    moment.astimezone(UTC)
    return moment


def _aware(text: str) -> datetime:
    """An ISO-8601 time; a naive one is UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
