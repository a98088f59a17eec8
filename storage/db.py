"""Opening a database: SQLite (the embedded default) or PostgreSQL.

``open_database`` checks the schema revision against the migrations that ship with
this version: an empty database is brought to the current schema, one that is behind
or ahead is refused with a message saying what to do.

``open_existing`` is for commands that only read: it creates nothing, neither an
SQLite file (nor its folders) nor the schema of an empty database, and says so
when there is no database to read.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from parsers.errors import SchemaMismatch, StorageError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "planwatch_read_only"


def database_url(target: str) -> URL:
    """A file path or an SQLAlchemy URL -> URL (PostgreSQL goes through psycopg 3)."""
    if "://" not in target:
        path = Path(target).expanduser().resolve()
        return URL.create("sqlite+pysqlite", database=str(path))
    url = make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_db_engine(target: str, *, foreign_keys: bool = True) -> Engine:
    url = database_url(target)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(
        engine,
        "connect",
        _sqlite_foreign_keys_on if foreign_keys else _sqlite_foreign_keys_off,
    )
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(connection: Any) -> None:
    # Two processes (a `run` and a maintainer's query) share one file: WAL lets
    # readers go on while a check writes, and the busy timeout waits out writers.
    # The timeout comes first: switching a new file to WAL briefly needs a lock.
    connection.isolation_level = None  # transactions are begun in _sqlite_begin
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_foreign_keys_on(connection: Any, _record: Any) -> None:
    _sqlite_pragmas(connection)
    connection.execute("PRAGMA foreign_keys=ON")


def _sqlite_foreign_keys_off(connection: Any, _record: Any) -> None:
    # Migrations only: Alembic rebuilds SQLite tables by copy, drop and rename,
    # which foreign keys would refuse; they are checked once the migrations ran.
    _sqlite_pragmas(connection)
    connection.execute("PRAGMA foreign_keys=OFF")


def _sqlite_begin(connection: Connection) -> None:
    # A transaction that reads and then writes, begun DEFERRED, fails at once with
    # "database is locked" when another process wrote in between (the busy
    # timeout does not apply to it). Writers therefore take the write lock up
    # front; sessions from Database.readers stay deferred and never wait.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
        return
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        # The busy timeout ran out: another process (a VACUUM, a query in the
        # sqlite3 shell, another writer) held the write lock all that time.
        if "locked" not in str(exc.orig):
            raise
        raise StorageError(
            f"the database {connection.engine.url.database} is locked: another "
            f"process held its write lock for over {SQLITE_BUSY_TIMEOUT_MS / 1000:g} "
            "s; try again when it has finished"
        ) from None


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if head is None:
        raise StorageError("no migrations ship with this version")
    return head


def current_revision(engine: Engine) -> str | None:
    with _reading(engine).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Apply every migration this version ships (and refresh the SQL views)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        command.upgrade(alembic_config(engine), "head")
        return

    migrating = create_db_engine(
        url.render_as_string(hide_password=False), foreign_keys=False
    )
    try:
        command.upgrade(alembic_config(migrating), "head")
        with migrating.connect() as connection:
            broken = connection.execute(text("PRAGMA foreign_key_check")).all()
    finally:
        migrating.dispose()
    if broken:
        raise StorageError(
            f"after the migrations, {len(broken)} rows point at missing rows "
            f"(first: table {broken[0][0]}, row {broken[0][1]}): restore the backup"
        )


class Database:
    """An engine and a session factory, on a schema that matches this version."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # For queries: on SQLite they never take the write lock, so a maintainer's
        # query neither waits for nor delays a running check.
        self.readers = sessionmaker(
            engine.execution_options(**{READ_ONLY_OPTION: True}),
            expire_on_commit=False,
        )

    def session(self) -> Session:
        return self.sessions()

    def reader(self) -> Session:
        return self.readers()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def open_database(target: str, *, upgrade_empty: bool = True) -> Database:
    engine, revision = _connect(target)
    head = head_revision()
    if revision == head:
        return Database(engine)

    if revision is None and upgrade_empty and not _has_tables(engine):
        logger.info("new database: creating schema %s", head)
        upgrade(engine)
        return Database(engine)

    tables = _has_tables(engine)
    engine.dispose()
    raise SchemaMismatch(_mismatch(target, revision, head, tables=tables))


