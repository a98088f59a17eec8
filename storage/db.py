"""Opening a database: SQLite (the embedded default) or PostgreSQL.

``open_database`` checks the schema revision against the migrations that ship with
this version: an empty database is brought to the current schema, one that is behind
or ahead is refused with a message saying what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from parsers.errors import SchemaMismatch, StorageError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def database_url(target: str) -> URL:
    """A file path or an SQLAlchemy URL -> URL (PostgreSQL goes through psycopg 3)."""
    if "://" not in target:
        path = Path(target).expanduser().resolve()
        return URL.create("sqlite+pysqlite", database=str(path))
    url = make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_db_engine(target: str) -> Engine:
    url = database_url(target)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # Two processes (a `run` and a maintainer's query) share one file: WAL lets
    # readers go on while a check writes, and the busy timeout waits out writers.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


class Database:
    """An engine and a session factory, on a schema that matches this version."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def open_database(target: str, *, upgrade_empty: bool = True) -> Database:
    engine = create_db_engine(target)
    revision = current_revision(engine)
    head = head_revision()
    if revision == head:
        return Database(engine)

    if revision is None and upgrade_empty and not _has_tables(engine):
        logger.info("new database: creating schema %s", head)
        upgrade(engine)
        return Database(engine)

    engine.dispose()
    script = ScriptDirectory(str(MIGRATIONS))
    known = {rev.revision for rev in script.walk_revisions()}
    where = database_url(target).render_as_string(hide_password=True)
    if revision is not None and revision not in known:
        raise SchemaMismatch(
            f"the database {where} has schema {revision}, newer than this planwatch "
            f"knows (up to {head}): upgrade planwatch, or use another database"
        )
    raise SchemaMismatch(
        f"the database {where} has schema {revision or 'none'}, this planwatch needs "
        f"{head}: run `planwatch db upgrade --db ...` first (back the file up before)"
    )


def _has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())
