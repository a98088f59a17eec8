"""What the web view shows, read from the history tables. Nothing here writes.

The functions take a session and return frozen records; the caller owns the
session. States are read from the version rows: an action's current state is its
newest version (the open one, or the last one before it was removed).

Staleness is judged at the moment planwatch last saw the action, not at the wall
clock: the history says nothing about what happened on the site since, and the same
database gives the same answer whenever it is asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from monitor import staleness
from notifiers.render import describe
from storage import repo
from storage.models import (
    ActionRecord,
    ActionVersion,
    Check,
    EventRow,
    OrganizationRecord,
    OrganizationVersion,
    PlanSettings,
    Source,
)
from storage.state import ActionState, OrganizationState

STALE_DAYS = staleness.DEFAULT_LIMITS.stale

# Entry ids are derived from what an event is, not from a row id, so a feed reader
# sees the same id for the same change even after the history is imported again.
ENTRY_NAMESPACE = uuid.UUID("6f1c3d52-8a0e-4b8e-9f0b-2f8d1c7a5e11")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True, slots=True)
class CheckSummary:
    id: int
    observed_at: datetime
    finished_at: datetime | None
    outcome: str
    pages: int
    events: int


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    created_at: datetime
    last_check_at: datetime | None
    last_outcome: str | None
    last_change_at: datetime | None
    next_check_at: datetime | None
    consecutive_failures: int
    failing: bool
    layout_anomaly: bool
    actions: int
    removed_actions: int
    organizations: int
    failing_reason: str | None  # while failing: what the source_failing event said
    failing_pages: tuple[str, ...]
    anomaly_reason: str | None  # while the layout is not understood
    anomaly_pages: tuple[str, ...]

    @property
    def health(self) -> str:
        if self.last_check_at is None:
            return "never_checked"
        if self.failing or self.consecutive_failures:
            return "failing"
        if self.layout_anomaly or self.last_outcome == "anomaly":
            return "anomaly"
        return "ok"


@dataclass(frozen=True, slots=True)
class OrgRef:
    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Responsible:
    organization_id: str
    name: str | None
    role: str | None


@dataclass(frozen=True, slots=True)
class ActionView:
    source: str
    id: str
    identifier: str | None
    name: str | None
    names: dict[str, str]
    url: str | None
    status: str | None
    status_label: str | None
    phase: str | None
    phase_label: str | None
    tasks_total: int | None
    tasks_completed: int | None
    completion: int | None
    updated_exact: str | None
    updated_earliest: str | None
    updated_latest: str | None
    days_since_update: int | None
    stale: bool | None  # None: no update time known, or the action is finished
    stale_line: int  # the days after which it counts as stale
    organizations: tuple[OrgRef, ...]
    responsible: tuple[Responsible, ...]
    merged_with: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None

    @property
    def label(self) -> str:
        return self.identifier or self.id


@dataclass(frozen=True, slots=True)
class VersionView:
    check_id: int
    valid_from: datetime
    valid_to: datetime | None
    changed_fields: tuple[str, ...] | None
    status: str | None
    status_label: str | None
    phase: str | None
    phase_label: str | None
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChangeView:
    id: int
    entry_id: str
    source: str
    kind: str
    observed_at: datetime
    action_id: str | None
    action_identifier: str | None
    organization_id: str | None
    name: str | None
    field: str | None
    before: Any
    after: Any
    url: str | None
    detail: dict[str, Any]
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class ActionHistory:
    action: ActionView
    versions: tuple[VersionView, ...]
    changes: tuple[ChangeView, ...]
    observed_until: datetime  # the last time planwatch looked at the action's source


@dataclass(frozen=True, slots=True)
class OrganizationView:
    source: str
    id: str
    name: str | None
    names: dict[str, str]
    action_count: int | None
    parent: OrgRef | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class ActionFilters:
    source: str | None = None
    organization: str | None = None
    statuses: tuple[str, ...] = ()
    stale: bool | None = None
    stale_days: int | None = None  # None: the source's own line (plan_settings)
    include_removed: bool = False


@dataclass(frozen=True, slots=True)
class ChangeFilters:
    source: str | None = None
    organization: str | None = None
    action: str | None = None
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    newest_first: bool = True


@dataclass(slots=True)
class _Names:
    """Organization names of one source, to label the ids an action refers to."""

    by_id: dict[str, str | None] = field(default_factory=dict)

    def ref(self, org_id: str, fallback: dict[str, str]) -> OrgRef:
        return OrgRef(org_id, self.by_id.get(org_id) or fallback.get(org_id))


def display_name(names: dict[str, str]) -> str | None:
    """English when the site has it, else the first language the pages showed."""
    return names.get("en") or next(iter(names.values()), None)


# -- sources -------------------------------------------------------------------------


def sources(session: Session) -> list[SourceHealth]:
    rows = session.scalars(select(Source).order_by(Source.name)).all()
    return [_health(session, row) for row in rows]


def source(session: Session, name: str) -> SourceHealth | None:
    row = _source_row(session, name)
    return None if row is None else _health(session, row)


def recent_checks(session: Session, name: str, limit: int = 20) -> list[CheckSummary]:
    query = (
        select(Check)
        .join(Source, Source.id == Check.source_id)
        .where(Source.name == name, Check.finished_at.is_not(None))
        .order_by(Check.observed_at.desc(), Check.id.desc())
        .limit(limit)
    )
    return [
        CheckSummary(c.id, c.observed_at, c.finished_at, c.outcome, c.pages, c.events)
        for c in session.scalars(query)
    ]


def _source_row(session: Session, name: str) -> Source | None:
    return session.scalar(select(Source).where(Source.name == name))


def _health(session: Session, row: Source) -> SourceHealth:
    counts = session.execute(
        select(
            func.count(ActionRecord.id),
            func.count(ActionRecord.removed_at),
        ).where(ActionRecord.source_id == row.id)
    ).one()
    organizations = session.scalar(
        select(func.count(OrganizationRecord.id)).where(
            OrganizationRecord.source_id == row.id
        )
    )
    failing = _open_problem(session, row.id, "source_failing", row.failing_reported)
    anomaly = _open_problem(session, row.id, "layout_anomaly", row.anomaly_reported)
    return SourceHealth(
        name=row.name,
        kind=row.kind,
        created_at=row.created_at,
        last_check_at=row.last_check_at,
        last_outcome=row.last_outcome,
        last_change_at=row.last_change_at,
        next_check_at=row.next_check_at,
        consecutive_failures=row.consecutive_failures,
        failing=row.failing_reported,
        layout_anomaly=row.anomaly_reported,
        actions=counts[0] - counts[1],
        removed_actions=counts[1],
        organizations=organizations or 0,
        failing_reason=failing[0],
        failing_pages=failing[1],
        anomaly_reason=anomaly[0],
        anomaly_pages=anomaly[1],
    )


def _open_problem(
    session: Session, source_id: int, kind: str, reported: bool
) -> tuple[str | None, tuple[str, ...]]:
    """The reason and pages of the newest event of ``kind`` while it still holds.

    Events, not snapshots: a problem is reported once, when it starts, and the
    source's flag says whether it is still open.
    """
    if not reported:
        return None, ()
    detail = session.scalar(
        select(EventRow.detail)
        .where(EventRow.source_id == source_id, EventRow.kind == kind)
        .order_by(EventRow.observed_at.desc(), EventRow.id.desc())
        .limit(1)
    )
    if not detail:
        return None, ()
    reason = detail.get("reason")
    pages = detail.get("pages")
    return (
        str(reason) if reason is not None else None,
        tuple(str(p) for p in pages) if isinstance(pages, list) else (),
    )


# -- organizations -------------------------------------------------------------------


def organizations(session: Session, source_name: str) -> list[OrganizationView]:
    rows = session.execute(
        _latest_organizations().where(Source.name == source_name)
    ).all()
    names = _Names(
        {r.platform_id: display_name(v.state.get("names") or {}) for r, v, _ in rows}
    )
    views = [_organization_view(r, v, name, names) for r, v, name in rows]
    return sorted(views, key=lambda o: _natural(o.id))


def organization(
    session: Session, source_name: str, org_id: str
) -> OrganizationView | None:
    for view in organizations(session, source_name):
        if view.id == org_id:
            return view
    return None


def _latest_organizations() -> Select[OrganizationRecord, OrganizationVersion, str]:
    newest = (
        select(OrganizationVersion.id)
        .where(OrganizationVersion.organization_id == OrganizationRecord.id)
        .order_by(OrganizationVersion.valid_from.desc(), OrganizationVersion.id.desc())
        .limit(1)
        .correlate(OrganizationRecord)
        .scalar_subquery()
    )
    return (
        select(OrganizationRecord, OrganizationVersion, Source.name)
        .join(Source, Source.id == OrganizationRecord.source_id)
        .join(OrganizationVersion, OrganizationVersion.id == newest)
    )


def _organization_view(
    record: OrganizationRecord,
    version: OrganizationVersion,
    source_name: str,
    names: _Names,
) -> OrganizationView:
    state = OrganizationState.from_json(version.state)
    parent = names.ref(state.parent_id, {}) if state.parent_id else None
    return OrganizationView(
        source=source_name,
        id=record.platform_id,
        name=display_name(state.names),
        names=dict(state.names),
        action_count=state.action_count,
        parent=parent,
        first_seen_at=record.first_seen_at,
        last_seen_at=record.last_seen_at,
    )


def _organization_names(
    session: Session, source_names: Iterable[str]
) -> dict[str, _Names]:
    wanted = set(source_names)
    found: dict[str, _Names] = {name: _Names() for name in wanted}
    if not wanted:
        return found
    query = _latest_organizations().where(Source.name.in_(wanted))
    for record, version, name in session.execute(query):
        found[name].by_id[record.platform_id] = display_name(
            version.state.get("names") or {}
        )
    return found


# -- actions -------------------------------------------------------------------------


def actions(
    session: Session, filters: ActionFilters, *, limit: int, offset: int
) -> Page[ActionView]:
    query = _latest_actions()
    if filters.source is not None:
        query = query.where(Source.name == filters.source)
    if not filters.include_removed:
        query = query.where(ActionRecord.removed_at.is_(None))
    rows = session.execute(query).all()

    names = _organization_names(session, {name for _, _, name in rows})
    lines = stale_lines(session)
    views = [
        _action_view(
            record,
            version,
            name,
            names[name],
            filters.stale_days or lines.get(name, STALE_DAYS),
        )
        for record, version, name in rows
    ]
    matching = [v for v in views if _matches(v, filters)]
    matching.sort(key=lambda v: (v.source, _natural(v.label), _natural(v.id)))
    return Page(tuple(matching[offset : offset + limit]), len(matching), limit, offset)


def action(
    session: Session,
    source_name: str,
    action_id: str,
    stale_days: int | None = None,
) -> ActionView | None:
    query = _latest_actions().where(
        Source.name == source_name, ActionRecord.platform_id == action_id
    )
    row = session.execute(query).first()
    if row is None:
        return None
    record, version, name = row
    names = _organization_names(session, [name])[name]
    line = stale_days or stale_lines(session).get(name, STALE_DAYS)
    return _action_view(record, version, name, names, line)


def action_history(
    session: Session,
    source_name: str,
    action_id: str,
    stale_days: int | None = None,
) -> ActionHistory | None:
    view = action(session, source_name, action_id, stale_days)
    if view is None:
        return None
    versions = session.scalars(
        select(ActionVersion)
        .join(ActionRecord, ActionRecord.id == ActionVersion.action_id)
        .join(Source, Source.id == ActionRecord.source_id)
        .where(Source.name == source_name, ActionRecord.platform_id == action_id)
        .order_by(ActionVersion.valid_from, ActionVersion.id)
    ).all()
    found = changes(
        session,
        ChangeFilters(source=source_name, action=action_id, newest_first=False),
        limit=10_000,
        offset=0,
    )
    last_check = session.scalar(
        select(Source.last_check_at).where(Source.name == source_name)
    )
    ends = [view.last_seen_at, view.removed_at, last_check]
    return ActionHistory(
        action=view,
        versions=tuple(_version_view(v) for v in versions),
        changes=found.items,
        observed_until=max(e for e in ends if e is not None),
    )


def _latest_actions() -> Select[ActionRecord, ActionVersion, str]:
    newest = (
        select(ActionVersion.id)
        .where(ActionVersion.action_id == ActionRecord.id)
        .order_by(ActionVersion.valid_from.desc(), ActionVersion.id.desc())
        .limit(1)
        .correlate(ActionRecord)
        .scalar_subquery()
    )
    return (
        select(ActionRecord, ActionVersion, Source.name)
        .join(Source, Source.id == ActionRecord.source_id)
        .join(ActionVersion, ActionVersion.id == newest)
    )


def _action_view(
    record: ActionRecord,
    version: ActionVersion,
    source_name: str,
    names: _Names,
    stale_days: int,
) -> ActionView:
    state = ActionState.from_json(version.state)
    # Judged when planwatch last saw the action, with the staleness rules the
    # checks use (finished and merged actions are never stale).
    known = staleness.age(state, record.last_seen_at)
    days = None if known is None else max(0, int(known.days))
    limits = msgspec.structs.replace(staleness.DEFAULT_LIMITS, stale=stale_days)
    fallback = state.responsible_names
    return ActionView(
        source=source_name,
        id=record.platform_id,
        identifier=state.identifier,
        name=display_name(state.names),
        names=dict(state.names),
        url=state.url,
        status=state.status,
        status_label=display_name(state.status_labels),
        phase=state.phase,
        phase_label=display_name(state.phase_labels),
        tasks_total=state.tasks_total,
        tasks_completed=state.tasks_completed,
        completion=state.completion,
        updated_exact=state.updated_exact,
        updated_earliest=state.updated_earliest,
        updated_latest=state.updated_latest,
        days_since_update=days,
        stale=staleness.is_stale(state, record.last_seen_at, limits),
        stale_line=stale_days,
        organizations=tuple(names.ref(o, fallback) for o in state.organizations),
        responsible=tuple(
            Responsible(org, names.ref(org, fallback).name, role)
            for org, role in state.responsible or ()
        ),
        merged_with=state.merged_with,
        first_seen_at=record.first_seen_at,
        last_seen_at=record.last_seen_at,
        removed_at=record.removed_at,
    )


def stale_lines(session: Session) -> dict[str, int]:
    """Each source's stale line in days, as its plan (or config) last set it."""
    rows = session.execute(
        select(Source.name, PlanSettings.stale_days).join(
            PlanSettings, PlanSettings.source_id == Source.id
        )
    ).all()
    return {name: days for name, days in rows}


