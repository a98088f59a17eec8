"""The outbox: messages written in the same transaction as the changes behind them.

:func:`queue_check` runs inside a check's transaction. For each subscription whose
filters match some of the check's events it writes one outbox row per target
(immediate mode), or one digest entry per event (digest mode). Every row has an
idempotency key, *subscription | target | period*, where the period is the check
(immediate) or the digest's scheduled moment, so nothing is queued twice. An event
that already went to a target in this check's messages is not repeated in another
subscription's message to the same target.

:func:`flush_digests` turns the entries of each digest subscription whose moment
has come into its messages, in one transaction per subscription.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from notifiers import context
from notifiers.context import Item
from notifiers.render import Message, render_check, render_digest
from notifiers.status import digests_waiting
from notifiers.subscriptions import Mode, Routing, Subscription
from storage import repo
from storage.db import READ_ONLY_OPTION
from storage.events import Event
from storage.models import Check, DigestEntry, EventRow, Notification, Source

logger = logging.getLogger(__name__)

KEY_LENGTH = 200
# "Nothing needs attention" is news only when it is on time: after a worker was
# down, or before a new subscription's first moment, an empty digest is skipped.
EMPTY_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Queued:
    """A message put in the outbox (or, in a dry run, that would have been)."""

    key: str
    subscription: str
    target: str
    message: Message


def idempotency_key(subscription: str, target: str, period: str) -> str:
    key = f"{subscription}|{target}|{period}"
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{key[: KEY_LENGTH - 41]}#{digest}"


def queue_check(
    session: Session,
    source: Source,
    check: Check,
    events: Sequence[Event],
    event_ids: Sequence[int],
    routing: Routing,
    pages: Iterable[str] = (),
) -> int:
    """Queue what one check's events mean for each subscription; returns rows added."""
    if not events:
        return 0
    fetched = [*pages, *routing.source_pages.get(source.name, ())]
    ctx = context.load(session, source.id, source.name, events, fetched)
    items = [ctx.item(e, i) for e, i in zip(events, event_ids, strict=True)]

    queued = 0
    already: dict[str, set[int | None]] = defaultdict(set)
    for sub in routing.subscriptions:
        matching = [item for item in items if sub.filters.matches(item.facts)]
        if not matching:
            continue
        if sub.mode is Mode.DIGEST:
            _hold_for_digest(session, sub, matching, check.observed_at)
            continue
        for name in sub.targets:
            fresh = [i for i in matching if i.event_id not in already[name]]
            if not fresh:
                continue
            already[name].update(i.event_id for i in fresh)
            message = render_check(
                source.name,
                fresh,
                language=sub.language,
                body_format=routing[name].body_format,
                observed_at=check.observed_at,
                timezone=sub.timezone,
            )
            key = idempotency_key(sub.name, name, f"check:{check.id}")
            if _enqueue(session, key, sub.name, name, check.id, message, fresh, check):
                queued += 1
    return queued


def _hold_for_digest(
    session: Session, sub: Subscription, items: Sequence[Item], now: datetime
) -> None:
    for item in items:
        if item.event_id is None:
            continue
        session.add(
            DigestEntry(subscription=sub.name, event_id=item.event_id, created_at=now)
        )
    session.flush()


def _enqueue(
    session: Session,
    key: str,
    subscription: str,
    target: str,
    check_id: int | None,
    message: Message,
    items: Sequence[Item],
    check: Check | None = None,
    now: datetime | None = None,
) -> Notification | None:
    exists = session.scalar(
        select(Notification.id).where(Notification.idempotency_key == key)
    )
    if exists is not None:
        return None
    moment = now or (check.observed_at if check else None)
    assert moment is not None
    row = Notification(
        idempotency_key=key,
        target=target,
        subscription=subscription,
        check_id=check_id,
        created_at=moment,
        title=message.title,
        body=message.body,
        body_format=message.body_format,
        status="pending",
        attempts=0,
        possible_duplicates=0,
        next_attempt_at=moment,
        events={"ids": [i.event_id for i in items if i.event_id is not None]},
    )
    session.add(row)
    session.flush()
    return row


# -- digests --------------------------------------------------------------------


