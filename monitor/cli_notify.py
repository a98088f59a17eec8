"""``planwatch notify``: the outbox and the targets, for operators.

- ``status``: per target, how many messages are pending, being sent, sent and
  failed, the last error, and how many sends a crash may have doubled.
- ``send``: one pass of the delivery worker (due digests, then due messages).
- ``test TARGET``: a short message to one target, to see that it works.
- ``preview``: what a subscription would receive for recent changes.
- ``retry``: put failed messages back in the queue.

``--dry-run`` renders and prints instead of sending; ``--force-to URL`` sends
everything to one Apprise URL instead of the configured targets (staging). No
command prints a target's URL: targets are shown by name and scheme.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.cli import (
    ConfigOption,
    DbOption,
    JsonOption,
    _open,
    _open_existing,
    app,
    err,
    out,
    parse_moment,
)
from monitor.config import Config, load_config
from monitor.progress import quiet_retries
from monitor.tables import folding_table
from notifiers import outbox, secrets
from notifiers.context import Item
from notifiers.deliver import Outgoing, apprise_send, deliver_pending
from notifiers.render import Message, render_check, render_digest, render_test
from notifiers.status import Overview, overview
from notifiers.subscriptions import Mode, Routing, Subscription
from notifiers.targets import FORMATS, LANGUAGES
from parsers.errors import ConfigError, PlanwatchError
from storage.models import DigestEntry, EventRow, Notification

notify_app = typer.Typer(
    help="Notifications: outbox status, delivery, test messages, previews.",
    no_args_is_help=True,
)
app.add_typer(notify_app, name="notify")

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Render and print; send nothing.")
]
ForceToOption = Annotated[
    str | None,
    typer.Option(
        "--force-to",
        help="Send everything to this Apprise URL instead (staging).",
        envvar="PLANWATCH_FORCE_TO",
        show_envvar=True,
    ),
]


@notify_app.command("status")
def status(
    config_path: ConfigOption = None, db: DbOption = None, json_out: JsonOption = False
) -> None:
    """Per target: pending, sending, sent and failed messages, and the last error."""
    config = load_config(config_path) if config_path else None
    database = _open_existing(db, config)
    try:
        with database.reader() as session:
            report = overview(
                session, [t.name for t in config.targets] if config else []
            )
    finally:
        database.close()
    if json_out:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return
    _print_overview(report)
    if config:
        _print_foreign(report, config)


@notify_app.command("send")
def send(
    config_path: ConfigOption = None,
    db: DbOption = None,
    dry_run: DryRunOption = False,
    force_to: ForceToOption = None,
) -> None:
    """Deliver what is due now: digests whose time has come, then the outbox."""
    config = _require(config_path, "send")
    routing = _routing(config, force_to)
    database = _open(db, config)
    try:
        if dry_run:
            _print_due(database.sessions, routing)
            return
        with quiet_retries():  # each delivery's line below says what failed
            deliveries = deliver_pending(database.sessions, routing)
    finally:
        database.close()
    if not deliveries:
        out.print("nothing due")
    for d in deliveries:
        line = f"notification {d.notification_id} to {d.target}: {d.status}"
        out.print(line + (f" ({d.error})" if d.error else ""), markup=False)
    if any(d.status == "failed" for d in deliveries):
        raise typer.Exit(1)  # for cron: a message will not be tried again by itself


@notify_app.command("test")
def send_test(
    target: Annotated[str, typer.Argument(help="A target's name from the config.")],
    config_path: ConfigOption = None,
    dry_run: DryRunOption = False,
    force_to: ForceToOption = None,
) -> None:
    """Send a short test message to one target and say whether it arrived."""
    config = _require(config_path, "test")
    known = [t.name for t in config.targets]
    if target not in known:
        raise PlanwatchError(
            f"no target named {target!r}; known: {', '.join(known) or 'none'}"
        )
    chosen = _routing(config, force_to, only={target}).target_for(target)
    assert chosen is not None  # read above, or the config error was raised
    message = render_test(
        target, language=chosen.language, body_format=chosen.body_format
    )
    if dry_run:
        _print_message(f"test message for {chosen}", message)
        return
    key = f"test|{target}|{datetime.now(UTC).isoformat()}"
    try:
        with quiet_retries():  # the error below quotes Apprise's reason
            apprise_send(
                chosen, Outgoing(key, message.title, message.body, message.body_format)
            )
    except Exception as exc:
        raise PlanwatchError(
            secrets.redact(f"test message to {chosen} failed: {exc}")
        ) from None
    out.print(f"test message sent to {chosen}", markup=False)


@notify_app.command("preview")
def preview(
    subscription: Annotated[
        str | None,
        typer.Option("--subscription", "-s", help="Only this subscription."),
    ] = None,
    config_path: ConfigOption = None,
    db: DbOption = None,
    since: Annotated[
        str | None, typer.Option(help="Changes since this ISO-8601 time.")
    ] = None,
    body_format: Annotated[
        str | None, typer.Option("--format", help="text, markdown or html.")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="en, fi, sv or de (default: the subscription's).")
    ] = None,
) -> None:
    """Show what a subscription would receive for recent changes; send nothing.

    Without --since: the changes of the latest check that found any (for a
    digest: the changes waiting for its next digest, if there are some).
    """
    if body_format is not None and body_format not in FORMATS:
        raise PlanwatchError(f"--format: one of {', '.join(FORMATS)}")
    if language is not None and language not in LANGUAGES:
        raise PlanwatchError(f"--language: one of {', '.join(LANGUAGES)}")
    config = load_config(config_path) if config_path else None
    routing = _preview_routing(config, subscription) if config else None
    subs = _preview_subscriptions(routing, subscription)
    moment = parse_moment("--since", since)
    database = _open_existing(db, config)
    try:
        with database.reader() as session:
            for sub in subs:
                chosen = routing or Routing({})
                shown = 0
                for message in _preview(
                    session, chosen, sub, moment, body_format, language
                ):
                    _print_message(f"subscription {sub.name}", message)
                    shown += 1
                if not shown:  # an empty terminal was the only answer
                    after = f" since {since}" if since else ""
                    out.print(
                        f"subscription {sub.name}: nothing to send "
                        f"(no change{after} matches it)",
                        markup=False,
                    )
    finally:
        database.close()


@notify_app.command("retry")
def retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Notification ids (see status).")
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed notification.")
    ] = False,
    db: DbOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Put failed notifications back in the queue, with their attempts reset."""
    if not ids and not all_failed:
        raise PlanwatchError("give notification ids, or --all-failed")
    config = load_config(config_path) if config_path else None
    database = _open_existing(db, config)
    try:
        with database.sessions.begin() as session:
            if ids:
                _check_retry_ids(session, ids)
            query = update(Notification).where(Notification.status == "failed")
            if ids:
                query = query.where(Notification.id.in_(ids))
            result = session.execute(
                query.values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=datetime.now(UTC),
                    claimed_by=None,
                    claimed_at=None,
                ).execution_options(synchronize_session=False)
            )
            count = int(getattr(result, "rowcount", 0))
    finally:
        database.close()
    out.print(f"{count} notification{'s' if count != 1 else ''} queued again")


