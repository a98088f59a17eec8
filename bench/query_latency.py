"""`show --as-of` and `history` on a database holding a million record versions.

    python bench/query_latency.py [--sources 100] [--actions 200] [--versions 50]
                                  [--db PATH] [--runs 50]

Builds (or reuses, with --db) an SQLite database through planwatch's migrations and
fills it with bulk inserts: sources x actions x versions action versions (1,000,000
by default), one status_changed event per later version, ten organizations per
source with five versions each, one check per version round. Then it times the
queries behind ``planwatch show SOURCE --as-of T``, ``planwatch show ORGANIZATION
--as-of T``, ``planwatch history ACTION --source S`` and ``planwatch changes --site S
--since T``, with the JSON they print, at random sources, actions and moments, each
in a fresh read session; and once each as a real command in a new process (which
adds the interpreter's start-up). Prints medians, 95th percentiles and ratios to the
50 ms goal. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from monitor.cli_history import history_json, show_json  # noqa: E402
from storage import history  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.models import (  # noqa: E402
    ActionRecord,
    ActionVersion,
    Check,
    EventRow,
    Source,
)

GOAL_MS = 50.0
RUN_CLI = "from monitor.cli import main; main()"
START = datetime(2024, 1, 1, tzinfo=UTC)
STATUSES = ("on_time", "late", "in_progress", "completed", "not_started")
BATCH = 20_000
CHANGED_STATUS = json.dumps({"fields": ["status"]})
CHANGED_NAME = json.dumps({"fields": ["name"]})


def build(db: Database, path: Path, sources: int, actions: int, versions: int) -> None:
    began = time.perf_counter()
    with db.sessions.begin() as session:
        for s in range(sources):
            session.add(
                Source(
                    name=f"site-{s:03d}",
                    created_at=START,
                    last_check_at=_when(versions - 1),
                    last_outcome="changed",
                    consecutive_failures=0,
                    failing_reported=False,
                    anomaly_reported=False,
                )
            )
        session.flush()
        for s in range(1, sources + 1):
            for r in range(versions):
                session.add(
                    Check(
                        source_id=s,
                        observed_at=_when(r),
                        started_at=_when(r),
                        finished_at=_when(r),
                        outcome="baseline" if r == 0 else "changed",
                        pages=actions + 11,
                        events=0 if r == 0 else actions,
                    )
                )
    db.close()
    print(f"  sources and checks: {time.perf_counter() - began:.1f} s")

    # The big tables go in through sqlite3 directly: through the ORM a million rows
    # take minutes of bind processing. Text formats are the ones SQLAlchemy writes.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA synchronous=OFF")
        insert_rows(connection, "actions", _action_records(sources, actions, versions))
        insert_rows(connection, "organizations", _org_records(sources, versions))
        insert_rows(
            connection, "action_versions", _action_versions(sources, actions, versions)
        )
        print(f"  + action versions: {time.perf_counter() - began:.1f} s")
        insert_rows(connection, "events", _events(sources, actions, versions))
        insert_rows(
            connection, "organization_versions", _org_versions(sources, versions)
        )
        connection.execute("ANALYZE")
    print(f"  + events, organizations, ANALYZE: {time.perf_counter() - began:.1f} s")


def insert_rows(
    connection: sqlite3.Connection, table: str, rows: Iterator[dict[str, Any]]
) -> None:
    first = next(rows)
    columns = list(first)
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (constant names)
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    batch = [tuple(first.values())]
    for row in rows:
        batch.append(tuple(row.values()))
        if len(batch) >= BATCH:
            connection.executemany(statement, batch)
            batch = []
    connection.executemany(statement, batch)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _action_records(
    sources: int, actions: int, versions: int
) -> Iterator[dict[str, Any]]:
    for s in range(1, sources + 1):
        for a in range(1, actions + 1):
            yield {
                "source_id": s,
                "platform_id": str(a),
                "identifier": str(a),
                "first_seen_at": _text(START),
                "last_seen_at": _text(_when(versions - 1)),
                "missing_checks": 0,
            }


def _org_records(sources: int, versions: int) -> Iterator[dict[str, Any]]:
    for s in range(1, sources + 1):
        for o in range(1, 11):
            yield {
                "source_id": s,
                "platform_id": f"org{o}",
                "first_seen_at": _text(START),
                "last_seen_at": _text(_when(versions - 1)),
            }


def _when(round_number: int) -> datetime:
    return START + timedelta(days=7 * round_number, minutes=3)


def _check_id(source: int, round_number: int, versions: int) -> int:
    return (source - 1) * versions + round_number + 1


def _status(action: int, round_number: int) -> str:
    return STATUSES[(action + round_number) % len(STATUSES)]


def _org(action: int) -> str:
    return f"org{action % 10 + 1}"


def _state(action: int, round_number: int) -> dict[str, Any]:
    return {
        "id": str(action),
        "identifier": str(action),
        "url": f"https://plan.example/actions/{action}",
        "names": {"fi": f"Toimenpide {action}", "en": f"Action number {action}"},
        "status": _status(action, round_number),
        "status_labels": {"fi": "Käynnissä", "en": "In progress"},
        "phase": "implementation",
        "phase_labels": {"en": "Implementation"},
        "tasks_total": 4,
        "tasks_completed": round_number % 5,
        "tasks": None,
        "completion": (round_number * 2) % 100,
        "updated_exact": _when(round_number).isoformat(),
        "updated_earliest": _when(round_number).isoformat(),
        "updated_latest": _when(round_number).isoformat(),
        "responsible": [[_org(action), "PRIMARY"]],
        "responsible_names": {_org(action): "Transport unit"},
        "merged_with": None,
        "organizations": [_org(action)],
    }


def _action_versions(
    sources: int, actions: int, versions: int
) -> Iterator[dict[str, Any]]:
    for s in range(1, sources + 1):
        for a in range(1, actions + 1):
            record_id = (s - 1) * actions + a
            for r in range(versions):
                yield {
                    "action_id": record_id,
                    "check_id": _check_id(s, r, versions),
                    "valid_from": _text(_when(r)),
                    "valid_to": _text(_when(r + 1)) if r + 1 < versions else None,
                    "state": json.dumps(_state(a, r)),
                    "changed_fields": None if r == 0 else CHANGED_STATUS,
                }


def _events(sources: int, actions: int, versions: int) -> Iterator[dict[str, Any]]:
    for s in range(1, sources + 1):
        for r in range(1, versions):
            for a in range(1, actions + 1):
                yield {
                    "source_id": s,
                    "check_id": _check_id(s, r, versions),
                    "kind": "status_changed",
                    "observed_at": _text(_when(r)),
                    "action_platform_id": str(a),
                    "action_identifier": str(a),
                    "name": f"Action number {a}",
                    "field": "status",
                    "before": json.dumps({"value": _status(a, r - 1)}),
                    "after": json.dumps({"value": _status(a, r)}),
                    "url": f"https://plan.example/actions/{a}",
                }


def _org_versions(sources: int, versions: int) -> Iterator[dict[str, Any]]:
    rounds = sorted({0, *range(0, versions, max(versions // 5, 1))})[:5]
    for s in range(1, sources + 1):
        for o in range(1, 11):
            for index, r in enumerate(rounds):
                state = {
                    "id": f"org{o}",
                    "names": {"en": f"Unit {o} (v{index})"},
                    "action_count": 20 + index,
                    "parent_id": None,
                }
                yield {
                    "organization_id": (s - 1) * 10 + o,
                    "check_id": _check_id(s, r, versions),
                    "valid_from": _text(_when(r)),
                    "valid_to": _text(_when(rounds[index + 1]))
                    if index + 1 < len(rounds)
                    else None,
                    "state": json.dumps(state),
                    "changed_fields": None if index == 0 else CHANGED_NAME,
                }


def timed(
    db: Database, runs: int, query: Callable[[Any], Any]
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per run (CPU time resists a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        with db.reader() as session:
            began, began_cpu = time.perf_counter(), time.process_time()
            query(session)
            wall.append(1000 * (time.perf_counter() - began))
            cpu.append(1000 * (time.process_time() - began_cpu))
    return wall, cpu


def report(label: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = times
    ordered = sorted(wall)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    median, median_cpu = statistics.median(ordered), statistics.median(cpu)
    print(
        f"{label:<40} wall: first {wall[0]:6.1f}  median {median:6.1f}  "
        f"p95 {p95:6.1f} ms; cpu median {median_cpu:6.1f} ms; "
        f"median/goal {median / GOAL_MS:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--db", type=Path, help="keep (or reuse) the database here")
    args = parser.parse_args()

    scratch = None
    if args.db is None:
        scratch = tempfile.TemporaryDirectory()
        path = Path(scratch.name) / "million.sqlite"
    else:
        path = args.db
    fresh = not path.exists()
    db = open_database(str(path))
    if fresh:
        total = args.sources * args.actions * args.versions
        print(f"building {total:,} action versions in {path} ...")
        build(db, path, args.sources, args.actions, args.versions)
        db = open_database(str(path))
    with db.reader() as session:
        versions = session.scalar(select(func.count()).select_from(ActionVersion))
        events = session.scalar(select(func.count()).select_from(EventRow))
        sources = session.scalar(select(func.count()).select_from(Source)) or 0
        actions = session.scalar(select(func.count()).select_from(ActionRecord)) or 0
        last = session.scalar(select(func.max(Check.id))) or 0
    size = path.stat().st_size
    print(
        f"database: {versions:,} action versions, {events:,} events, "
        f"{sources} sources, {actions:,} actions; {size / 1e6:.0f} MB"
    )
    per_source = actions // max(sources, 1)
    span = (last // max(sources, 1)) * 7
    rng = random.Random(5)

    def source_name() -> str:
        return f"site-{rng.randrange(sources):03d}"

    def moment() -> datetime:
        return START + timedelta(days=rng.uniform(0, span))

    def show_source(session: Any) -> None:
        src, org = history.source_or_organization(session, source_name())
        json.dumps(show_json(history.table_as_of(session, src, moment(), org)))

    def show_organization(session: Any) -> None:
        src, org = history.source_or_organization(
            session, f"org{rng.randrange(1, 11)}", source_name()
        )
        json.dumps(show_json(history.table_as_of(session, src, moment(), org)))

    def action_history(session: Any) -> None:
        reference = str(rng.randrange(1, per_source + 1))
        ref = history.one_action(session, reference, source_name())
        json.dumps(history_json(history.action_history(session, ref)))

    def recent_changes(session: Any) -> None:
        since = moment()
        wanted = history.ChangeFilter(
            since=since, until=since + timedelta(days=30), sources=(source_name(),)
        )
        history.find_changes(session, wanted)

    print(f"{args.runs} runs each, a fresh read session per run:")
    report("show SOURCE --as-of T", timed(db, args.runs, show_source))
    report(
        "show ORGANIZATION --source S --as-of T",
        timed(db, args.runs, show_organization),
    )
    report("history ACTION --source S", timed(db, args.runs, action_history))
    report(
        "changes --site S --since T --until T+30d", timed(db, args.runs, recent_changes)
    )
    db.close()

    print("as commands in a new process (interpreter start-up included):")
    when = (START + timedelta(days=span / 2)).date().isoformat()
    for command in (
        ["show", "site-001", "--as-of", when, "--json"],
        ["history", "7", "--source", "site-001", "--json"],
    ):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", RUN_CLI, *command, "--db", str(path)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"  planwatch {' '.join(command):<44} {time.perf_counter() - began:.2f} s"
        )
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
