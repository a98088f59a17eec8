"""Tables. Every schema change goes through an Alembic migration in ``migrations/``.

- ``sources``: what is watched, with its health.
- ``checks``: one row per check of a source, with its outcome.
- ``blobs``: raw page bytes, zlib-compressed and content-addressed (stored once).
- ``pages``: one row per URL of a source, pointing at its latest snapshot.
- ``snapshots``: one row per distinct observation of a page: fetch metadata, outcome
  and the raw bytes. A page seen again with the same status and the same parsed
  content gets no new row: the check's ``page_set`` and ``timings`` record it
  (see ``storage/snapshots.py``).
- ``actions`` / ``action_versions`` and ``organizations`` /
  ``organization_versions``: one identity row per record, one version row per
  distinct state (valid from / valid to, which fields changed).
- ``events``: the changes found.
- ``notifications``: the outbox, written in the same transaction as the events.
- ``digest_entries``: events waiting for a subscription's next digest.
- ``deadline_ledger``: staleness and task deadlines that hold, with their reminders.
- ``record_memory``: recent values of each record's fields (A/B flips alert once).
- ``plan_settings``: the staleness lines and time zone each source goes by.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# The widest scraped values the tables hold: a platform id (of an action, an
# organization or a task), an action's identifier, a page's language tag.
ID_LENGTH = 64
IDENTIFIER_LENGTH = 200
LANGUAGE_LENGTH = 20


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: planwatch stores aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="pages")
    created_at: Mapped[datetime]
    last_check_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(40))
    last_change_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_reported: Mapped[bool] = mapped_column(default=False)
    anomaly_reported: Mapped[bool] = mapped_column(default=False)


class Check(Base):
    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    observed_at: Mapped[datetime]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(40))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)
    # Which pages the check fetched, in order, and how long each took (0002).
    page_set_id: Mapped[int | None] = mapped_column(ForeignKey("page_sets.id"))
    timings: Mapped[bytes | None] = mapped_column(LargeBinary)


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed
    created_at: Mapped[datetime]


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    duration: Mapped[float | None]
    status_code: Mapped[int | None]
    fetch_outcome: Mapped[str] = mapped_column(String(40))
    parse_outcome: Mapped[str | None] = mapped_column(String(40))
    page_kind: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_LENGTH))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    headers: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    anomalies: Mapped[dict[str, Any] | None]
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    pruned_at: Mapped[datetime | None]  # when retention dropped the raw bytes


class ActionRecord(Base):
    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("source_id", "platform_id"),
        Index("ix_actions_platform_id", "platform_id"),
        Index("ix_actions_identifier", "identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    platform_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    identifier: Mapped[str | None] = mapped_column(String(IDENTIFIER_LENGTH))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    missing_checks: Mapped[int] = mapped_column(Integer, default=0)


class ActionVersion(Base):
    __tablename__ = "action_versions"
    __table_args__ = (
        Index("ix_action_versions_action_valid", "action_id", "valid_from"),
        Index("ix_action_versions_check", "check_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    state: Mapped[dict[str, Any]]
    changed_fields: Mapped[dict[str, Any] | None]


class OrganizationRecord(Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("source_id", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    platform_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class OrganizationVersion(Base):
    __tablename__ = "organization_versions"
    __table_args__ = (
        Index("ix_organization_versions_org_valid", "organization_id", "valid_from"),
        Index("ix_organization_versions_check", "check_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    state: Mapped[dict[str, Any]]
    changed_fields: Mapped[dict[str, Any] | None]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_observed", "observed_at"),
        Index("ix_events_check", "check_id"),
        # An action's changes (history) and a source's changes over time (changes
        # --site --since): each one range scan, in time order.
        Index(
            "ix_events_source_action", "source_id", "action_platform_id", "observed_at"
        ),
        Index("ix_events_source_observed", "source_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id"))
    kind: Mapped[str] = mapped_column(String(40))
    observed_at: Mapped[datetime]
    action_platform_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), index=True
    )
    action_identifier: Mapped[str | None] = mapped_column(String(IDENTIFIER_LENGTH))
    organization_platform_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    name: Mapped[str | None] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None]  # {"value": ...}: JSON of any shape
    after: Mapped[dict[str, Any] | None]
    url: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None]


class Notification(Base):
    """The outbox: one row per message to one target."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    target: Mapped[str] = mapped_column(String(200))  # a target's name, never its URL
    check_id: Mapped[int | None] = mapped_column(ForeignKey("checks.id"))
    created_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(20), default="text")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    events: Mapped[dict[str, Any] | None]  # {"ids": [...]}
    # Delivery bookkeeping (0004): which subscription asked for the message, which
    # worker is sending it since when, and how many sends a crash may have doubled.
    subscription: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    possible_duplicates: Mapped[int] = mapped_column(Integer, default=0)