_MAX_ID = 2**31 - 1


def _check_retry_ids(session: Session, ids: Sequence[int]) -> None:
    """Refuse ids no notification has (exit 1, nothing queued); say which of the
    others are not failed and so stay as they are."""
    # An id past the column's integers (32 bits on PostgreSQL) is no message's;
    # handed to the database it ended in an overflow traceback.
    held = [i for i in ids if 0 < i <= _MAX_ID]
    statuses = dict(
        session.execute(
            select(Notification.id, Notification.status).where(
                Notification.id.in_(held)
            )
        ).all()
    )
    missing = sorted(set(ids) - set(statuses))
    if missing:
        failed = session.scalars(
            select(Notification.id)
            .where(Notification.status == "failed")
            .order_by(Notification.id)
        ).all()
        listed = ", ".join(str(i) for i in failed[:20]) or "none"
        plural = "s" if len(missing) > 1 else ""
        err.print(
            f"planwatch: error: no notification{plural} with id "
            f"{', '.join(str(i) for i in missing)}; nothing queued (failed ones: "
            f"{listed}; see planwatch notify status)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    for notification_id in sorted(set(ids)):
        status = statuses[notification_id]
        if status != "failed":
            out.print(
                f"notification {notification_id} is {status}, not failed: "
                "left as it is",
                markup=False,
                highlight=False,
            )


# -- helpers -----------------------------------------------------------------------


def _require(path: Any, command: str) -> Config:
    if path is None:
        raise PlanwatchError(
            f"notify {command} needs the config (-c FILE): it holds the targets"
        )
    config = load_config(path)
    return config


def _routing(
    config: Config, force_to: str | None, only: set[str] | None = None
) -> Routing:
    routing = config.resolved_targets(only)
    if force_to:
        try:
            return routing.forced_to(force_to)
        except ValueError as exc:
            raise ConfigError(f"--force-to: {exc}") from None
    return routing


def _print_foreign(report: Overview, config: Config) -> None:
    """What no worker with this config will send: the messages of a renamed or
    removed target, the changes held for a renamed or removed digest."""
    targets = {t.name for t in config.targets}
    waiting = [
        f"{row.target} ({row.pending + row.sending})"
        for row in report.targets
        if row.target not in targets and row.pending + row.sending
    ]
    if waiting:
        out.print(
            "waiting for a target this config does not name: " + ", ".join(waiting),
            markup=False,
        )
    digests = {s.name for s in config.subscriptions if s.mode == "digest"}
    stranded = [f"{n} ({c})" for n, c in report.digests_waiting if n not in digests]
    if stranded:
        out.print(
            "changes waiting for a digest this config does not have: "
            + ", ".join(stranded),
            markup=False,
        )


def _print_overview(report: Overview) -> None:
    table = folding_table(
        "target", "pending", "sending", "sent", "failed", "last sent", "last error"
    )
    for row in report.targets:
        table.add_row(
            row.target,
            str(row.pending),
            str(row.sending),
            str(row.sent),
            str(row.failed),
            row.last_sent.isoformat(timespec="seconds") if row.last_sent else "",
            row.last_error or "",
        )
    out.print(table)
    out.print(
        f"possible duplicates (a worker stopped mid-send): {report.possible_duplicates}"
    )
    if report.digests_waiting:
        out.print(
            "changes waiting for their digest: "
            + ", ".join(f"{n} ({c})" for n, c in report.digests_waiting),
            markup=False,
        )
    if not report.failed:
        out.print("no failed notifications")
        return
    failed = folding_table(
        "id", "target", "subscription", "attempts", "created", "last error"
    )
    for item in report.failed:
        failed.add_row(
            str(item.id),
            item.target,
            item.subscription or "",
            str(item.attempts),
            item.created_at.isoformat(timespec="seconds"),
            item.last_error or "",
        )
    out.print("failed notifications (planwatch notify retry ID ... to queue again):")
    out.print(failed)


def _print_due(sessions: Any, routing: Routing) -> None:
    now = datetime.now(UTC)
    digests = outbox.flush_digests(sessions, routing, now, dry_run=True)
    with sessions() as session:
        rows = session.scalars(
            select(Notification)
            .where(
                Notification.status.in_(("pending", "sending")),
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.id)
        ).all()
        # As deliver_pending: another config's message is not this one's to send.
        rows = [row for row in rows if routing.target_for(row.target) is not None]
        for row in rows:
            _print_message(
                f"notification {row.id} to {routing.target_for(row.target)} "
                "(would be sent)",
                Message(row.title, row.body, row.body_format),
            )
    for queued in digests:
        where = routing.target_for(queued.target)
        _print_message(
            f"digest {queued.subscription} to {where or queued.target} "
            "(would be queued)",
            queued.message,
        )
    if not rows and not digests:
        out.print("nothing due")


def _print_message(heading: str, message: Message) -> None:
    out.rule(heading, style="dim")
    out.print(f"[{message.body_format}] {message.title}", markup=False, highlight=False)
    out.print(message.body, markup=False, highlight=False)


def _preview_routing(config: Config, subscription: str | None) -> Routing:
    """The routing a preview needs: one subscription's targets, or all of them."""
    if subscription is None:
        return config.resolved_targets()
    routes = config.subscription_targets()
    if subscription not in routes:
        known = ", ".join(routes) or "none"
        raise PlanwatchError(f"no subscription named {subscription!r}; known: {known}")
    return config.resolved_targets(set(routes[subscription]))


def _preview_subscriptions(
    routing: Routing | None, name: str | None
) -> Sequence[Subscription]:
    if routing is None:
        everything = Subscription(name="everything", targets=())
        if name not in (None, "everything"):
            raise PlanwatchError(
                f"no subscription named {name!r}; known: everything (the only one "
                "without a config; give -c CONFIG for its subscriptions)"
            )
        return [everything]
    if name is None:
        return routing.subscriptions
    try:
        return [routing.subscription(name)]
    except KeyError as exc:
        raise PlanwatchError(str(exc.args[0])) from None


def _preview(
    session: Session,
    routing: Routing,
    sub: Subscription,
    since: datetime | None,
    body_format: str | None,
    language: str | None,
) -> list[Message]:
    fmt = body_format or (
        routing[sub.targets[0]].body_format if sub.targets else "text"
    )
    lang = language or sub.language
    ids = _preview_events(session, sub, since)
    items = [
        i
        for i in outbox.digest_items(session, ids, routing)
        if sub.filters.matches(i.facts)
    ]
    if sub.mode is Mode.DIGEST:
        assert sub.schedule is not None
        until = sub.schedule.next_due(datetime.now(UTC))
        return [
            render_digest(
                sub.name,
                items,
                since=since,
                until=until,
                language=lang,
                body_format=fmt,
                timezone=sub.schedule.timezone,
            )
        ]
    if not items:
        return []
    by_source: dict[str, list[Item]] = {}
    for item in items:
        by_source.setdefault(item.event.source, []).append(item)
    return [
        render_check(
            source,
            group,
            language=lang,
            body_format=fmt,
            observed_at=group[-1].event.observed_at,
            timezone=sub.timezone,
        )
        for source, group in by_source.items()
    ]


def _preview_events(
    session: Session, sub: Subscription, since: datetime | None
) -> list[int]:
    if since is not None:
        return list(
            session.scalars(
                select(EventRow.id)
                .where(EventRow.observed_at >= since)
                .order_by(EventRow.observed_at, EventRow.id)
            )
        )
    if sub.mode is Mode.DIGEST:
        waiting = list(
            session.scalars(
                select(DigestEntry.event_id)
                .where(
                    DigestEntry.subscription == sub.name, DigestEntry.period.is_(None)
                )
                .order_by(DigestEntry.id)
            )
        )
        if waiting:
            return waiting
    latest = session.scalar(
        select(EventRow.check_id).order_by(EventRow.id.desc()).limit(1)
    )
    if latest is None:
        return []
    return list(
        session.scalars(
            select(EventRow.id).where(EventRow.check_id == latest).order_by(EventRow.id)
        )
    )
