"""Retention: ``planwatch db prune --keep-days N``.

Every record version, event and snapshot row is kept: they are small and they are the
history. What goes is the raw bytes of pages older than N days, except:

- pages of checks that changed something: a check with events, a baseline, or a
  check that opened a record version;
- each page's latest snapshot, which later checks of an unchanged page point to.

A pruned snapshot keeps its metadata and content fingerprint, with ``pruned_at`` set.
Blobs no snapshot refers to any more are deleted (identical pages share one blob).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from parsers.errors import PlanwatchError
from storage.models import (
    ActionVersion,
    Blob,
    Check,
    OrganizationVersion,
    Page,
    Snapshot,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PruneReport:
    cutoff: datetime
    snapshots_pruned: int  # raw bytes dropped from these snapshots
    snapshots_kept: int  # older than the cutoff, kept because they mattered
    blobs_deleted: int
    bytes_freed: int  # compressed bytes of the deleted blobs
    dry_run: bool


def prune(
    session: Session, *, keep_days: int, now: datetime, dry_run: bool = False
) -> PruneReport:
    if keep_days < 0:
        raise PlanwatchError(f"--keep-days {keep_days}: give 0 or more days")
    try:
        cutoff = now - timedelta(days=keep_days)
    except OverflowError:
        # More days than the calendar holds ("keep everything"): no page is older.
        cutoff = datetime.min.replace(tzinfo=UTC)

    old = and_(Snapshot.fetched_at < cutoff, Snapshot.blob_sha256.is_not(None))
    prunable = and_(old, ~_mattered())
    pruned = _count(session, prunable)
    kept = _count(session, and_(old, _mattered()))
    still_used = exists().where(Snapshot.blob_sha256 == Blob.sha256, ~prunable)
    blobs, size = session.execute(
        select(func.count(), func.coalesce(func.sum(func.length(Blob.data)), 0)).where(
            ~still_used
        )
    ).one()
    report = PruneReport(cutoff, pruned, kept, int(blobs), int(size), dry_run)
    if dry_run:
        return report

    session.execute(
        update(Snapshot).where(prunable).values(blob_sha256=None, pruned_at=now)
    )
    session.execute(
        delete(Blob).where(~exists().where(Snapshot.blob_sha256 == Blob.sha256))
    )
    logger.info(
        "pruned the raw pages of %d snapshots older than %s: %d blobs, %d bytes",
        pruned,
        cutoff.isoformat(),
        report.blobs_deleted,
        report.bytes_freed,
    )
    return report


def _mattered() -> ColumnElement[bool]:
    """Snapshots whose raw bytes retention keeps, whatever their age."""
    return or_(
        exists().where(
            Check.id == Snapshot.check_id,
            or_(Check.events > 0, Check.outcome == "baseline"),
        ),
        exists().where(ActionVersion.check_id == Snapshot.check_id),
        exists().where(OrganizationVersion.check_id == Snapshot.check_id),
        exists().where(Page.latest_snapshot_id == Snapshot.id),
    )


def _count(session: Session, condition: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(Snapshot).where(condition)
    return int(session.scalar(query) or 0)
