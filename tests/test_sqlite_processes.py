"""Two planwatch processes on one SQLite file: never corrupt, never "locked".

Real processes, not threads: SQLite's locks are per process. The writers run the
real pipeline (alternating two rounds of series-2024, so every check writes
versions, events and snapshots); the reader runs the maintainers' queries.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select, text

from storage.db import open_database
from storage.models import Check
from tests.conftest import ROOT

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from monitor.pipeline import observe_saved, record_check
    from storage.db import open_database
    from tests.history_series import round_time, saved_pages

    target, source, checks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # The action list and the organization pages: r02's edits show on them.
    rounds = [
        [
            observe_saved(p.url, p.body, p.observed_at)
            for p in saved_pages(name)
            if "/actions/" not in p.url
        ]
        for name in ("r00", "r02")
    ]
    start = round_time("r00")
    database = open_database(target)
    for number in range(checks):
        when = start + timedelta(hours=number)
        record_check(database, source, rounds[number % 2], observed_at=when)
    database.close()
    print("wrote", checks)
    """
)

READER = textwrap.dedent(
    """
    import sys
    import time
    from datetime import UTC, datetime
    from pathlib import Path
    from storage import history
    from storage.db import open_database

    target, done = sys.argv[1], Path(sys.argv[2])
    database = open_database(target)
    seen, rounds = set(), 0
    while not done.exists() or rounds == 0:
        with database.reader() as session:
            statuses = history.source_statuses(session)
            seen.add(sum(s.checks for s in statuses))
            history.find_changes(session, history.ChangeFilter())
            for status in statuses:
                source, _ = history.source_or_organization(session, status.name)
                history.table_as_of(session, source, datetime.now(UTC))
            for ref in history.find_actions(session, "2"):
                history.action_history(session, ref)
        rounds += 1
        time.sleep(0.02)  # leave the writer some of the machine's two cores
    database.close()
    print("read", rounds, "distinct", len(seen))
    """
)


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "locked" not in stderr
    return stdout


def _integrity(target: str) -> tuple[str, int]:
    database = open_database(target)
    with database.reader() as session:
        verdict = session.execute(text("PRAGMA integrity_check")).scalar_one()
        checks = session.scalar(select(func.count()).select_from(Check)) or 0
    database.close()
    return verdict, checks


def test_a_reader_queries_while_a_writer_checks(tmp_path: Path) -> None:
    target = str(tmp_path / "shared.sqlite")
    open_database(target).close()
    done = tmp_path / "writer-done"

    writer = _start(WRITER, target, "demo", "12")
    reader = _start(READER, target, str(done))
    wrote = _finish(writer)
    done.touch()
    read = _finish(reader)

    assert wrote.split() == ["wrote", "12"]
    rounds, distinct = int(read.split()[1]), int(read.split()[3])
    assert rounds > 1
    assert distinct > 1, "the reader saw the history grow while it was written"
    assert _integrity(target) == ("ok", 12)


def test_two_writers_wait_for_each_other(tmp_path: Path) -> None:
    target = str(tmp_path / "shared.sqlite")
    open_database(target).close()

    first = _start(WRITER, target, "one", "8")
    second = _start(WRITER, target, "two", "8")
    _finish(first)
    _finish(second)

    assert _integrity(target) == ("ok", 16)
