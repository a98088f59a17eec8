"""Questions maintainers ask of the history, answered from the version tables.

- ``find_actions`` / ``action_history``: every version of one action, with what
  changed ("what did this action look like on 1 June?").
- ``table_as_of``: a source's (or one organization's) whole table as it stood at a
  moment.
- ``find_changes``: the change events, filtered by time, source, organization,
  action and kind ("what changed in the transport unit's actions last quarter?").
- ``source_statuses``: each source's last outcome and last change ("when did this
  site's layout change?").

A source, organization or action named that the database does not hold is a
``NotFound`` naming it and the nearest known names, never an empty answer.

Callers own the session. Every query is one or a few indexed lookups, so the answers
stay fast on a database holding millions of versions (see bench/query_latency.py).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from parsers.errors import PlanwatchError
from storage.events import Event
from storage.models import (
    ActionRecord,
    ActionVersion,
    Check,
    EventRow,
    OrganizationRecord,
    OrganizationVersion,
    ScheduledJob,
    Source,
    UTCDateTime,
)
from storage.repo import event_from_row


class NotFound(PlanwatchError):
    """A source, organization or action named on the command line is not known."""


class Ambiguous(PlanwatchError):
    """A name matches several records; the message lists them and how to choose."""


@dataclass(frozen=True, slots=True)
class ActionRef:
    """One action identity, with the source it belongs to."""

    record_id: int
    source: str
    platform_id: str
    identifier: str | None

    @property
    def label(self) -> str:
        return f"{self.source}: action id {self.platform_id} ({self.identifier})"


@dataclass(frozen=True, slots=True)
class Version:
    """One stored state of a record and the time it held."""

    valid_from: datetime
    valid_to: datetime | None
    check_id: int
    changed: tuple[str, ...] | None  # None for a record's first version
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ActionHistory:
    ref: ActionRef
    first_seen_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None
    versions: tuple[Version, ...]
    events: tuple[Event, ...]  # every change recorded for the action, oldest first

    def events_of(self, version: Version) -> list[Event]:
        """The changes that opened ``version`` (found by the same check)."""
        return [e for e in self.events if e.observed_at == version.valid_from]


@dataclass(frozen=True, slots=True)
class RecordAt:
    """An action or organization as it stood at a moment."""

    platform_id: str
    valid_from: datetime
    valid_to: datetime | None
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Table:
    """A source's records at a moment, or one organization's actions."""

    source: str
    as_of: datetime
    organization: RecordAt | None
    actions: tuple[RecordAt, ...]
    organizations: tuple[RecordAt, ...]


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    organization: str | None = None
    action: str | None = None
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    created_at: datetime
    last_check_at: datetime | None
    last_outcome: str | None
    last_change_at: datetime | None
    next_check_at: datetime | None
    consecutive_failures: int
    checks: int
    actions: int
    last_events: tuple[str, ...] = field(default=())


# -- names on the command line ---------------------------------------------------------

# An unknown name is answered with the known ones when they fit on a line, else with
# the nearest few only (a plan has hundreds of actions).
LISTED_AT_MOST = 10


def named_sources(session: Session, names: Iterable[str]) -> list[Source]:
    """The sources called ``names``, by name, or NotFound naming the unknown ones.

    A filter naming a source the database does not hold would otherwise answer
    "nothing", which reads as "nothing changed there".
    """
    wanted = sorted(set(names))
    found = list(
        session.scalars(
            select(Source).where(Source.name.in_(wanted)).order_by(Source.name)
        )
    )
    held = {src.name for src in found}
    missing = [name for name in wanted if name not in held]
    if missing:
        known = list(session.scalars(select(Source.name).order_by(Source.name)))
        raise NotFound(_unknown_sources(missing, known))
    return found


def _unknown_sources(missing: Sequence[str], known: Sequence[str]) -> str:
    quoted = ", ".join(repr(name) for name in missing)
    plural = "s" if len(missing) > 1 else ""
    text = f"no source{plural} named {quoted} in the database"
    if not known:
        return text + ": it holds no source yet (run `planwatch check` first)"
    close = dict.fromkeys(c for name in missing for c in _nearest(name, known))
    text += _did_you_mean(close)
    if len(known) <= LISTED_AT_MOST:
        return text + f"; known: {', '.join(known)}"
    return text + f"; {len(known)} known (planwatch sources lists them)"


def _nearest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``name``, ignoring case."""
    by_folded: dict[str, str] = {}
    for candidate in known:
        by_folded.setdefault(candidate.casefold(), candidate)
    close = difflib.get_close_matches(name.casefold(), by_folded, n=n, cutoff=0.6)
    return [by_folded[c] for c in close]


