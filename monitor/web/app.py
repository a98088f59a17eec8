"""``planwatch serve``: a read-only web view, JSON API and Atom feeds of the history.

Routes (all GET and HEAD; every other method is refused with 405)::

    /                                   recent changes across all sources
    /sources                            source health
    /sources/{source}                   one source: health, organizations, actions
    /sources/{source}/organizations/{id}   an organization's actions at a glance
    /sources/{source}/actions/{id}      one action's timeline
    /feeds/changes.atom                 and the same per source, organization, action
    /api/...                            JSON (described at /api/openapi.json)

Everything shown was scraped from sites planwatch does not control: it is escaped
by the templates (HTML and XML autoescaping), links to the sites are only made for
http(s) URLs, and no page carries a script.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.web import api, queries
from monitor.web.chart import css_token, timeline_chart
from monitor.web.http import (
    BadParameter,
    SecurityHeaders,
    found,
    int_param,
    not_modified,
    not_modified_since,
    respond,
)
from monitor.web.links import Links, is_web_url
from monitor.web.queries import ActionFilters, ActionView, ChangeFilters, ChangeView
from storage.db import Database, open_existing

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
PAGE_SIZE = 50
FEED_SIZE = 50
SECTION_SIZE = 20  # changes shown on a source's or organization's page
HEALTH_KINDS = (
    "source_failing",
    "source_recovered",
    "layout_anomaly",
    "layout_restored",
)

# Characters XML 1.0 cannot carry at all, and lone surrogates UTF-8 cannot encode:
# scraped text could hold them, and one would make a whole feed unreadable.
_UNREPRESENTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]"
)


def open_read_only(target: str) -> Database:
    """Open an existing planwatch database so that no statement can change it."""
    database = open_existing(target)
    event.listen(database.engine, "connect", _refuse_writes)
    database.engine.dispose()  # connections opened before the listener go away
    return database


def _refuse_writes(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    if hasattr(connection, "create_function"):  # sqlite3
        cursor.execute("PRAGMA query_only = ON")
    else:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        connection.commit()
    cursor.close()


class Site:
    """What every handler needs: database sessions and the templates."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        # Reader sessions never ask SQLite for the write lock, which a read-only
        # connection could not take anyway.
        self.sessions: Callable[[], Session] = database.reader
        self.clock = clock
        self.templates = _environment()

    def session(self) -> Session:
        return self.sessions()

    def render(self, name: str, request: Request, **context: Any) -> bytes:
        template = self.templates.get_template(name)
        return template.render(links=Links.of(request), **context).encode("utf-8")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.web", "templates"),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        undefined=StrictUndefined,
        finalize=_clean,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        iso=lambda m: m.isoformat(),
        when=lambda m: m.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        day=lambda m: m.astimezone(UTC).strftime("%Y-%m-%d"),
        rfc3339=lambda m: m.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        css=css_token,
        external=is_web_url,
        updated=_updated,
    )
    return env


def _clean(value: Any) -> Any:
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _UNREPRESENTABLE.sub("", value)


def _updated(action: ActionView) -> str:
    if action.updated_exact:
        return action.updated_exact[:10]
    if action.updated_earliest and action.updated_latest:
        low, high = action.updated_earliest[:10], action.updated_latest[:10]
        return low if low == high else f"between {low} and {high}"
    return "unknown"


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


# -- pages ---------------------------------------------------------------------------


def changes_page(request: Request) -> Response:
    site, links = _site(request), Links.of(request)
    offset = int_param(request, "offset", 0, 0, 10**9)
    with site.session() as session:
        modified = queries.last_modified(session)
        if not_modified_since(request, modified, site.clock()):
            return not_modified(modified or site.clock())
        page = queries.changes(session, ChangeFilters(), limit=PAGE_SIZE, offset=offset)
        count = len(queries.sources(session))
    body = site.render(
        "changes.html",
        request,
        title="Recent changes",
        feed_title="planwatch: all changes",
        feed_url=links.feed(),
        page=page,
        source_count=count,
        prev_url=_offset_url(request, page.offset - PAGE_SIZE) if offset else None,
        next_url=_offset_url(request, offset + PAGE_SIZE) if page.has_next else None,
    )
    return respond(request, body, HTML, modified, now=site.clock())


def sources_page(request: Request) -> Response:
    site, links = _site(request), Links.of(request)
    with site.session() as session:
        modified = queries.last_modified(session)
        if not_modified_since(request, modified, site.clock()):
            return not_modified(modified or site.clock())
        found = queries.sources(session)
    body = site.render(
        "sources.html",
        request,
        title="Source health",
        feed_title="planwatch: all changes",
        feed_url=links.feed(),
        sources=found,
    )
    return respond(request, body, HTML, modified, now=site.clock())


