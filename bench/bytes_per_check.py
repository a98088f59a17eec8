"""Bytes the database grows by per check: unchanged, and per changed action.

    python bench/bytes_per_check.py [--checks 200] [--langs fi,en]

One source: every page of series-2024 (the action list and its dashboard, six
organizations, every action; in Finnish and English by default). The baseline is
round r00; then ``--checks`` unchanged checks an hour apart alternate the pages of
r00 and r01 (the same data re-rendered a day later by a restarted server, so no
page is byte-identical to the one before, as on a live site); then round r02 (real
edits) is checked once.

Sizes are SQLite's pages in use (page_count - freelist_count) after a WAL
checkpoint, so they include indexes and page overhead; the per-table split comes
from the dbstat table. For comparison the script also prints what storing every
page of every check would have cost (the 0001 scheme: one snapshot row and one new
compressed blob per page, since no two renders are byte-identical). Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import zlib
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.pipeline import observe_saved, record_check
from storage.db import open_database
from tests.history_series import round_time, saved_pages

GOAL = 200


def used_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def table_bytes(path: Path) -> dict[str, int]:
    """Payload plus b-tree overhead per table, indexes counted with their table."""
    with sqlite3.connect(path) as connection:
        try:
            rows = connection.execute(
                "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize - d.unused) "
                "FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name "
                "GROUP BY 1"
            ).fetchall()
        except sqlite3.OperationalError:  # SQLite built without dbstat
            return {}
    return {str(name): int(size) for name, size in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument(
        "--warm-up",
        type=int,
        default=10,
        help="unchanged checks before measuring (per-record memories fill up)",
    )
    parser.add_argument("--langs", default="fi,en")
    args = parser.parse_args()
    langs = tuple(args.langs.split(","))

    rounds = {
        name: [
            observe_saved(p.url, p.body, p.observed_at, p.status)
            for p in saved_pages(name, langs)
        ]
        for name in ("r00", "r01", "r02")
    }
    pages = len(rounds["r00"])
    start = round_time("r00", langs)

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.sqlite"
        db = open_database(str(path))
        record_check(db, "site", rounds["r00"], observed_at=start)
        first = used_bytes(path)
        for number in range(1, args.warm_up + 1):
            fetched = rounds["r01" if number % 2 else "r00"]
            record_check(
                db, "site", fetched, observed_at=start + timedelta(hours=number)
            )
        before, tables_before = used_bytes(path), table_bytes(path)

        began = time.perf_counter()
        outcomes: dict[str, int] = {}
        for number in range(args.warm_up + 1, args.warm_up + args.checks + 1):
            fetched = rounds["r01" if number % 2 else "r00"]
            when = start + timedelta(hours=number)
            report = record_check(db, "site", fetched, observed_at=when)
            outcomes[report.outcome.value] = outcomes.get(report.outcome.value, 0) + 1
        elapsed = time.perf_counter() - began
        after, tables_after = used_bytes(path), table_bytes(path)

        changed_at = start + timedelta(hours=args.warm_up + args.checks + 1)
        report = record_check(db, "site", rounds["r02"], observed_at=changed_at)
        after_change, tables_change = used_bytes(path), table_bytes(path)
        db.close()

    per_check = (after - before) / args.checks
    print(f"source: {pages} pages ({', '.join(langs)}); {args.checks} checks")
    if args.warm_up:
        print(
            f"first {args.warm_up} unchanged checks (warm-up, not counted below): "
            f"{(before - first) / args.warm_up:.0f} bytes per check"
        )
    print(f"outcomes of the repeated checks: {outcomes}")
    print(f"time per check: {1000 * elapsed / args.checks:.1f} ms")
    print(
        f"bytes per unchanged check: {per_check:.0f} "
        f"({per_check / pages:.1f} per page; goal < {GOAL}: "
        f"{per_check / GOAL:.2f} of the goal)"
    )
    grown = {
        table: (tables_after.get(table, 0) - tables_before.get(table, 0)) / args.checks
        for table in tables_after
    }
    for table, size in sorted(grown.items(), key=lambda item: -item[1]):
        if abs(size) >= 0.5:
            print(f"    {table:<28} {size:8.1f} bytes per check")

    full_scheme = sum(len(zlib.compress(o.body or b"", 6)) + 300 for o in rounds["r01"])
    print(
        f"storing every page of every check (0001 scheme, ~300 bytes of row and "
        f"headers per page): {full_scheme} bytes per check, "
        f"{full_scheme / max(per_check, 1):.0f}x more"
    )

    changed = {e.action_id for e in report.events if e.action_id}
    grown_change = after_change - after
    raw = tables_change.get("blobs", 0) - tables_after.get("blobs", 0)
    print(
        f"changed check (r02): outcome {report.outcome.value}, {len(report.events)} "
        f"events on {len(changed)} actions; {grown_change} bytes, of which "
        f"{raw} raw page bytes (blobs)"
    )
    for table in sorted(
        tables_change, key=lambda t: tables_after.get(t, 0) - tables_change[t]
    ):
        size = tables_change[table] - tables_after.get(table, 0)
        if size:
            print(f"    {table:<28} {size:8d} bytes")
    if changed:
        print(
            f"bytes per changed action: {grown_change / len(changed):.0f} in all, "
            f"{(grown_change - raw) / len(changed):.0f} without the raw pages"
        )


if __name__ == "__main__":
    main()