def _did_you_mean(close: Iterable[str]) -> str:
    quoted = " or ".join(repr(name) for name in close)
    return f" (did you mean {quoted}?)" if quoted else ""


# -- actions ---------------------------------------------------------------------------


def find_actions(
    session: Session, reference: str, source: str | None = None
) -> list[ActionRef]:
    """Actions matching a platform id, an identifier or a page URL.

    ``id:15`` and ``identifier:15`` say which one is meant when a bare ``15`` is
    both an id and another action's identifier.
    """
    query = select(ActionRecord, Source.name).join(
        Source, Source.id == ActionRecord.source_id
    )
    if source is not None:
        named_sources(session, [source])
        query = query.where(Source.name == source)

    if reference.startswith("id:"):
        wanted = ActionRecord.platform_id == reference[3:]
    elif reference.startswith("identifier:"):
        wanted = ActionRecord.identifier == reference[len("identifier:") :]
    elif "/" in reference:
        return _by_url(session, query, reference)
    else:
        wanted = or_(
            ActionRecord.platform_id == reference, ActionRecord.identifier == reference
        )
    rows = session.execute(query.where(wanted).order_by(ActionRecord.id)).all()
    return [_ref(record, name) for record, name in rows]


def _by_url(session: Session, query: Any, url: str) -> list[ActionRef]:
    # Action pages live at /actions/<identifier> (under a language prefix).
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) < 2 or parts[-2] != "actions":
        raise NotFound(f"{url}: not an action page URL (…/actions/<identifier>)")
    rows = session.execute(
        query.where(ActionRecord.identifier == unquote(parts[-1])).order_by(
            ActionRecord.id
        )
    ).all()
    refs = [_ref(record, name) for record, name in rows]
    if len(refs) < 2:
        return refs
    host = urlsplit(url).netloc
    same_host = [
        ref
        for ref in refs
        if host and host == urlsplit(_latest_url(session, ref)).netloc
    ]
    return same_host or refs


def _latest_url(session: Session, ref: ActionRef) -> str:
    state = session.scalar(
        select(ActionVersion.state)
        .where(ActionVersion.action_id == ref.record_id)
        .order_by(ActionVersion.valid_from.desc())
        .limit(1)
    )
    return str((state or {}).get("url") or "")


def _ref(record: ActionRecord, source: str) -> ActionRef:
    return ActionRef(record.id, source, record.platform_id, record.identifier)


def one_action(
    session: Session, reference: str, source: str | None = None
) -> ActionRef:
    """The single action ``reference`` names, or an error that says what to do."""
    refs = find_actions(session, reference, source)
    where = f" in source {source}" if source else ""
    if not refs:
        raise NotFound(
            f"no action {reference!r}{where}{_action_hint(session, reference, source)}"
            ": give its platform id, its identifier or its page URL"
        )
    if len(refs) > 1:
        listed = "; ".join(ref.label for ref in refs[:10])
        raise Ambiguous(
            f"{reference!r} matches {len(refs)} actions ({listed}): choose with "
            "--source NAME, or write id:ID or identifier:IDENTIFIER"
        )
    return refs[0]


