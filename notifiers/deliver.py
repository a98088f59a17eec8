"""The delivery worker: sends what the outbox holds, through Apprise.

Each message goes through three steps, each its own transaction:

1. *claim*: the row becomes ``sending``, stamped with this worker and the time,
   and its attempt is counted (a compare-and-set, so two workers never both win);
2. *send*, outside any transaction;
3. *record*: ``sent``; or back to ``pending`` with an exponential backoff and the
   error (secrets masked); or ``failed`` once the attempts run out.

A worker killed between 2 and 3 leaves a ``sending`` row. It is taken over when
its claim is older than the policy's timeout, or at once when the claim is from a
process on this machine that no longer runs; the takeover counts a *possible
duplicate* on the row, because the message may have arrived. So a crash costs at
most one duplicate per message, and ``planwatch notify status`` shows how many.

Targets are served in parallel, each by its own thread, so one slow or failing
target never holds up the others.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import apprise
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from notifiers import secrets
from notifiers.outbox import flush_digests, reading
from notifiers.subscriptions import DeliveryPolicy, Routing
from notifiers.targets import Target, with_header
from parsers.errors import NotifyError
from storage.models import Notification

logger = logging.getLogger(__name__)
# A send that will be tried again has a logger of its own: a one-shot `planwatch
# check` keeps it quiet (its delivery line says the same), `planwatch run` logs it.
retry_logger = logging.getLogger(f"{__name__}.retries")

MAX_THREADS = 8
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as a sender sees it."""

    key: str
    title: str
    body: str
    body_format: str


Sender = Callable[[Target, Outgoing], None]


@dataclass(frozen=True, slots=True)
class Delivery:
    notification_id: int
    target: str
    status: str  # sent, retry, failed
    error: str | None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def apprise_send(target: Target, message: Outgoing) -> None:
    """Send one message to one target; raise NotifyError, without secrets, if not."""
    client = apprise.Apprise()
    # Webhook receivers get the idempotency key, so they can drop a resend.
    with secrets.apprise_muted():  # a URL it cannot read is our error, not its log
        accepted = client.add(with_header(target, IDEMPOTENCY_HEADER, message.key))
    if not accepted:
        raise NotifyError(
            f"target {target.name!r}: Apprise does not accept its URL",
            target=target.name,
        )
    result = client.notify(
        body=message.body, title=message.title, body_format=message.body_format
    )
    if not result:
        reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
        reason = secrets.redact("; ".join(dict.fromkeys(reasons)) or "no reason given")
        raise NotifyError(
            f"target {target.name!r} did not take the message: {reason}",
            target=target.name,
        )


def deliver_pending(
    sessions: sessionmaker[Session],
    targets: Mapping[str, Target],
    *,
    now: datetime | None = None,
    send: Sender = apprise_send,
    worker: str | None = None,
) -> list[Delivery]:
    """Queue due digests, then send every due message; returns what happened."""
    routing = Routing.of(targets)
    moment = now or datetime.now(UTC)
    me = worker or worker_id()
    flush_digests(sessions, routing, moment)

    # A message for a target this config does not name (another config's sharing
    # the database, or `planwatch check URL` with none) waits for a worker that
    # can send it: trying it here would spend its attempts until it failed unsent.
    due: list[tuple[int, str]] = []
    foreign: dict[str, int] = defaultdict(int)
    for notification_id, name in _due(sessions, moment):
        if routing.target_for(name) is None:
            foreign[name] += 1
        else:
            due.append((notification_id, name))
    if foreign:
        logger.warning(
            "messages wait for targets this config does not name: %s",
            ", ".join(f"{name} ({count})" for name, count in sorted(foreign.items())),
        )
    by_target: dict[str, list[int]] = defaultdict(list)
    for notification_id, target in due:
        by_target[target].append(notification_id)
    if not by_target:
        return []

    def clock() -> datetime:
        # A claim is stamped when its send begins: stamped with the pass's start,
        # a message sent late in a long pass looked abandoned to other workers.
        return now or datetime.now(UTC)

    def serve(name: str) -> list[Delivery]:
        target = routing.target_for(name)
        assert target is not None  # only targets the routing has are due here
        done = []
        for notification_id in by_target[name]:
            delivery = _deliver_one(
                sessions, notification_id, target, routing.policy, clock, send, me
            )
            if delivery is None:
                continue
            done.append(delivery)
            if delivery.status != "sent":
                break  # the target is in trouble: its other messages wait their turn
        return done

    results: list[Delivery] = []
    threads = min(MAX_THREADS, len(by_target))
    with ThreadPoolExecutor(threads, thread_name_prefix="deliver") as pool:
        futures = {name: pool.submit(serve, name) for name in by_target}
        for name, future in futures.items():
            try:
                results += future.result()
            except Exception as exc:  # a database failure for one target
                logger.error(
                    "delivery to %s stopped: %s", name, secrets.redact(str(exc))
                )
    return sorted(results, key=lambda d: d.notification_id)


