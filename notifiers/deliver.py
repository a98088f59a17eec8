"""Sending what the outbox holds, through Apprise.

A message is committed to the outbox with the events that caused it; delivery
happens after, and marks each row sent, retried later or failed. One failing target
never blocks the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import apprise
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from notifiers.targets import Target, redact
from storage.models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BASE_DELAY = timedelta(seconds=30)

Sender = Callable[[Target, str, str, str], None]


@dataclass(frozen=True, slots=True)
class Delivery:
    notification_id: int
    target: str
    status: str  # sent, retry, failed
    error: str | None


def apprise_send(target: Target, title: str, body: str, body_format: str) -> None:
    """Send one message to one target; raise with a secret-free message on failure."""
    client = apprise.Apprise()
    if not client.add(target.url):
        raise RuntimeError(f"target {target.name!r}: Apprise does not accept its URL")
    formats = {
        "text": apprise.NotifyFormat.TEXT,
        "markdown": apprise.NotifyFormat.MARKDOWN,
        "html": apprise.NotifyFormat.HTML,
    }
    ok = client.notify(title=title, body=body, body_format=formats[body_format])
    if not ok:
        raise RuntimeError(f"target {target.name!r} refused the message")


def deliver_pending(
    sessions: sessionmaker[Session],
    targets: Mapping[str, Target],
    *,
    now: datetime | None = None,
    send: Sender = apprise_send,
) -> list[Delivery]:
    moment = now or datetime.now(UTC)
    with sessions() as session:
        due = session.scalars(
            select(Notification)
            .where(
                Notification.status == "pending",
                or_(
                    Notification.next_attempt_at.is_(None),
                    Notification.next_attempt_at <= moment,
                ),
            )
            .order_by(Notification.id)
        ).all()
        ids = [row.id for row in due]
    return [_deliver_one(sessions, nid, targets, moment, send) for nid in ids]


def _deliver_one(
    sessions: sessionmaker[Session],
    notification_id: int,
    targets: Mapping[str, Target],
    now: datetime,
    send: Sender,
) -> Delivery:
    with sessions.begin() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        target = targets.get(row.target)
        row.attempts += 1
        try:
            if target is None:
                raise RuntimeError(f"no target named {row.target!r} in the config")
            send(target, row.title, row.body, row.body_format)
        except Exception as exc:  # any failure is recorded, never raised
            secrets = [t.url for t in targets.values()]
            error = redact(f"{type(exc).__name__}: {exc}", secrets)
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                logger.error(
                    "notification %s to %s failed for good: %s",
                    row.id,
                    row.target,
                    error,
                )
            else:
                row.next_attempt_at = now + BASE_DELAY * (2 ** (row.attempts - 1))
                logger.warning(
                    "notification %s to %s failed (attempt %d): %s",
                    row.id,
                    row.target,
                    row.attempts,
                    error,
                )
            return Delivery(
                row.id,
                row.target,
                row.status if row.status == "failed" else "retry",
                error,
            )
        row.status = "sent"
        row.sent_at = now
        row.last_error = None
        logger.info("notification %s sent to %s", row.id, target)
        return Delivery(row.id, row.target, "sent", None)
