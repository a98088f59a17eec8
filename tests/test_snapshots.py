"""Snapshots: unchanged pages cost no rows; raw pages are kept, pruned by age."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import time_machine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.pipeline import record_check
from parsers.records import ParsedPage
from storage import repo
from storage.db import Database
from storage.models import Blob, Check, Snapshot, Source
from storage.retention import prune
from storage.snapshots import (
    check_pages,
    decode_timings,
    encode_timings,
    store_snapshots,
)
from tests.history_series import observations, record_rounds, round_time


def _count(db: Database, model: type) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_unchanged_check_adds_no_snapshot_rows(db: Database) -> None:
    # r01 is the same site a day later, served by a restarted server: no byte of
    # any page is the same, and the relative times moved.
    record_rounds(db, ("r00",))
    snapshots, blobs = _count(db, Snapshot), _count(db, Blob)
    record_rounds(db, ("r01",))

    assert (_count(db, Snapshot), _count(db, Blob)) == (snapshots, blobs)
    with db.reader() as session:
        second = session.scalars(select(Check).order_by(Check.id.desc())).first()
        assert second is not None
        assert second.outcome == "unchanged"
        pages = check_pages(session, second)
    r01 = observations("r01")
    assert [p.url for p in pages] == [o.url for o in r01]
    assert all(not p.new_snapshot and p.raw_kept for p in pages)
    assert [p.status_code for p in pages] == [o.status_code for o in r01]
    assert all(p.snapshot_id is not None for p in pages)


def test_a_changed_page_gets_a_snapshot_with_its_raw_bytes(db: Database) -> None:
    record_rounds(db, ("r00", "r02"))
    r02 = {o.url: o for o in observations("r02")}
    with db.reader() as session:
        last = session.scalars(select(Check).order_by(Check.id.desc())).first()
        assert last is not None
        pages = check_pages(session, last)
        new = [p for p in pages if p.new_snapshot]
        assert new, "r02 changed pages"
        renamed = next(p for p in new if p.url.endswith("/en/actions/2"))
        row = session.get(Snapshot, renamed.snapshot_id)
        assert row is not None
        assert row.blob_sha256 is not None
        assert repo.load_blob(session, row.blob_sha256) == r02[renamed.url].body
        assert row.fetched_at == r02[renamed.url].fetched_at
    new_urls = {p.url for p in new}
    assert "http://demo.localhost:3000/en/actions/19" in new_urls
    assert "http://demo.localhost:3000/en/actions/6" not in new_urls, "untouched"


def test_fetch_metadata_is_kept_for_every_page_of_every_check(db: Database) -> None:
    base = observations("r00")
    when = round_time("r00")
    timed = [replace(o, duration=0.01 * (i + 1)) for i, o in enumerate(base)]
    record_check(db, "demo", timed, observed_at=when)
    failing = [
        replace(
            o,
            duration=2.5,
            status_code=503,
            body=None,
            page=None,
            fetch_outcome="http_error",
            error="HTTP 503",
        )
        if i == 0
        else replace(o, duration=0.3)
        for i, o in enumerate(base)
    ]
    record_check(db, "demo", failing, observed_at=when + timedelta(hours=1))
    record_check(db, "demo", timed, observed_at=when + timedelta(hours=2))

    with db.reader() as session:
        checks = session.scalars(select(Check).order_by(Check.id)).all()
        first, second, third = (check_pages(session, c) for c in checks)
    assert [p.duration for p in first] == [
        round(0.01 * (i + 1), 2) for i in range(len(base))
    ]
    assert (second[0].status_code, second[0].fetch_outcome) == (503, "http_error")
    assert second[0].new_snapshot
    assert second[0].duration == 2.5
    assert all(not p.new_snapshot for p in second[1:])
    assert {p.duration for p in second[1:]} == {0.3}
    assert third[0].new_snapshot, "back to normal"
    assert third[0].status_code == 200
    assert not any(p.new_snapshot for p in third[1:])


def test_identical_pages_share_one_blob(db: Database) -> None:
    body = observations("r00")[0]
    twins = [body, replace(body, url=body.url + "?view=cards")]
    record_check(db, "demo", twins, observed_at=round_time("r00"))
    assert _count(db, Snapshot) == 2
    assert _count(db, Blob) == 1


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(0, 5000, allow_nan=False)), st.booleans()
        )
    )
)
def test_timings_round_trip_to_the_centisecond(
    pages: list[tuple[float | None, bool]],
) -> None:
    durations = [d for d, _ in pages]
    decoded = decode_timings(encode_timings(durations, [r for _, r in pages]))
    assert len(decoded) == len(pages)
    for (before, revalidated), (after, seen) in zip(pages, decoded, strict=True):
        assert seen == revalidated
        if before is None:
            assert after is None
        else:
            assert after is not None
            assert abs(after - before) <= 0.005 + 1e-9


def test_timings_cost_one_byte_per_page_under_half_a_second() -> None:
    assert len(encode_timings([0.2, 0.5, None, 0.6], [False, True])) == 4


def test_a_304_and_the_next_full_answer_add_no_snapshot(db: Database) -> None:
    # A server with validators answers 304, and the check reuses the stored page;
    # now and then the page is fetched in full again, with a new render time.
    base = observations("r00")
    when = round_time("r00")
    record_check(db, "demo", base, observed_at=when)
    revalidated = [
        replace(o, status_code=304, fetch_outcome="not_modified", body=None)
        for o in base
    ]
    record_check(db, "demo", revalidated, observed_at=when + timedelta(hours=1))
    record_check(db, "demo", observations("r01"), observed_at=when + timedelta(hours=2))

    assert _count(db, Snapshot) == len(base)
    with db.reader() as session:
        second, third = session.scalars(select(Check).order_by(Check.id)).all()[1:]
        assert {
            (p.status_code, p.fetch_outcome) for p in check_pages(session, second)
        } == {(304, "not_modified")}
        assert {
            (p.status_code, p.fetch_outcome) for p in check_pages(session, third)
        } == {(200, "ok")}


# -- retention -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fetched:
    """A page fetch for storage tests: status and bytes chosen by hand."""

    url: str
    fetched_at: datetime
    body: bytes | None
    status_code: int | None = 503
    fetch_outcome: str = "http_error"
    headers: dict[str, str] = field(default_factory=dict)
    duration: float | None = 0.1
    error: str | None = None
    page: ParsedPage | None = None


NOW = datetime(2027, 3, 1, tzinfo=UTC)


def _check(
    db: Database, days_ago: int, outcome: str, events: int, bodies: dict[str, bytes]
) -> None:
    when = NOW - timedelta(days=days_ago)
    with db.sessions.begin() as session:
        source = repo.source(session, "site", when)
        check = Check(
            source_id=source.id,
            observed_at=when,
            started_at=when,
            outcome=outcome,
            pages=len(bodies),
            events=events,
        )
        session.add(check)
        session.flush()
        store_snapshots(
            session, check, [_Fetched(url, when, body) for url, body in bodies.items()]
        )


def _raw_kept(db: Database) -> dict[tuple[int, str], bool]:
    with db.reader() as session:
        rows = session.execute(
            select(
                Snapshot.check_id,
                Snapshot.url,
                Snapshot.blob_sha256,
                Snapshot.pruned_at,
            )
        ).all()
    for row in rows:
        assert (row.blob_sha256 is None) == (row.pruned_at is not None)
    return {(row.check_id, row.url): row.blob_sha256 is not None for row in rows}


def test_prune_drops_old_raw_pages_except_those_that_changed_something(
    db: Database,
) -> None:
    _check(db, 30, "baseline", 0, {"p": b"page one", "q": b"page q"})
    _check(db, 20, "failed", 0, {"p": b"error page two"})
    _check(db, 15, "changed", 2, {"p": b"page three"})
    _check(db, 12, "unchanged", 0, {"p": b"page one"})  # same bytes as day 30
    _check(db, 1, "unchanged", 0, {"p": b"page five"})
    before = _raw_kept(db)
    assert all(before.values())
    assert len(before) == 6

    with db.sessions.begin() as session:
        dry = prune(session, keep_days=7, now=NOW, dry_run=True)
    assert _raw_kept(db) == before, "a dry run changes nothing"

    with db.sessions.begin() as session:
        report = prune(session, keep_days=7, now=NOW)
    assert replace(dry, dry_run=False) == report
    assert (report.snapshots_pruned, report.snapshots_kept) == (2, 3)
    assert report.blobs_deleted == 1, "page one's blob is shared with the baseline"
    assert report.bytes_freed == len(zlib.compress(b"error page two", 6))
    assert _raw_kept(db) == {
        (1, "p"): True,  # baseline
        (1, "q"): True,  # baseline, and still q's latest
        (2, "p"): False,  # an old check that changed nothing
        (3, "p"): True,  # a check that found changes
        (4, "p"): False,
        (5, "p"): True,  # younger than 7 days, and p's latest
    }
    assert _count(db, Snapshot) == 6, "metadata rows stay"
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        check = session.get(Check, 2)
        assert check is not None
        (pruned,) = check_pages(session, check)
        assert (pruned.status_code, pruned.raw_kept) == (503, False)

    with db.sessions.begin() as session:
        again = prune(session, keep_days=7, now=NOW)
    assert (again.snapshots_pruned, again.blobs_deleted) == (0, 0)


def test_db_prune_command(db: Database) -> None:
    _check(db, 30, "baseline", 0, {"p": b"one"})
    _check(db, 20, "unchanged", 0, {"p": b"two"})
    _check(db, 10, "unchanged", 0, {"p": b"three"})
    url = db.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    with time_machine.travel(NOW, tick=False):
        result = runner.invoke(
            app, ["db", "prune", "--keep-days", "3", "--dry-run", "--db", url]
        )
        assert result.exit_code == 0, result.output
        assert "would drop the raw pages of 1 snapshots" in result.output
        result = runner.invoke(
            app, ["db", "prune", "--keep-days", "3", "--json", "--db", url]
        )
    assert '"snapshots_pruned": 1' in result.output
    result = CliRunner().invoke(app, ["db", "prune", "--keep-days", "-1", "--db", url])
    assert "give 0 or more days" in str(result.exception)