def _action_hint(session: Session, reference: str, source: str | None) -> str:
    """The nearest ids and identifiers to an action name that matched none."""
    name = reference.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[-1]
    query = select(ActionRecord.platform_id, ActionRecord.identifier)
    if source is not None:
        query = query.join(Source, Source.id == ActionRecord.source_id).where(
            Source.name == source
        )
    known = {value for row in session.execute(query) for value in row if value}
    return _did_you_mean(_nearest(name, sorted(known)))


def action_history(session: Session, ref: ActionRef) -> ActionHistory:
    record = session.get(ActionRecord, ref.record_id)
    if record is None:
        raise NotFound(f"action {ref.label} is gone from the database")
    rows = session.execute(
        select(*_version_columns(ActionVersion))
        .where(ActionVersion.action_id == record.id)
        .order_by(ActionVersion.valid_from, ActionVersion.id)
    ).all()
    events = session.execute(
        _events_query()
        .where(
            EventRow.source_id == record.source_id,
            EventRow.action_platform_id == record.platform_id,
        )
        .order_by(EventRow.observed_at, EventRow.id)
    ).all()
    return ActionHistory(
        ref=ref,
        first_seen_at=record.first_seen_at,
        last_seen_at=record.last_seen_at,
        removed_at=record.removed_at,
        versions=tuple(_version(row) for row in rows),
        events=tuple(event_from_row(row, row.source_name) for row in events),
    )


def _version_columns(model: Any) -> tuple[Any, ...]:
    # Columns, not entities: rows come back without the ORM's bookkeeping, which
    # is most of the cost of a long history.
    return (
        model.valid_from,
        model.valid_to,
        model.check_id,
        model.changed_fields,
        model.state,
    )


def _events_query() -> Any:
    return select(
        EventRow.id,
        EventRow.source_id,
        Source.name.label("source_name"),
        EventRow.kind,
        EventRow.observed_at,
        EventRow.action_platform_id,
        EventRow.action_identifier,
        EventRow.organization_platform_id,
        EventRow.name,
        EventRow.field,
        EventRow.before,
        EventRow.after,
        EventRow.url,
        EventRow.detail,
    ).join(Source, Source.id == EventRow.source_id)


def _version(row: Any) -> Version:
    fields = (row.changed_fields or {}).get("fields")
    return Version(
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        check_id=row.check_id,
        changed=None if fields is None else tuple(fields),
        state=row.state,
    )


def all_action_versions(
    session: Session, source: Source, batch: int = 2000
) -> Iterator[tuple[RecordAt, tuple[str, ...] | None]]:
    """Every version of every action of ``source``, by action then time."""
    query = (
        select(ActionRecord.platform_id, *_version_columns(ActionVersion))
        .join(ActionVersion, ActionVersion.action_id == ActionRecord.id)
        .where(ActionRecord.source_id == source.id)
        .order_by(ActionRecord.id, ActionVersion.valid_from, ActionVersion.id)
        .execution_options(yield_per=batch)
    )
    for row in session.execute(query):
        platform_id = row.platform_id
        version = _version(row)
        yield (
            RecordAt(platform_id, version.valid_from, version.valid_to, version.state),
            version.changed,
        )


# -- tables as of a moment -------------------------------------------------------------


def source_or_organization(
    session: Session, reference: str, source: str | None = None
) -> tuple[Source, OrganizationRecord | None]:
    """A source by name, or an organization by platform id or name."""
    if source is None:
        found = session.scalar(select(Source).where(Source.name == reference))
        if found is not None:
            return found, None
    organizations = find_organizations(session, reference, source)
    if not organizations:
        names = list(session.scalars(select(Source.name).order_by(Source.name)))
        known = [*names, *_organization_names(session, source)]
        hint = _did_you_mean(_nearest(reference, known))
        where = f" in source {source}" if source else ""
        raise NotFound(
            f"{reference!r} is neither a source nor an organization{where}{hint}; "
            f"sources: {', '.join(names) or 'none yet'}"
        )
    if len(organizations) > 1:
        listed = "; ".join(
            f"{src.name}: organization {org.platform_id}" for src, org in organizations
        )
        # Given the id already, giving "the organization's id" cannot help.
        by_id = all(org.platform_id == reference for _, org in organizations)
        or_id = "" if by_id else " or give the organization's id"
        raise Ambiguous(
            f"{reference!r} matches several organizations ({listed}): choose with "
            f"--source NAME{or_id}"
        )
    return organizations[0]