def open_existing(target: str) -> Database:
    """An existing planwatch database; a missing or empty one is refused."""
    missing = _missing_file(target)
    if missing is not None:
        raise StorageError(
            f"no database at {missing}: run `planwatch check` or `planwatch db "
            "upgrade` first, or give --db the path of an existing one"
        )
    return open_database(target, upgrade_empty=False)


def _missing_file(target: str) -> Path | None:
    """The SQLite file ``target`` names, when it does not exist."""
    try:
        url = database_url(target)
    except (SQLAlchemyError, ValueError):
        return None  # _connect explains, without echoing the target
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(str(url.database))
    return None if path.exists() else path


def _connect(target: str) -> tuple[Engine, str | None]:
    """An engine on ``target`` and its schema revision, or a StorageError saying
    why the database cannot be opened (never a driver's traceback)."""
    try:
        engine = create_db_engine(target)
    except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
        raise _cannot_open(target, exc) from None
    try:
        return engine, current_revision(engine)
    except (SQLAlchemyError, ImportError, OSError) as exc:
        engine.dispose()
        raise _cannot_open(target, exc) from None


def _cannot_open(target: str, exc: Exception) -> StorageError:
    try:
        url = database_url(target)
    except (SQLAlchemyError, ValueError):
        # Not even a URL: echo nothing of it, it may hold a password.
        return StorageError(
            "--db is neither a file path nor an SQLAlchemy URL "
            "(e.g. postgresql://user@host/db)"
        )
    backend = url.get_backend_name()
    where = url.database if backend == "sqlite" else None
    where = where or url.render_as_string(hide_password=True)
    if isinstance(exc, ImportError):
        if backend == "postgresql":
            why = "psycopg is not installed: pip install 'planwatch[postgres]'"
        else:
            why = f"planwatch works with SQLite and PostgreSQL, not {backend}"
    elif backend == "sqlite" and url.database and Path(url.database).is_dir():
        why = "it is a directory; give a database file's path"
    else:
        # The driver's own words (e.g. "file is not a database", "connection
        # refused"), on one line; they carry the host, never the password.
        orig = getattr(exc, "orig", None) or exc
        why = " ".join(str(orig).split()) or type(orig).__name__
        if url.password:
            why = why.replace(str(url.password), "***")
    return StorageError(f"cannot open the database {where}: {why}")


def _mismatch(target: str, revision: str | None, head: str, *, tables: bool) -> str:
    url = database_url(target)
    where = url.database if url.get_backend_name() == "sqlite" else None
    where = where or url.render_as_string(hide_password=True)
    if revision is None and not tables:
        return (
            f"the database {where} is empty: run `planwatch check` or "
            f"`planwatch db upgrade --db {where}` first"
        )
    if revision is None and tables:
        return (
            f"the database {where} has tables but no planwatch schema revision: "
            "it is not a planwatch database; give another --db"
        )
    if revision is not None and revision not in known_revisions():
        return (
            f"the database {where} has schema {revision}, newer than this planwatch "
            f"knows (up to {head}): upgrade planwatch, or use another database"
        )
    return (
        f"the database {where} has schema {revision or 'none'}, this planwatch needs "
        f"{head}: back it up, then run `planwatch db upgrade --db {where}`"
    )


def known_revisions() -> set[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return {rev.revision for rev in script.walk_revisions()}


def _has_tables(engine: Engine) -> bool:
    with _reading(engine).connect() as connection:
        return bool(inspect(connection).get_table_names())


def _reading(engine: Engine) -> Engine:
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def upgrade_database(target: str) -> tuple[str | None, str]:
    """``planwatch db upgrade``: the revisions before and after."""
    engine, revision = _connect(target)
    try:
        head = head_revision()
        tables = _has_tables(engine)
        unknown = revision is not None and revision not in known_revisions()
        if unknown or (revision is None and tables):
            raise SchemaMismatch(_mismatch(target, revision, head, tables=tables))
        upgrade(engine)
        return revision, head
    finally:
        engine.dispose()