def flush_digests(
    sessions: sessionmaker[Session],
    routing: Routing,
    now: datetime,
    *,
    dry_run: bool = False,
) -> list[Queued]:
    """Queue every digest whose scheduled moment has come and is not yet queued."""
    queued: list[Queued] = []
    digests = {s.name for s in routing.subscriptions if s.mode is Mode.DIGEST}
    with reading(sessions)() as session:
        stranded = [(n, c) for n, c in digests_waiting(session) if n not in digests]
    if stranded:
        # A digest renamed, removed or made immediate (or another config's).
        logger.warning(
            "changes wait for digests this config does not have: %s",
            ", ".join(f"{name} ({count})" for name, count in stranded),
        )
    for sub in routing.subscriptions:
        if sub.mode is not Mode.DIGEST:
            continue
        try:
            queued += _flush_one(sessions, routing, sub, now, dry_run=dry_run)
        except IntegrityError:
            # Another worker queued the same digest first: its key is taken.
            logger.info("digest %s: already queued by another worker", sub.name)
        except Exception:
            # A bug on one digest's changes: said, and that digest only waits (its
            # entries stay, rolled back); the other digests and the outbox go on.
            logger.exception(
                "digest %s: not queued; its changes wait for the next pass", sub.name
            )
    return queued


def _flush_one(
    sessions: sessionmaker[Session],
    routing: Routing,
    sub: Subscription,
    now: datetime,
    *,
    dry_run: bool,
) -> list[Queued]:
    assert sub.schedule is not None
    due = sub.schedule.last_due(now)
    since = sub.schedule.last_due(due - timedelta(microseconds=1))
    period = f"digest:{due.isoformat()}"
    keys = {name: idempotency_key(sub.name, name, period) for name in sub.targets}

    wants_empty = sub.send_empty and now - due <= EMPTY_GRACE
    # Most passes find nothing to do: find that out without taking a write lock.
    with reading(sessions)() as reader:
        if _digest_done(reader, keys.values()):
            return []
        waiting = reader.scalars(_waiting(sub.name, due).limit(1)).first()
        if waiting is None and not wants_empty:
            return []

    session = sessions()
    try:
        session.begin()
        if _digest_done(session, keys.values()):
            return []
        entries = session.scalars(_waiting(sub.name, due)).all()
        if not entries and not wants_empty:
            return []
        items = digest_items(session, [e.event_id for e in entries], routing)
        if entries:
            # After a worker was down, one digest covers the whole gap: its span
            # must start at its oldest change, not at the moment before this one.
            since = min(since, *(e.created_at for e in entries))

        queued = []
        for name, key in keys.items():
            message = render_digest(
                sub.name,
                items,
                since=since,
                until=due,
                language=sub.language,
                body_format=routing[name].body_format,
                timezone=sub.schedule.timezone,
            )
            _enqueue(session, key, sub.name, name, None, message, items, now=due)
            queued.append(Queued(key, sub.name, name, message))
        for entry in entries:
            entry.period = period
        if dry_run:
            session.rollback()
        else:
            session.commit()
            logger.info(
                "digest %s for %s: %d changes, %d messages queued",
                sub.name,
                due.isoformat(),
                len(items),
                len(queued),
            )
        return queued
    finally:
        session.close()


def _digest_done(session: Session, keys: Iterable[str]) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.idempotency_key.in_(list(keys)))
    )
    return bool(found)


def _waiting(subscription: str, due: datetime) -> Select[DigestEntry]:
    return (
        select(DigestEntry)
        .where(
            DigestEntry.subscription == subscription,
            DigestEntry.period.is_(None),
            DigestEntry.created_at <= due,
        )
        .order_by(DigestEntry.id)
    )


def reading(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on the same database that only read (on SQLite: no write lock)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        return sessions
    return sessionmaker(
        bind.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
    )


def digest_items(
    session: Session, event_ids: Sequence[int], routing: Routing
) -> list[Item]:
    """Events by id, with their context, in the order given."""
    if not event_ids:
        return []
    rows = session.execute(
        select(EventRow, Source)
        .join(Source, Source.id == EventRow.source_id)
        .where(EventRow.id.in_(list(event_ids)))
    ).all()
    by_source: dict[int, list[tuple[EventRow, Source]]] = defaultdict(list)
    for row, source in rows:
        by_source[source.id].append((row, source))
    items: dict[int, Item] = {}
    for pairs in by_source.values():
        source = pairs[0][1]
        events = [(row.id, repo.event_from_row(row, source.name)) for row, _ in pairs]
        ctx = context.load(
            session,
            source.id,
            source.name,
            [e for _, e in events],
            routing.source_pages.get(source.name, ()),
        )
        for event_id, event in events:
            items[event_id] = ctx.item(event, event_id)
    return [items[i] for i in event_ids if i in items]