def source_page(request: Request) -> Response:
    site, links = _site(request), Links.of(request)
    name = request.path_params["source"]
    with site.session() as session:
        modified = queries.last_modified(session, name)
        if not_modified_since(request, modified, site.clock()):
            return not_modified(modified or site.clock())
        health = found(queries.source(session, name), f"no source named {name!r}")
        organizations = queries.organizations(session, name)
        actions = queries.actions(
            session, ActionFilters(source=name), limit=10**6, offset=0
        )
        recent = queries.changes(
            session, ChangeFilters(source=name), limit=SECTION_SIZE, offset=0
        )
        health_events = queries.changes(
            session,
            ChangeFilters(source=name, kinds=HEALTH_KINDS),
            limit=SECTION_SIZE,
            offset=0,
        )
        checks = queries.recent_checks(session, name)
    body = site.render(
        "source.html",
        request,
        title=name,
        feed_title=f"planwatch: changes in {name}",
        feed_url=links.source_feed(name),
        source=health,
        organizations=organizations,
        actions=actions.items,
        changes=recent.items,
        health_events=health_events.items,
        checks=checks,
    )
    return respond(request, body, HTML, modified, now=site.clock())


def organization_page(request: Request) -> Response:
    site, links = _site(request), Links.of(request)
    name, org_id = request.path_params["source"], request.path_params["org"]
    with site.session() as session:
        modified = queries.last_modified(session, name)
        if not_modified_since(request, modified, site.clock()):
            return not_modified(modified or site.clock())
        org = found(
            queries.organization(session, name, org_id),
            f"no organization {org_id!r} in source {name!r}",
        )
        actions = queries.actions(
            session,
            ActionFilters(source=name, organization=org_id),
            limit=10**6,
            offset=0,
        ).items
        recent = queries.changes(
            session,
            ChangeFilters(source=name, organization=org_id),
            limit=SECTION_SIZE,
            offset=0,
        )
    title = org.name or f"organization {org_id}"
    body = site.render(
        "organization.html",
        request,
        title=title,
        feed_title=f"planwatch: changes for {title} ({name})",
        feed_url=links.organization_feed(name, org_id),
        org=org,
        actions=actions,
        status_counts=_status_counts(actions),
        stale_count=sum(1 for a in actions if a.stale),
        stale_days=actions[0].stale_line if actions else queries.STALE_DAYS,
        changes=recent.items,
    )
    return respond(request, body, HTML, modified, now=site.clock())


def action_page(request: Request) -> Response:
    site, links = _site(request), Links.of(request)
    name, action_id = request.path_params["source"], request.path_params["action"]
    with site.session() as session:
        modified = queries.last_modified(session, name)
        if not_modified_since(request, modified, site.clock()):
            return not_modified(modified or site.clock())
        history = found(
            queries.action_history(session, name, action_id),
            f"no action {action_id!r} in source {name!r}",
        )
    action = history.action
    title = f"{action.label}. {action.name or ''}".strip()
    body = site.render(
        "action.html",
        request,
        title=title,
        feed_title=f"planwatch: changes of {title} ({name})",
        feed_url=links.action_feed(name, action_id),
        history=history,
        chart=timeline_chart(history.versions, history.changes, history.observed_until),
    )
    return respond(request, body, HTML, modified, now=site.clock())


def _status_counts(actions: tuple[ActionView, ...]) -> list[tuple[str, str, int]]:
    counts = Counter((a.status or "unknown") for a in actions)
    labels = {
        a.status or "unknown": a.status_label or a.status or "unknown" for a in actions
    }
    return [(key, labels[key], n) for key, n in counts.most_common()]


def _offset_url(request: Request, offset: int) -> str:
    url = request.url.include_query_params(offset=max(offset, 0))
    return f"{url.path}?{url.query}"


# -- feeds ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    change: ChangeView
    title: str
    summary: str
    html_url: str


def all_feed(request: Request) -> Response:
    links = Links.of(request)
    return _feed(
        request,
        ChangeFilters(),
        key="changes",
        scope=None,
        title="planwatch: all changes",
        subtitle="Every change planwatch found on the sites it watches.",
        html_url=links.home(),
    )


def source_feed(request: Request) -> Response:
    links, name = Links.of(request), request.path_params["source"]
    with _site(request).session() as session:
        found(queries.source(session, name), f"no source named {name!r}")
    return _feed(
        request,
        ChangeFilters(source=name),
        key=f"sources/{name}",
        scope=name,
        title=f"planwatch: changes in {name}",
        subtitle=f"Every change planwatch found in {name}.",
        html_url=links.source(name),
    )