def find_organizations(
    session: Session, reference: str, source: str | None = None
) -> list[tuple[Source, OrganizationRecord]]:
    """Organizations whose platform id is ``reference``, else whose name is."""
    query = select(Source, OrganizationRecord).join(
        OrganizationRecord, OrganizationRecord.source_id == Source.id
    )
    if source is not None:
        named_sources(session, [source])
        query = query.where(Source.name == source)
    by_id = session.execute(
        query.where(OrganizationRecord.platform_id == reference)
    ).all()
    if by_id:
        return [(src, org) for src, org in by_id]

    wanted = reference.casefold()
    current = session.execute(
        query.add_columns(OrganizationVersion.state)
        .join(
            OrganizationVersion,
            OrganizationVersion.organization_id == OrganizationRecord.id,
        )
        .where(OrganizationVersion.valid_to.is_(None))
    ).all()
    return [
        (src, org)
        for src, org, state in current
        if wanted in {str(name).casefold() for name in state.get("names", {}).values()}
    ]


def _organization_names(session: Session, source: str | None = None) -> list[str]:
    """Every organization's platform id and current names, for suggestions."""
    query = (
        select(OrganizationRecord.platform_id, OrganizationVersion.state)
        .join(
            OrganizationVersion,
            OrganizationVersion.organization_id == OrganizationRecord.id,
        )
        .where(OrganizationVersion.valid_to.is_(None))
    )
    if source is not None:
        query = query.join(Source, Source.id == OrganizationRecord.source_id).where(
            Source.name == source
        )
    names = set()
    for platform_id, state in session.execute(query):
        names.add(platform_id)
        names.update(str(name) for name in (state or {}).get("names", {}).values())
    return sorted(names)


def table_as_of(
    session: Session,
    source: Source,
    moment: datetime,
    organization: OrganizationRecord | None = None,
) -> Table:
    """Every action (and organization) of ``source`` as it stood at ``moment``.

    With ``organization``: only the actions it was responsible for at that moment.
    """
    actions = _as_of(
        session, ActionRecord, ActionVersion, ActionVersion.action_id, source, moment
    )
    organizations = _as_of(
        session,
        OrganizationRecord,
        OrganizationVersion,
        OrganizationVersion.organization_id,
        source,
        moment,
    )
    chosen = None
    if organization is not None:
        org_id = organization.platform_id
        actions = [a for a in actions if org_id in organizations_of(a.state)]
        chosen = next((o for o in organizations if o.platform_id == org_id), None)
    return Table(
        source=source.name,
        as_of=moment,
        organization=chosen,
        actions=tuple(sorted(actions, key=lambda r: _natural(r.state, r.platform_id))),
        organizations=tuple(
            sorted(organizations, key=lambda r: _natural({}, r.platform_id))
        ),
    )


def _as_of(
    session: Session,
    record_model: Any,
    version_model: Any,
    key: Any,
    source: Source,
    moment: datetime,
) -> list[RecordAt]:
    query = _as_of_query(record_model, version_model, key.key)
    rows = session.execute(query, {"source_id": source.id, "moment": moment}).all()
    return [RecordAt(*row) for row in rows]


