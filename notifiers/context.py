"""What planwatch knows around an event: its action's organizations, the
organization tree, names in every language, and whether its link may be shown.

Filters need the organizations an action belongs to, with their ancestors (a
subscription to a unit covers its sub-units); digests group by organization; and a
message links only to the sites planwatch itself fetched, because the link comes
from the page and the page is not trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifiers.subscriptions import Facts
from storage.events import Event
from storage.models import (
    ActionRecord,
    ActionVersion,
    Check,
    OrganizationRecord,
    OrganizationVersion,
    Snapshot,
)
from storage.state import ActionState, OrganizationState


@dataclass(frozen=True, slots=True)
class Item:
    """One event with what routing and rendering need to know about it."""

    event: Event
    facts: Facts
    event_id: int | None = None
    link: str | None = None  # the action's page, when it is on a watched site
    names: Mapping[str, str] = field(default_factory=dict)
    group: str | None = None  # the organization a digest lists it under
    group_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SourceContext:
    """The records of one source that a batch of events refers to."""

    source: str
    actions: dict[str, ActionState]
    organizations: dict[str, OrganizationState]
    hosts: frozenset[str]
    pages: tuple[str, ...]
    # Each action's versions that ended, by the moment they ended: the state just
    # before an event, so the unit an action left hears of it too.
    ended: dict[str, dict[datetime, ActionState]] = field(default_factory=dict)

    def lineage(self, org_ids: Iterable[str]) -> frozenset[str]:
        """The organizations with every ancestor (a cycle stops the walk)."""
        found: set[str] = set()
        for org_id in org_ids:
            current: str | None = org_id
            while current is not None and current not in found:
                found.add(current)
                state = self.organizations.get(current)
                current = state.parent_id if state else None
        return frozenset(found)

    def item(self, event: Event, event_id: int | None = None) -> Item:
        state = self.actions.get(event.action_id) if event.action_id else None
        if event.action_id is not None:
            before = self.ended.get(event.action_id, {}).get(event.observed_at)
            own = tuple(dict.fromkeys((*_action_orgs(state), *_action_orgs(before))))
            group = _primary_org(state)
        elif event.organization_id is not None:
            own = (event.organization_id,)
            group = event.organization_id
        else:
            own, group = (), None
        urls = (event.url,) if event.url else self.pages
        facts = Facts(
            kind=event.kind,
            source=event.source,
            urls=tuple(u for u in urls if u),
            action_id=event.action_id,
            action_identifier=event.action_identifier
            or (state.identifier if state else None),
            organizations=self.lineage(own),
        )
        if state is not None:
            names: Mapping[str, str] = state.names
        elif event.organization_id in self.organizations:
            names = self.organizations[event.organization_id].names
        else:
            names = {}
        group_state = self.organizations.get(group) if group else None
        return Item(
            event=event,
            facts=facts,
            event_id=event_id,
            link=self.vetted(event.url),
            names=dict(names),
            group=group,
            group_names=dict(group_state.names) if group_state else {},
        )

    def vetted(self, url: str | None) -> str | None:
        """``url`` if it is an http(s) page on a host this source fetched."""
        if not url:
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        return url if parts.hostname.lower() in self.hosts else None


def load(
    session: Session,
    source_id: int,
    source_name: str,
    events: Sequence[Event],
    pages: Iterable[str] = (),
) -> SourceContext:
    """The context of ``events`` of one source; ``pages`` are the URLs it fetched."""
    page_list = tuple(dict.fromkeys(pages))
    if not page_list:
        page_list = _fetched_urls(session, source_id)
    action_ids = {e.action_id for e in events if e.action_id is not None}
    moments = {e.observed_at for e in events if e.action_id is not None}
    latest, ended = _actions(session, source_id, action_ids, moments)
    return SourceContext(
        source=source_name,
        actions=latest,
        organizations=_organizations(session, source_id),
        hosts=frozenset(h for h in (_host(u) for u in page_list) if h),
        pages=page_list,
        ended=ended,
    )


def _actions(
    session: Session, source_id: int, platform_ids: set[str], moments: set[datetime]
) -> tuple[dict[str, ActionState], dict[str, dict[datetime, ActionState]]]:
    """Each action's latest version, open or closed (a removed action keeps its
    organizations), and its versions that ended at one of ``moments``."""
    if not platform_ids:
        return {}, {}
    rows = session.execute(
        select(ActionRecord.platform_id, ActionVersion.valid_to, ActionVersion.state)
        .join(ActionVersion, ActionVersion.action_id == ActionRecord.id)
        .where(
            ActionRecord.source_id == source_id,
            ActionRecord.platform_id.in_(sorted(platform_ids)),
        )
        .order_by(ActionVersion.valid_from, ActionVersion.id)
    ).all()
    latest = {platform_id: state for platform_id, _, state in rows}
    ended: dict[str, dict[datetime, ActionState]] = {}
    for platform_id, valid_to, state in rows:
        if valid_to in moments:
            ended.setdefault(platform_id, {})[valid_to] = ActionState.from_json(state)
    return {k: ActionState.from_json(v) for k, v in latest.items()}, ended


def _organizations(session: Session, source_id: int) -> dict[str, OrganizationState]:
    rows = session.execute(
        select(OrganizationRecord.platform_id, OrganizationVersion.state)
        .join(
            OrganizationVersion,
            OrganizationVersion.organization_id == OrganizationRecord.id,
        )
        .where(OrganizationRecord.source_id == source_id)
        .order_by(OrganizationVersion.valid_from, OrganizationVersion.id)
    ).all()
    return {
        platform_id: OrganizationState.from_json(state) for platform_id, state in rows
    }


def _fetched_urls(session: Session, source_id: int) -> tuple[str, ...]:
    rows = session.scalars(
        select(Snapshot.url)
        .join(Check, Check.id == Snapshot.check_id)
        .where(Check.source_id == source_id)
        .distinct()
    ).all()
    return tuple(sorted(rows))


def _action_orgs(state: ActionState | None) -> tuple[str, ...]:
    if state is None:
        return ()
    responsible = tuple(org_id for org_id, _role in state.responsible or ())
    return tuple(dict.fromkeys((*responsible, *state.organizations)))


def _primary_org(state: ActionState | None) -> str | None:
    if state is None:
        return None
    parties = state.responsible or ()
    for org_id, role in parties:
        if (role or "").upper() == "PRIMARY":
            return org_id
    if parties:
        return parties[0][0]
    return state.organizations[0] if state.organizations else None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
