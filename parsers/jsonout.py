"""The documented JSON form of a parsed page (``planwatch parse --json``).

Later versions may add keys; existing keys keep their meaning.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from parsers.records import Action, ParsedPage, PlanContext, TimeRange


def page_to_json(page: ParsedPage) -> dict[str, Any]:
    org = page.organization
    return {
        "kind": page.kind.value,
        "outcome": page.outcome.value,
        "url": page.url,
        "language": page.language,
        "observed_at": _iso(page.observed_at),
        "layer": page.layer.value if page.layer else None,
        "organization": (
            None
            if org is None
            else {
                "id": org.id,
                "name": org.name,
                "action_count": org.action_count,
                "parent_id": org.parent_id,
                "abbreviation": org.abbreviation,
            }
        ),
        "actions": [action_to_json(a) for a in page.actions],
        "anomalies": [{"code": a.code, "detail": a.detail} for a in page.anomalies],
        "seen": page.extra.get("seen"),
        "plan": plan_to_json(page.plan),
    }


def plan_to_json(plan: PlanContext | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "identifier": plan.identifier,
        "name": plan.name,
        "primary_language": plan.primary_language,
        "languages": list(plan.languages),
        "timezone": plan.timezone,
        "statuses": [
            {"identifier": s.identifier, "name": s.name, "is_completed": s.is_completed}
            for s in plan.statuses
        ],
        "phases": [
            {"identifier": p.identifier, "name": p.name, "order": p.order}
            for p in plan.phases
        ],
        "timeliness_classes": [
            {
                "identifier": c.identifier,
                "label": c.label,
                "comparison": c.comparison,
                "days": c.days,
            }
            for c in plan.timeliness_classes
        ],
    }


def action_to_json(action: Action) -> dict[str, Any]:
    tasks = action.tasks
    return {
        # The platform id; null where the page shows none ("key" then stands in).
        "id": action.platform_id,
        "key": action.id,
        "identifier": action.identifier,
        "name": action.name,
        "url": action.url,
        "status": (
            None
            if action.status is None
            else {"identifier": action.status.identifier, "label": action.status.label}
        ),
        "phase": (
            None
            if action.phase is None
            else {"identifier": action.phase.identifier, "label": action.phase.label}
        ),
        "tasks": (
            None
            if tasks is None
            else {
                "total": tasks.total,
                "completed": tasks.completed,
                "late": tasks.late,
                "on_time": tasks.on_time,
            }
        ),
        "updated_at": _range(action.updated_at),
        "completion": action.completion,
        "merged_with": action.merged_with,
        "responsible_parties": (
            None
            if action.responsible_parties is None
            else [
                {
                    "organization_id": p.organization_id,
                    "name": p.organization_name,
                    "role": p.role,
                }
                for p in action.responsible_parties
            ]
        ),
        "task_list": (
            None
            if action.task_list is None
            else [
                {
                    "id": t.id,
                    "name": t.name,
                    "state": t.state,
                    "due_at": _iso(t.due_at),
                    "completed_at": _iso(t.completed_at),
                }
                for t in action.task_list
            ]
        ),
        "layer": action.layer.value,
        "status_summary": action.status_summary,
        "timeliness": action.timeliness,
        "start_date": _iso(action.start_date),
        "end_date": _iso(action.end_date),
        "schedule_continuous": action.schedule_continuous,
        "primary_org_id": action.primary_org_id,
        "merged_with_identifier": action.merged_with_identifier,
        "superseded_by": action.superseded_by,
        "superseded_by_identifier": action.superseded_by_identifier,
        "related_indicators": (
            None
            if action.related_indicators is None
            else [{"id": i.id, "name": i.name} for i in action.related_indicators]
        ),
    }


def _range(value: TimeRange | None) -> dict[str, str | None] | None:
    if value is None:
        return None
    return {
        "exact": _iso(value.exact),
        "earliest": _iso(value.earliest),
        "latest": _iso(value.latest),
    }


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()
