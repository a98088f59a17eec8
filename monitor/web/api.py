"""The JSON API: the same history as the pages, for scripts and other tools.

Lists are paginated with ``limit`` and ``offset``; a page says its ``total`` and
links the ``next`` and ``prev`` pages (also in a ``Link`` header). Every answer has
an ETag and Last-Modified, so a poller that sends them back gets 304 while nothing
changed. The description is served at ``/api/openapi.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.web import openapi, queries
from monitor.web.http import (
    BadParameter,
    bool_param,
    found,
    int_param,
    list_param,
    not_modified,
    not_modified_since,
    respond,
    text_param,
    time_param,
)
from monitor.web.links import Links
from monitor.web.queries import (
    ActionFilters,
    ActionView,
    ChangeFilters,
    ChangeView,
    CheckSummary,
    OrganizationView,
    Page,
    SourceHealth,
    VersionView,
)
from storage.events import EventKind

T = TypeVar("T")

JSON = "application/json"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def routes() -> list[Route]:
    get = ["GET"]
    return [
        Route("/api/openapi.json", openapi_document, methods=get),
        Route("/api/sources", sources, methods=get),
        Route("/api/sources/{source}", source, methods=get),
        Route("/api/sources/{source}/organizations", organizations, methods=get),
        Route("/api/sources/{source}/actions/{action}", action, methods=get),
        Route("/api/sources/{source}/actions/{action}/history", history, methods=get),
        Route("/api/actions", actions, methods=get),
        Route("/api/changes", changes, methods=get),
    ]


def openapi_document(request: Request) -> Response:
    body = _dump(openapi.document(Links.of(request).root))
    return respond(request, body, JSON, None)


def sources(request: Request) -> Response:
    links = Links.of(request)
    return _answer(
        request,
        None,
        lambda session: {
            "items": [source_json(s, links) for s in queries.sources(session)]
        },
    )


def source(request: Request) -> Response:
    links, name = Links.of(request), request.path_params["source"]

    def build(session: Any) -> dict[str, Any]:
        health = found(queries.source(session, name), f"no source named {name!r}")
        data = source_json(health, links)
        data["checks"] = [check_json(c) for c in queries.recent_checks(session, name)]
        return data

    return _answer(request, name, build)


def organizations(request: Request) -> Response:
    links, name = Links.of(request), request.path_params["source"]

    def build(session: Any) -> dict[str, Any]:
        found(queries.source(session, name), f"no source named {name!r}")
        rows = queries.organizations(session, name)
        return {"items": [organization_json(o, links) for o in rows]}

    return _answer(request, name, build)


def action(request: Request) -> Response:
    links = Links.of(request)
    name, action_id = request.path_params["source"], request.path_params["action"]
    stale_days = _stale_days(request)

    def build(session: Any) -> dict[str, Any]:
        view = queries.action(session, name, action_id, stale_days)
        return action_json(_missing_action(view, name, action_id), links)

    return _answer(request, name, build)


def history(request: Request) -> Response:
    links = Links.of(request)
    name, action_id = request.path_params["source"], request.path_params["action"]
    stale_days = _stale_days(request)

    def build(session: Any) -> dict[str, Any]:
        seen = _missing_action(
            queries.action_history(session, name, action_id, stale_days),
            name,
            action_id,
        )
        return {
            "action": action_json(seen.action, links),
            "versions": [version_json(v) for v in seen.versions],
            "changes": [change_json(c, links) for c in seen.changes],
        }

    return _answer(request, name, build)


def actions(request: Request) -> Response:
    links = Links.of(request)
    filters = ActionFilters(
        source=text_param(request, "source"),
        organization=_per_source(request, "organization"),
        statuses=list_param(request, "status"),
        stale=bool_param(request, "stale"),
        stale_days=_stale_days(request),
        include_removed=bool_param(request, "removed") or False,
    )
    limit, offset = _paging(request)

    def build(session: Any) -> dict[str, Any]:
        _known(session, filters.source, filters.organization)
        page = queries.actions(session, filters, limit=limit, offset=offset)
        return _page_json(request, page, lambda a: action_json(a, links))

    return _answer(request, filters.source, build)


def changes(request: Request) -> Response:
    links = Links.of(request)
    order = request.query_params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadParameter("order", order, "asc (oldest first) or desc (newest first)")
    filters = ChangeFilters(
        source=text_param(request, "source"),
        organization=_per_source(request, "organization"),
        action=_per_source(request, "action"),
        kinds=_kinds(request),
        since=time_param(request, "since"),
        until=time_param(request, "until"),
        newest_first=order == "desc",
    )
    limit, offset = _paging(request)

    def build(session: Any) -> dict[str, Any]:
        _known(session, filters.source, filters.organization, filters.action)
        page = queries.changes(session, filters, limit=limit, offset=offset)
        return _page_json(request, page, lambda c: change_json(c, links))

    return _answer(request, filters.source, build)


# -- answering -----------------------------------------------------------------------


def _answer(
    request: Request, scope: str | None, build: Callable[[Any], dict[str, Any]]
) -> Response:
    site = request.app.state.site
    now = site.clock()
    with site.session() as session:
        modified = queries.last_modified(session, scope)
        if not_modified_since(request, modified, now):
            return not_modified(modified or now)
        data = build(session)
    extra = {}
    link = _link_header(data)
    if link:
        extra["link"] = link
    return respond(request, _dump(data), JSON, modified, now=now, extra=extra)


def _dump(data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate (from a page's escaped JSON) has no UTF-8 form: a "?" beats
    # an error for the whole answer.
    return text.encode("utf-8", "replace")


def _link_header(data: dict[str, Any]) -> str:
    parts = [f'<{data[rel]}>; rel="{rel}"' for rel in ("next", "prev") if data.get(rel)]
    return ", ".join(parts)


def _paging(request: Request) -> tuple[int, int]:
    return (
        int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        int_param(request, "offset", 0, 0, 10**9),
    )


def _stale_days(request: Request) -> int | None:
    if not request.query_params.get("stale_days"):
        return None  # the source's own line
    return int_param(request, "stale_days", queries.STALE_DAYS, 1, 100_000)


def _known(
    session: Any,
    source: str | None,
    organization: str | None = None,
    action: str | None = None,
) -> None:
    """A 404 for a filter naming what the history does not hold: a misspelt
    source must not read as "nothing changed there"."""
    if source is None:
        return
    found(queries.source(session, source), f"no source named {source!r}")
    if organization is not None:
        found(
            queries.organization(session, source, organization),
            f"no organization {organization!r} in source {source!r}",
        )
    if action is not None:
        _missing_action(queries.action(session, source, action), source, action)


def _kinds(request: Request) -> tuple[str, ...]:
    kinds = list_param(request, "kind")
    known = [kind.value for kind in EventKind]
    for kind in kinds:
        if kind not in known:
            raise BadParameter("kind", kind, "one of " + ", ".join(known))
    return kinds


def _per_source(request: Request, name: str) -> str | None:
    # Platform ids are only unique within one site: organization 2 of one city is
    # not organization 2 of another.
    value = text_param(request, name)
    if value is not None and text_param(request, "source") is None:
        raise BadParameter(name, value, "to be given together with source")
    return value


def _missing_action(value: T | None, source_name: str, action_id: str) -> T:
    return found(value, f"no action {action_id!r} in source {source_name!r}")


def _page_json(
    request: Request, page: Page[T], item: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    def at(offset: int) -> str:
        return str(request.url.include_query_params(offset=offset, limit=page.limit))

    first = page.offset == 0
    return {
        "items": [item(i) for i in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": at(page.offset + page.limit) if page.has_next else None,
        "prev": None if first else at(max(0, page.offset - page.limit)),
    }


# -- records as JSON -----------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def source_json(s: SourceHealth, links: Links) -> dict[str, Any]:
    return {
        "name": s.name,
        "kind": s.kind,
        "health": s.health,
        "last_check_at": _time(s.last_check_at),
        "last_outcome": s.last_outcome,
        "last_change_at": _time(s.last_change_at),
        "next_check_at": _time(s.next_check_at),
        "consecutive_failures": s.consecutive_failures,
        "failing": {"reason": s.failing_reason, "pages": list(s.failing_pages)}
        if s.failing
        else None,
        "layout_anomaly": {"reason": s.anomaly_reason, "pages": list(s.anomaly_pages)}
        if s.layout_anomaly
        else None,
        "actions": s.actions,
        "removed_actions": s.removed_actions,
        "organizations": s.organizations,
        "links": {
            "html": links.absolute(links.source(s.name)),
            "feed": links.absolute(links.source_feed(s.name)),
            "actions": links.absolute(links.api("actions")) + f"?source={_q(s.name)}",
            "changes": links.absolute(links.api("changes")) + f"?source={_q(s.name)}",
        },
    }


def check_json(c: CheckSummary) -> dict[str, Any]:
    return {
        "id": c.id,
        "observed_at": _time(c.observed_at),
        "finished_at": _time(c.finished_at),
        "outcome": c.outcome,
        "pages": c.pages,
        "changes": c.events,
    }


def organization_json(o: OrganizationView, links: Links) -> dict[str, Any]:
    return {
        "source": o.source,
        "id": o.id,
        "name": o.name,
        "names": o.names,
        "action_count": o.action_count,
        "parent": None
        if o.parent is None
        else {"id": o.parent.id, "name": o.parent.name},
        "first_seen_at": _time(o.first_seen_at),
        "last_seen_at": _time(o.last_seen_at),
        "links": {
            "html": links.absolute(links.organization(o.source, o.id)),
            "feed": links.absolute(links.organization_feed(o.source, o.id)),
        },
    }


def action_json(a: ActionView, links: Links) -> dict[str, Any]:
    return {
        "source": a.source,
        "id": a.id,
        "identifier": a.identifier,
        "name": a.name,
        "names": a.names,
        "url": a.url,
        "status": a.status,
        "status_label": a.status_label,
        "phase": a.phase,
        "phase_label": a.phase_label,
        "tasks": {"total": a.tasks_total, "completed": a.tasks_completed},
        "completion": a.completion,
        "updated_at": {
            "exact": a.updated_exact,
            "earliest": a.updated_earliest,
            "latest": a.updated_latest,
        },
        "days_since_update": a.days_since_update,
        "stale": a.stale,
        "stale_after_days": a.stale_line,
        "organizations": [{"id": o.id, "name": o.name} for o in a.organizations],
        "responsible": [
            {"organization_id": r.organization_id, "name": r.name, "role": r.role}
            for r in a.responsible
        ],
        "merged_with": a.merged_with,
        "first_seen_at": _time(a.first_seen_at),
        "last_seen_at": _time(a.last_seen_at),
        "removed_at": _time(a.removed_at),
        "links": {
            "html": links.absolute(links.action(a.source, a.id)),
            "feed": links.absolute(links.action_feed(a.source, a.id)),
            "history": links.absolute(
                links.api("sources", a.source, "actions", a.id, "history")
            ),
        },
    }


def version_json(v: VersionView) -> dict[str, Any]:
    return {
        "check_id": v.check_id,
        "valid_from": _time(v.valid_from),
        "valid_to": _time(v.valid_to),
        "changed_fields": None if v.changed_fields is None else list(v.changed_fields),
        "status": v.status,
        "phase": v.phase,
        "state": v.state,
    }


def change_json(c: ChangeView, links: Links) -> dict[str, Any]:
    return {
        "id": c.id,
        "entry_id": c.entry_id,
        "kind": c.kind,
        "observed_at": _time(c.observed_at),
        "source": c.source,
        "action_id": c.action_id,
        "action_identifier": c.action_identifier,
        "organization_id": c.organization_id,
        "name": c.name,
        "field": c.field,
        "before": c.before,
        "after": c.after,
        "url": c.url,
        "detail": c.detail,
        "text": c.text,
        "links": {"html": links.absolute(links.change_page(c))},
    }


def _q(value: str) -> str:
    return quote(value, safe="")
