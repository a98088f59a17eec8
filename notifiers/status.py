"""What the outbox says about delivery, for ``planwatch notify status``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import DigestEntry, Notification

STATUSES = ("pending", "sending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class TargetStatus:
    target: str
    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    last_sent: datetime | None = None
    last_error: str | None = None  # of the latest message that has one
    possible_duplicates: int = 0


@dataclass(frozen=True, slots=True)
class FailedNotification:
    id: int
    target: str
    subscription: str | None
    attempts: int
    created_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    targets: tuple[TargetStatus, ...]
    failed: tuple[FailedNotification, ...]
    # Changes held for a subscription's next digest, by subscription name.
    digests_waiting: tuple[tuple[str, int], ...] = ()

    @property
    def possible_duplicates(self) -> int:
        return sum(t.possible_duplicates for t in self.targets)

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        return {
            "targets": [
                {k: plain(v) for k, v in asdict(t).items()} for t in self.targets
            ],
            "failed": [
                {k: plain(v) for k, v in asdict(f).items()} for f in self.failed
            ],
            "possible_duplicates": self.possible_duplicates,
            "digests_waiting": dict(self.digests_waiting),
        }


def overview(session: Session, configured: Iterable[str] = ()) -> Overview:
    """Counts per target and status, with every configured target listed."""
    counts: dict[str, dict[str, int]] = {name: {} for name in configured}
    for target, status, count in session.execute(
        select(Notification.target, Notification.status, func.count()).group_by(
            Notification.target, Notification.status
        )
    ):
        counts.setdefault(target, {})[status] = count
    targets = tuple(
        _target(session, name, by_status) for name, by_status in sorted(counts.items())
    )
    failed = tuple(
        FailedNotification(
            row.id,
            row.target,
            row.subscription,
            row.attempts,
            row.created_at,
            row.last_error,
        )
        for row in session.scalars(
            select(Notification)
            .where(Notification.status == "failed")
            .order_by(Notification.id)
        )
    )
    return Overview(targets, failed, digests_waiting(session))


def digests_waiting(session: Session) -> tuple[tuple[str, int], ...]:
    """How many changes each subscription's next digest holds, by name."""
    rows = session.execute(
        select(DigestEntry.subscription, func.count())
        .where(DigestEntry.period.is_(None))
        .group_by(DigestEntry.subscription)
        .order_by(DigestEntry.subscription)
    )
    return tuple((name, count) for name, count in rows)


def _target(session: Session, name: str, by_status: dict[str, int]) -> TargetStatus:
    last_sent = session.scalar(
        select(func.max(Notification.sent_at)).where(Notification.target == name)
    )
    last_error = session.scalar(
        select(Notification.last_error)
        .where(Notification.target == name, Notification.last_error.is_not(None))
        .order_by(Notification.last_attempt_at.desc(), Notification.id.desc())
        .limit(1)
    )
    duplicates = session.scalar(
        select(func.coalesce(func.sum(Notification.possible_duplicates), 0)).where(
            Notification.target == name
        )
    )
    return TargetStatus(
        target=name,
        last_sent=last_sent,
        last_error=last_error,
        possible_duplicates=int(duplicates or 0),
        **{status: by_status.get(status, 0) for status in STATUSES},
    )