def _due(sessions: sessionmaker[Session], now: datetime) -> list[tuple[int, str]]:
    with reading(sessions)() as session:
        rows = session.execute(
            select(Notification.id, Notification.target)
            .where(
                or_(
                    Notification.status == "sending",
                    (Notification.status == "pending")
                    & or_(
                        Notification.next_attempt_at.is_(None),
                        Notification.next_attempt_at <= now,
                    ),
                )
            )
            .order_by(Notification.id)
        ).all()
    return [(row.id, row.target) for row in rows]


@dataclass(frozen=True, slots=True)
class _Claim:
    outgoing: Outgoing
    attempts: int


def _deliver_one(
    sessions: sessionmaker[Session],
    notification_id: int,
    target: Target,
    policy: DeliveryPolicy,
    clock: Callable[[], datetime],
    send: Sender,
    me: str,
) -> Delivery | None:
    claim = _claim(sessions, notification_id, clock(), policy, me)
    if claim is None:
        return None

    error = None
    try:
        send(target, claim.outgoing)
    except Exception as exc:  # every failure is recorded, none is raised
        error = secrets.redact(f"{type(exc).__name__}: {exc}")

    return _record(
        sessions, notification_id, claim.attempts, error, clock(), policy, me
    )


def _claim(
    sessions: sessionmaker[Session],
    notification_id: int,
    now: datetime,
    policy: DeliveryPolicy,
    me: str,
) -> _Claim | None:
    with sessions.begin() as session:
        row = session.get(Notification, notification_id)
        if row is None or row.status not in ("pending", "sending"):
            return None
        if (
            row.status == "pending"
            and row.next_attempt_at
            and row.next_attempt_at > now
        ):
            return None
        duplicates = row.possible_duplicates or 0
        if row.status == "sending":
            if not _abandoned(row.claimed_by, row.claimed_at, now, policy, me):
                return None
            duplicates += 1
            logger.warning(
                "notification %s to %s: taking over from %s, whose send may have "
                "arrived (possible duplicate)",
                row.id,
                row.target,
                row.claimed_by,
            )
            if row.attempts >= policy.max_attempts:
                # Workers keep dying on this one: stop, and say it may have arrived.
                row.status = "failed"
                row.possible_duplicates = duplicates
                row.claimed_by = row.claimed_at = None
                row.last_error = (
                    f"delivery interrupted on attempt {row.attempts}; "
                    "the message may have arrived"
                )
                return None
        attempts = row.attempts + 1
        taken = session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == row.status,
                Notification.attempts == row.attempts,
            )
            .values(
                status="sending",
                claimed_by=me,
                claimed_at=now,
                attempts=attempts,
                last_attempt_at=now,
                possible_duplicates=duplicates,
            )
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], taken).rowcount != 1:
            return None
        outgoing = Outgoing(row.idempotency_key, row.title, row.body, row.body_format)
        return _Claim(outgoing, attempts)


def _abandoned(
    claimed_by: str | None,
    claimed_at: datetime | None,
    now: datetime,
    policy: DeliveryPolicy,
    me: str,
) -> bool:
    if claimed_at is None or claimed_at + policy.claim_timeout <= now:
        return True
    host, _, pid = (claimed_by or "").rpartition(":")
    if claimed_by == me or host != socket.gethostname() or not pid.isdigit():
        return False
    return not _running(int(pid))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _record(
    sessions: sessionmaker[Session],
    notification_id: int,
    attempts: int,
    error: str | None,
    now: datetime,
    policy: DeliveryPolicy,
    me: str,
) -> Delivery:
    with sessions.begin() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        if row.status == "sent":
            return Delivery(row.id, row.target, "sent", None)  # a taker-over won
        if row.claimed_by != me and row.status == "sending" and error is not None:
            # Our claim timed out and another worker is trying now: its turn.
            return Delivery(row.id, row.target, "retry", error)
        row.claimed_by = None
        row.claimed_at = None
        if error is None:
            row.status = "sent"
            row.sent_at = now
            row.last_error = None
            logger.info("notification %s sent to %s", row.id, row.target)
            return Delivery(row.id, row.target, "sent", None)

        row.last_error = error
        if attempts >= policy.max_attempts:
            row.status = "failed"
            logger.error(
                "notification %s to %s failed for good after %d attempts: %s",
                row.id,
                row.target,
                attempts,
                error,
            )
            return Delivery(row.id, row.target, "failed", error)
        row.status = "pending"
        row.next_attempt_at = now + policy.retry_delay(attempts)
        retry_logger.warning(
            "notification %s to %s failed (attempt %d of %d, next at %s): %s",
            row.id,
            row.target,
            attempts,
            policy.max_attempts,
            row.next_attempt_at.isoformat(timespec="seconds"),
            error,
        )
        return Delivery(row.id, row.target, "retry", error)
