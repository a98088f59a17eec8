"""Hand-made parsed pages for change-detection tests: a few actions, exact values.

The series fixture is the real thing; these pages let one test move one value at a
time (a status flipping, an action vanishing, a task falling due).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from monitor.pipeline import PageObservation
from parsers.records import (
    Action,
    Anomaly,
    Organization,
    Outcome,
    PageKind,
    ParsedPage,
    PlanContext,
    Status,
    Task,
    TaskCounts,
    TimelinessLimits,
    TimeRange,
)

SITE = "https://plan.example"


@dataclass(frozen=True, slots=True)
class Item:
    """One action as a test wants it on the page."""

    id: str
    status: str = "on_time"
    name: str = ""
    updated: datetime | None = None
    tasks: tuple[tuple[str, str, date], ...] = ()  # (id, state, due)
    summary: str = "ON_TIME"
    extra: dict[str, object] = field(default_factory=dict)


def action(item: Item) -> Action:
    tasks = tuple(
        Task(id=tid, name=f"task {tid}", state=state, due_at=due, completed_at=None)
        for tid, state, due in item.tasks
    )
    completed = sum(1 for t in tasks if t.state == "COMPLETED")
    return Action(
        id=item.id,
        identifier=item.id,
        name=item.name or f"Action {item.id}",
        url=f"{SITE}/actions/{item.id}",
        status=Status(item.status, item.status.replace("_", " ").title()),
        phase=None,
        tasks=TaskCounts(len(tasks), completed, None, None),
        updated_at=TimeRange.at(item.updated) if item.updated else None,
        completion=None,
        task_list=tasks,
        status_summary=item.summary,
    )


def org_page(
    org_id: str,
    items: list[Item],
    seen: datetime,
    *,
    language: str = "en",
    limits: TimelinessLimits | None = None,
    timezone: str | None = None,
) -> PageObservation:
    prefix = "" if language == "fi" else f"/{language}"
    url = f"{SITE}{prefix}/organizations/{org_id}"
    page = ParsedPage(
        kind=PageKind.ORGANIZATION,
        outcome=Outcome.OK,
        url=url,
        language=language,
        observed_at=seen,
        organization=Organization(org_id, f"Org {org_id}", len(items)),
        actions=tuple(action(i) for i in items),
        plan=PlanContext("plan", "Plan", "fi", ("fi", "en"), timezone, limits),
    )
    return PageObservation(
        url=url,
        fetched_at=seen,
        fetch_outcome="ok",
        status_code=200,
        body=None,
        page=page,
    )


def not_found(url: str, seen: datetime) -> PageObservation:
    page = ParsedPage(
        kind=PageKind.NOT_FOUND,
        outcome=Outcome.NOT_FOUND,
        url=url,
        language="en",
        observed_at=seen,
        organization=None,
        actions=(),
    )
    return PageObservation(url, seen, "ok", 200, None, page=page)


def failed(url: str, seen: datetime) -> PageObservation:
    return PageObservation(url, seen, "network_error", None, None, error="refused")


def unrecognised(url: str, seen: datetime) -> PageObservation:
    page = ParsedPage(
        kind=PageKind.UNKNOWN,
        outcome=Outcome.LAYOUT_UNRECOGNISED,
        url=url,
        language="en",
        observed_at=seen,
        organization=None,
        actions=(),
        anomalies=(Anomaly("layout_unrecognised", "no action table"),),
    )
    return PageObservation(url, seen, "ok", 200, None, page=page)


def with_status(items: list[Item], action_id: str, status: str) -> list[Item]:
    return [replace(i, status=status) if i.id == action_id else i for i in items]