def _matches(view: ActionView, filters: ActionFilters) -> bool:
    if filters.organization is not None and filters.organization not in {
        o.id for o in view.organizations
    }:
        return False
    if filters.statuses and view.status not in filters.statuses:
        return False
    return filters.stale is None or view.stale is filters.stale


def _version_view(row: ActionVersion) -> VersionView:
    state = ActionState.from_json(row.state)
    changed = (row.changed_fields or {}).get("fields")
    return VersionView(
        check_id=row.check_id,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        changed_fields=None if changed is None else tuple(changed),
        status=state.status,
        status_label=display_name(state.status_labels),
        phase=state.phase,
        phase_label=display_name(state.phase_labels),
        state=dict(row.state),
    )


# -- changes -------------------------------------------------------------------------


def changes(
    session: Session, filters: ChangeFilters, *, limit: int, offset: int
) -> Page[ChangeView]:
    query = select(EventRow, Source.name).join(Source, Source.id == EventRow.source_id)
    if filters.source is not None:
        query = query.where(Source.name == filters.source)
    if filters.action is not None:
        query = query.where(EventRow.action_platform_id == filters.action)
    if filters.organization is not None:
        members = _organization_members(session, filters.source, filters.organization)
        query = query.where(
            or_(
                EventRow.organization_platform_id == filters.organization,
                EventRow.action_platform_id.in_(members),
            )
        )
    if filters.kinds:
        query = query.where(EventRow.kind.in_(filters.kinds))
    if filters.since is not None:
        query = query.where(EventRow.observed_at >= filters.since)
    if filters.until is not None:
        query = query.where(EventRow.observed_at < filters.until)

    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if filters.newest_first:
        query = query.order_by(EventRow.observed_at.desc(), EventRow.id.desc())
    else:
        query = query.order_by(EventRow.observed_at, EventRow.id)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    items = tuple(_change_view(row, name) for row, name in rows)
    return Page(items, total, limit, offset)