def organization_feed(request: Request) -> Response:
    links = Links.of(request)
    name, org_id = request.path_params["source"], request.path_params["org"]
    with _site(request).session() as session:
        org = found(
            queries.organization(session, name, org_id),
            f"no organization {org_id!r} in source {name!r}",
        )
    label = org.name or f"organization {org_id}"
    return _feed(
        request,
        ChangeFilters(source=name, organization=org_id),
        key=f"sources/{name}/organizations/{org_id}",
        scope=name,
        title=f"planwatch: {label} ({name})",
        subtitle=f"Changes to {label} and to the actions it is responsible for.",
        html_url=links.organization(name, org_id),
    )


def action_feed(request: Request) -> Response:
    links = Links.of(request)
    name, action_id = request.path_params["source"], request.path_params["action"]
    with _site(request).session() as session:
        action = found(
            queries.action(session, name, action_id),
            f"no action {action_id!r} in source {name!r}",
        )
    label = f"{action.label}. {action.name or ''}".strip()
    return _feed(
        request,
        ChangeFilters(source=name, action=action_id),
        key=f"sources/{name}/actions/{action_id}",
        scope=name,
        title=f"planwatch: {label} ({name})",
        subtitle=f"Changes of action {label}.",
        html_url=links.action(name, action_id),
    )


def _feed(
    request: Request,
    filters: ChangeFilters,
    *,
    key: str,
    scope: str | None,
    title: str,
    subtitle: str,
    html_url: str,
) -> Response:
    site, links = _site(request), Links.of(request)
    with site.session() as session:
        modified = queries.last_modified(session, scope)
        if not_modified_since(request, modified, site.clock()):
            return not_modified(modified or site.clock())
        page = queries.changes(session, filters, limit=FEED_SIZE, offset=0)
    entries = [
        _Entry(
            change=c,
            title=f"{c.subject}: {c.text}",
            summary=f"{c.source}: {c.subject}, {c.text}",
            html_url=links.absolute(links.change_page(c)),
        )
        for c in page.items
    ]
    newest = page.items[0].observed_at if page.items else None
    updated = newest or modified or datetime(1970, 1, 1, tzinfo=UTC)
    feed = {
        "id": queries.feed_id(key),
        "title": title,
        "subtitle": subtitle,
        "updated": updated,
        "self_url": links.absolute(request.url.path),
        "html_url": links.absolute(html_url),
    }
    body = site.render("feed.xml", request, feed=feed, entries=entries)
    return respond(request, body, ATOM, modified, now=site.clock())


# -- errors --------------------------------------------------------------------------


def _error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None
) -> Response:
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    if path.startswith("/api/") or path == "/api":
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    if path.startswith("/feeds/") or request.method not in ("GET", "HEAD"):
        return PlainTextResponse(message, status_code=status, headers=headers)
    links = Links.of(request)
    body = _site(request).render(
        "error.html",
        request,
        title=f"{status}: {_REASONS.get(status, 'error')}",
        message=message,
        feed_title="planwatch: all changes",
        feed_url=links.feed(),
    )
    return Response(body, status_code=status, media_type=HTML, headers=headers)


_REASONS = {400: "bad request", 404: "not found", 405: "method not allowed"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if exc.status_code != 405 else "this view is read-only"
    return _error(request, exc.status_code, message, exc.headers)


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc), None)


class _NoNul:
    """A path with a NUL character names nothing planwatch stores, and PostgreSQL
    refuses one in a query (a 500): it is not found, before any query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            response = _error(Request(scope), 404, "not found", None)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# -- the application -----------------------------------------------------------------


def create_app(
    database: Database, *, clock: Callable[[], datetime] | None = None
) -> Starlette:
    """The ASGI app. It only reads: open the database with ``open_read_only``."""
    get = ["GET"]  # Starlette answers HEAD for every GET route
    routes = [
        Route("/", changes_page, methods=get),
        Route("/sources", sources_page, methods=get),
        Route("/sources/{source}", source_page, methods=get),
        Route("/sources/{source}/organizations/{org}", organization_page, methods=get),
        Route("/sources/{source}/actions/{action}", action_page, methods=get),
        Route("/feeds/changes.atom", all_feed, methods=get),
        Route("/feeds/sources/{source}.atom", source_feed, methods=get),
        Route(
            "/feeds/sources/{source}/organizations/{org}.atom",
            organization_feed,
            methods=get,
        ),
        Route(
            "/feeds/sources/{source}/actions/{action}.atom", action_feed, methods=get
        ),
        *api.routes(),
        Mount(
            "/static", StaticFiles(packages=[("monitor.web", "static")]), name="static"
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(_NoNul)],
        exception_handlers={HTTPException: _http_error, BadParameter: _bad_parameter},
    )
    app.state.site = Site(database, clock or (lambda: datetime.now(UTC)))
    return app
