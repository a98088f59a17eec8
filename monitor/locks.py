"""Which planwatch processes may act on a database at the same time.

- SQLite: one at a time. ``planwatch run`` and ``planwatch check`` hold an OS file
  lock (``flock``) on ``<database file>.lock``; another one exits at once with a
  message naming the holder, or with ``--wait`` waits until the holder ends. The OS
  drops the lock when its process dies, however it dies.
- PostgreSQL: many at a time, knowingly. Each process holds a session-level advisory
  lock on the database (its key comes from the database and schema names) in shared
  mode, and claims each due check on its own (``monitor.scheduling``), so they share
  the work. ``planwatch run --exclusive`` takes the lock in exclusive mode: then no
  other planwatch acts on the database, and a second ``run`` exits or waits.

Within one process, `writing` queues the threads that write to an SQLite database.

`DatabaseBusy` is a `StorageError`: the database cannot be used now.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text

from parsers.errors import StorageError
from storage.db import Database

logger = logging.getLogger(__name__)


class DatabaseBusy(StorageError):
    """Another planwatch acts on the database and this one may not join it."""


@dataclass(frozen=True, slots=True)
class Holder:
    command: str
    pid: int
    host: str
    since: str

    def describe(self) -> str:
        where = f"pid {self.pid} on {self.host}, since {self.since}"
        return f"planwatch {self.command} ({where})"


def me(command: str) -> Holder:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return Holder(command, os.getpid(), socket.gethostname(), now)


@contextlib.contextmanager
def acting_on(
    db: Database, command: str, *, wait: bool = False, exclusive: bool = False
) -> Iterator[None]:
    """Hold the right to act on ``db`` for the ``with`` block (see the module doc).

    Raises `DatabaseBusy` when another process holds it and ``wait`` is false.
    """
    if db.dialect == "postgresql":
        with _advisory(db, command, wait=wait, exclusive=exclusive):
            yield
        return
    path = sqlite_lock_path(db)
    if path is None:  # an in-memory database belongs to this process alone
        yield
        return
    with _file_lock(path, command, wait=wait):
        yield


_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


def writing(db: Database) -> contextlib.AbstractContextManager[object]:
    """Hold while writing to ``db`` from one of this process's threads.

    SQLite has one writer at a time, and its busy handler polls with sleeps and is
    not fair: checks of big sources writing from many threads at once can starve a
    thread past the busy timeout. They queue on a lock per database file instead.
    PostgreSQL needs nothing of the kind.
    """
    if db.dialect != "sqlite":
        return contextlib.nullcontext()
    key = str(db.engine.url.database)
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(key, threading.Lock())


def sqlite_lock_path(db: Database) -> Path | None:
    database = db.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".lock")


# -- SQLite: a file lock ------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path, command: str, *, wait: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        # Another user's lock file (the service's, opened by an administrator),
        # or a directory of that name.
        raise StorageError(
            f"cannot open the lock file {path} next to the database: "
            f"{exc.strerror}; planwatch needs to write it to act on the database"
        ) from None
    with handle:
        if not _try_lock(handle):
            holder = _read_holder(handle)
            shown = holder.describe() if holder else "another planwatch process"
            if not wait:
                raise DatabaseBusy(
                    f"the database {path.with_suffix('')} is in use by {shown}; "
                    "only one planwatch acts on an SQLite database at a time: stop "
                    "that one, or give --wait to take over when it ends"
                )
            logger.warning("waiting for %s to end (lock %s)", shown, path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        _write_holder(handle, me(command))
        try:
            yield
        finally:
            handle.truncate(0)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(handle: IO[str]) -> Holder | None:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "null")
        return Holder(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


def _write_holder(handle: IO[str], holder: Holder) -> None:
    handle.seek(0)
    handle.truncate(0)
    handle.write(
        json.dumps(
            {
                "command": holder.command,
                "pid": holder.pid,
                "host": holder.host,
                "since": holder.since,
            }
        )
    )
    handle.flush()


# -- PostgreSQL: an advisory lock ---------------------------------------------------


@contextlib.contextmanager
def _advisory(
    db: Database, command: str, *, wait: bool, exclusive: bool
) -> Iterator[None]:
    mode = "" if exclusive else "_shared"
    holder = me(command)
    # Its own connection, outside any transaction: the lock lives as long as the
    # session, and PostgreSQL drops it when the process or its connection dies.
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        key = advisory_key(connection)
        connection.execute(
            text("SELECT set_config('application_name', :n, false)"),
            {"n": _session_name(holder)},
        )
        got = connection.execute(
            text(f"SELECT pg_try_advisory_lock{mode}(:k)"), {"k": key}
        ).scalar_one()
        if not got:
            others = _holders(connection, key)
            if not wait:
                raise DatabaseBusy(_busy_message(others, exclusive))
            logger.warning("waiting for %s to end", others)
            connection.execute(text(f"SELECT pg_advisory_lock{mode}(:k)"), {"k": key})
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a dead connection has no lock
                connection.execute(
                    text(f"SELECT pg_advisory_unlock{mode}(:k)"), {"k": key}
                )


def _busy_message(others: str, exclusive: bool) -> str:
    if exclusive:
        why = f"--exclusive needs the database alone, and {others} acts on it"
    else:
        why = f"{others} holds the database exclusively (run --exclusive)"
    return f"{why}: stop it, or give --wait to take over when it ends"


def advisory_key(connection: Connection) -> int:
    """A 64-bit key for this database and schema (tests share one database)."""
    database, schema = connection.execute(
        text("SELECT current_database(), current_schema()")
    ).one()
    digest = hashlib.sha256(f"planwatch:{database}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _session_name(holder: Holder) -> str:
    """``planwatch run (pid 4121 on watch1)``, within the 63 bytes PostgreSQL keeps.

    The whole description was cut there ("..., since 2026-12-04T22:58:58+00 holds
    the database"); the host is cut instead, and `_holders` adds the session's start.
    """
    head = f"planwatch {holder.command} (pid {holder.pid} on "
    host = holder.host.encode()[: 62 - len(head.encode())].decode(errors="ignore")
    return f"{head}{host})"


def _described(name: str | None, start: datetime | None) -> str:
    if not name:
        return "a session"
    if start is None or not name.endswith(")"):
        return name
    since = start.astimezone(UTC).isoformat(timespec="seconds")
    return f"{name[:-1]}, since {since})"


def _holders(connection: Connection, key: int) -> str:
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    rows = connection.execute(
        text(
            "SELECT a.application_name, a.backend_start, l.mode FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = CAST(:high AS oid) AND l.objid = CAST(:low AS oid)"
        ),
        {"high": high, "low": low},
    ).all()
    if not rows:
        return "another planwatch process"
    names = sorted({_described(row[0], row[1]) for row in rows})
    return ", ".join(names)