@functools.cache
def _as_of_query(record_model: Any, version_model: Any, key: str) -> Any:
    # For each record, the newest version that began at or before the moment, found
    # with one index seek on (record, valid_from); it holds unless it ended already.
    # Built once: making the alias and the statement costs more than running it.
    inner = aliased(version_model)
    moment = bindparam("moment", type_=UTCDateTime())
    newest = (
        select(inner.id)
        .where(getattr(inner, key) == record_model.id, inner.valid_from <= moment)
        .order_by(inner.valid_from.desc(), inner.id.desc())
        .limit(1)
        .correlate(record_model)
        .scalar_subquery()
    )
    return (
        select(
            record_model.platform_id,
            version_model.valid_from,
            version_model.valid_to,
            version_model.state,
        )
        .join(version_model, version_model.id == newest)
        .where(
            record_model.source_id == bindparam("source_id"),
            or_(version_model.valid_to.is_(None), version_model.valid_to > moment),
        )
    )


def organizations_of(state: dict[str, Any]) -> set[str]:
    """The organizations an action state names: its tables and responsible parties."""
    listed = {str(o) for o in state.get("organizations") or ()}
    responsible = {str(pair[0]) for pair in state.get("responsible") or () if pair}
    return listed | responsible


def _natural(state: dict[str, Any], platform_id: str) -> tuple[Any, ...]:
    return identifier_key(str(state.get("identifier") or platform_id))


def identifier_key(label: str) -> tuple[tuple[int, int, str], ...]:
    """Sorts identifiers as a plan lists them, numbers read as numbers (3.2 before
    3.10 before 10). isdecimal, not isdigit: int() reads every decimal digit (٣ is
    3) but no other numeral isdigit takes (①, ²), and identifiers are whatever a
    plan wrote."""
    return tuple(
        (0, int(part), "") if part.isdecimal() else (1, 0, part)
        for part in label.replace("-", ".").split(".")
    )


# -- changes ---------------------------------------------------------------------------


