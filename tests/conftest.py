"""Shared fixtures: databases on SQLite and PostgreSQL, fixture pages."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from sqlalchemy import create_engine, text

from storage.db import Database, open_database

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "kausal-watch"
PG_URL = os.environ.get(
    "PLANWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_HOWTO = (
    "PostgreSQL tests skipped: nothing answers at "
    f"{PG_URL} (set PLANWATCH_TEST_PG to an SQLAlchemy URL of an empty database "
    "whose user may create schemas, e.g. a local server with trust auth)"
)


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return False
    return True


_PG_OK: bool | None = None


def postgres_ok() -> bool:
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = _postgres_available()
    return _PG_OK


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: an SQLite file, or a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "planwatch.sqlite")
        return
    if not postgres_ok():
        pytest.skip(PG_HOWTO)
    schema = f"pw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()