class Page(Base):
    """One URL of one source: what its snapshots share."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text)
    # Not a foreign key: snapshots point at pages, and snapshot rows are never
    # deleted (retention only drops their raw bytes).
    latest_snapshot_id: Mapped[int | None] = mapped_column(Integer)


class PageSet(Base):
    """The pages one check fetched, in order; shared by every check that fetched them.

    ``page_ids`` is stored once per distinct list, so a check refers to its pages
    with one small integer.
    """

    __tablename__ = "page_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    page_ids: Mapped[dict[str, Any]]  # {"ids": [...]}


class DeadlineEntry(Base):
    """The reminder ledger: one row per condition that holds (an action is stale, a
    task is late or due soon), with how far along its alert cadence it is.

    Written in the check's transaction with its events, so a restart never sends an
    alert twice; the row goes when the condition ends.
    """

    __tablename__ = "deadline_ledger"
    __table_args__ = (UniqueConstraint("source_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    action_platform_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    started_at: Mapped[datetime]  # when the condition began (a line, a due date)
    noted_at: Mapped[datetime]  # the check that first saw it
    alert_index: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)  # events emitted
    last_alert_at: Mapped[datetime | None]


class RecordMemory(Base):
    """What a record's compared fields looked like on its last few checks.

    ``recent`` is {"checks": [{field: digest}, ...]}, oldest first: a change back to
    a value in it waits for a second check in a row (an A/B flip alerts once).
    """

    __tablename__ = "record_memory"
    __table_args__ = (UniqueConstraint("source_id", "record_kind", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    record_kind: Mapped[str] = mapped_column(String(20))  # action, organization
    platform_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    recent: Mapped[dict[str, Any]]


class PlanSettings(Base):
    """The staleness lines and time zone a source's last normal check went by."""

    __tablename__ = "plan_settings"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    target_days: Mapped[int]
    acceptable_days: Mapped[int]
    stale_days: Mapped[int]
    limits_from: Mapped[str] = mapped_column(String(20))  # plan, config, default
    plan_limits: Mapped[dict[str, Any] | None]  # the plan's own, when it names them
    timezone: Mapped[str | None] = mapped_column(String(64))
    observed_at: Mapped[datetime]


class DigestEntry(Base):
    """An event waiting for a subscription's next digest (0004).

    Written in the check's transaction with the event; ``period`` is the digest's
    idempotency key once the digest that lists it has been queued.
    """

    __tablename__ = "digest_entries"
    __table_args__ = (
        UniqueConstraint("subscription", "event_id"),
        Index("ix_digest_entries_pending", "subscription", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    created_at: Mapped[datetime]
    period: Mapped[str | None] = mapped_column(String(200))


class ScheduledJob(Base):
    """When one periodic job (a source's check, a daily job) is next due (0005).

    ``slot`` is the moment on the job's cadence, ``due_at`` the slot plus jitter.
    Processes sharing a PostgreSQL database claim a due row with SELECT ... FOR
    UPDATE SKIP LOCKED (see ``monitor/scheduling.py``).
    """

    __tablename__ = "schedules"

    key: Mapped[str] = mapped_column(String(240), primary_key=True)
    slot: Mapped[datetime]
    due_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_runner: Mapped[str | None] = mapped_column(String(200))
    runs: Mapped[int] = mapped_column(Integer, default=0)


class PageValidators(Base):
    """What to send a page's server to ask "changed since?" (0005).

    The ETag and Last-Modified of the page's latest full answer, and when that
    answer came: a page is fetched in full now and then even when its server keeps
    answering 304, in case it does so wrongly.
    """

    __tablename__ = "page_validators"

    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(80))
    full_fetch_at: Mapped[datetime | None]