def _organization_members(
    session: Session, source_name: str | None, org_id: str
) -> list[str]:
    """Actions that any version ever gave to the organization (a party moved away
    from an organization is still news to it)."""
    query = (
        select(ActionRecord.platform_id, ActionVersion.state)
        .join(ActionVersion, ActionVersion.action_id == ActionRecord.id)
        .join(Source, Source.id == ActionRecord.source_id)
    )
    if source_name is not None:
        query = query.where(Source.name == source_name)
    members = set()
    for platform_id, state in session.execute(query):
        parties = {str(p[0]) for p in state.get("responsible") or ()}
        if org_id in (state.get("organizations") or ()) or org_id in parties:
            members.add(platform_id)
    return sorted(members, key=_natural)


def _change_view(row: EventRow, source_name: str) -> ChangeView:
    event = repo.event_from_row(row, source_name)
    return ChangeView(
        id=row.id,
        entry_id=entry_id(
            source_name,
            row.kind,
            row.observed_at,
            row.action_platform_id,
            row.organization_platform_id,
            row.field,
        ),
        source=source_name,
        kind=row.kind,
        observed_at=row.observed_at,
        action_id=row.action_platform_id,
        action_identifier=row.action_identifier,
        organization_id=row.organization_platform_id,
        name=row.name,
        field=row.field,
        before=event.before,
        after=event.after,
        url=row.url,
        detail=dict(event.detail),
        subject=event.subject,
        text=describe(event),
    )