def find_changes(session: Session, wanted: ChangeFilter) -> list[Event]:
    """The change events that pass every filter, oldest first."""
    query = _events_query().order_by(EventRow.observed_at, EventRow.id)
    if wanted.since is not None:
        query = query.where(EventRow.observed_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(EventRow.observed_at <= wanted.until)
    if wanted.sources:
        ids = [src.id for src in named_sources(session, wanted.sources)]
        # By id, so the (source, observed_at) index serves the time range.
        query = query.where(EventRow.source_id.in_(ids))
    if wanted.kinds:
        query = query.where(EventRow.kind.in_(wanted.kinds))
    if wanted.action is not None:
        source = wanted.sources[0] if len(wanted.sources) == 1 else None
        refs = find_actions(session, wanted.action, source)
        if not refs:
            hint = _action_hint(session, wanted.action, source)
            raise NotFound(f"--action {wanted.action}: no such action{hint}")
        query = query.where(
            or_(
                *(
                    and_(
                        Source.name == ref.source,
                        EventRow.action_platform_id == ref.platform_id,
                    )
                    for ref in refs
                )
            )
        )
    if wanted.organization is None:
        return [event_from_row(row, row.source_name) for row in session.execute(query)]
    return _of_organization(session, query, wanted)


def _of_organization(session: Session, query: Any, wanted: ChangeFilter) -> list[Event]:
    assert wanted.organization is not None
    source = wanted.sources[0] if len(wanted.sources) == 1 else None
    organizations = find_organizations(session, wanted.organization, source)
    if not organizations:
        known = _organization_names(session, source)
        hint = _did_you_mean(_nearest(wanted.organization, known))
        raise NotFound(
            f"--organization {wanted.organization}: no such organization{hint}; "
            "give its platform id or its name"
        )
    by_source = {src.id: org.platform_id for src, org in organizations}
    query = query.where(EventRow.source_id.in_(by_source))
    rows = session.execute(query).all()
    timelines = _action_timelines(
        session, {(r.source_id, r.action_platform_id) for r in rows}
    )

    chosen = []
    for row in rows:
        org_id = by_source[row.source_id]
        if row.organization_platform_id == org_id:
            chosen.append(event_from_row(row, row.source_name))
        elif row.action_platform_id is not None:
            versions = timelines.get((row.source_id, row.action_platform_id), [])
            if any(
                org_id in organizations_of(s) for s in _states_around(versions, row)
            ):
                chosen.append(event_from_row(row, row.source_name))
    return chosen


def _action_timelines(
    session: Session, keys: Iterable[tuple[int, str | None]]
) -> dict[tuple[int, str], list[Any]]:
    timelines: dict[tuple[int, str], list[Any]] = {}
    by_source: dict[int, list[str]] = {}
    for source_id, platform_id in keys:
        if platform_id is not None:
            by_source.setdefault(source_id, []).append(platform_id)
    for source_id, platform_ids in by_source.items():
        rows = session.execute(
            select(
                ActionRecord.platform_id, ActionVersion.valid_from, ActionVersion.state
            )
            .join(ActionVersion, ActionVersion.action_id == ActionRecord.id)
            .where(
                ActionRecord.source_id == source_id,
                ActionRecord.platform_id.in_(platform_ids),
            )
            .order_by(ActionVersion.valid_from)
        ).all()
        for row in rows:
            timelines.setdefault((source_id, row.platform_id), []).append(row)
    return timelines


def _states_around(versions: Sequence[Any], event: Any) -> list[dict[str, Any]]:
    """The action's states just before and just after the event.

    Both count: an action that moves from one organization to another concerns
    both of them.
    """
    before = after = None
    for version in versions:
        if version.valid_from < event.observed_at:
            before = version.state
        if version.valid_from <= event.observed_at:
            after = version.state
    return [s for s in (before, after) if s is not None]


# -- sources ---------------------------------------------------------------------------


def source_statuses(session: Session) -> list[SourceStatus]:
    checks = dict(
        session.execute(
            select(Check.source_id, func.count(Check.id)).group_by(Check.source_id)
        ).all()
    )
    live = dict(
        session.execute(
            select(ActionRecord.source_id, func.count(ActionRecord.id))
            .where(ActionRecord.removed_at.is_(None))
            .group_by(ActionRecord.source_id)
        ).all()
    )
    # Any event counts as a change here, a layout anomaly or an outage included.
    last_event = dict(
        session.execute(
            select(EventRow.source_id, func.max(EventRow.observed_at)).group_by(
                EventRow.source_id
            )
        ).all()
    )
    # `planwatch run` keeps each source's next due time in the schedules table,
    # under the key monitor.service.source_key gives it.
    due = dict(
        session.execute(
            select(ScheduledJob.key, ScheduledJob.due_at).where(
                ScheduledJob.key.like("source:%")
            )
        ).all()
    )
    return [
        SourceStatus(
            name=source.name,
            created_at=source.created_at,
            last_check_at=source.last_check_at,
            last_outcome=source.last_outcome,
            last_change_at=_aware(last_event.get(source.id)),
            next_check_at=source.next_check_at or due.get(f"source:{source.name}"),
            consecutive_failures=source.consecutive_failures,
            checks=checks.get(source.id, 0),
            actions=live.get(source.id, 0),
            last_events=_kinds_at(session, source.id, last_event.get(source.id)),
        )
        for source in session.scalars(select(Source).order_by(Source.name))
    ]


def _aware(moment: Any) -> datetime | None:
    # Aggregates bypass the column type: SQLite hands back text, PostgreSQL a time.
    if moment is None:
        return None
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _kinds_at(session: Session, source_id: int, moment: Any) -> tuple[str, ...]:
    if moment is None:
        return ()
    kinds = session.scalars(
        select(EventRow.kind)
        .where(
            EventRow.source_id == source_id,
            EventRow.observed_at == _aware(moment),
        )
        .distinct()
    )
    return tuple(sorted(kinds))