def entry_id(
    source_name: str,
    kind: str,
    observed_at: datetime,
    action_id: str | None,
    organization_id: str | None,
    field_name: str | None,
) -> str:
    # One check finds at most one event of a kind per record and field, so these
    # parts name exactly one change.
    parts = (
        source_name,
        kind,
        observed_at.isoformat(),
        action_id or "",
        organization_id or "",
        field_name or "",
    )
    return uuid.uuid5(ENTRY_NAMESPACE, "\x1f".join(parts)).urn


def feed_id(key: str) -> str:
    """A feed's id: the same wherever the view is served from."""
    return uuid.uuid5(ENTRY_NAMESPACE, "feed\x1f" + key).urn


# -- freshness -----------------------------------------------------------------------


def last_modified(session: Session, source_name: str | None = None) -> datetime | None:
    """When the history last changed: the end of the newest finished check.

    Every write planwatch makes happens inside a check, so nothing any page or
    feed shows can be newer than this.
    """
    query = select(func.max(Check.finished_at))
    if source_name is not None:
        query = query.join(Source, Source.id == Check.source_id).where(
            Source.name == source_name
        )
    moment: datetime | None = session.scalar(query)
    return moment


def _natural(value: str) -> tuple[int, int, str]:
    # isdecimal, not isdigit: int() cannot read every numeral isdigit takes (①, ²),
    # and an identifier is whatever the plan wrote.
    return (0, int(value), "") if value.isdecimal() else (1, 0, value)
