"""A NUL character in an address or a query parameter is refused, not a 500.

Found by asking the web view, served from PostgreSQL, for addresses with %00 in
them: /api/actions?source=a%00b, /sources/a%00b and the rest answered 500
Internal Server Error (psycopg's "PostgreSQL text fields cannot contain NUL (0x00)
bytes", a traceback in the server's log), where on SQLite they were a 404 or an
empty list. No name planwatch stores can hold one, so a query parameter with a NUL
is a 400 naming the parameter and a path with one is not found, on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from monitor.web.app import create_app, open_read_only
from storage.db import open_database
from tests.web_helpers import fill_lab, serving


@pytest.fixture
def client(db_url: str) -> Iterator[httpx.Client]:
    database = open_database(db_url)
    fill_lab(database)
    database.close()
    reader = open_read_only(db_url)
    with serving(create_app(reader)) as base, httpx.Client(base_url=base) as http:
        yield http
    reader.close()


QUERIES = [
    ("/api/actions?source=a%00b", "source"),
    ("/api/changes?source=lab%00", "source"),
    ("/api/actions?source=lab&organization=1%00", "organization"),
    ("/api/changes?source=lab&action=%00", "action"),
    ("/api/actions?status=late%00", "status"),
]
PATHS = [
    "/sources/a%00b",
    "/sources/lab/organizations/%00",
    "/sources/lab/actions/1%00",
    "/feeds/sources/a%00b.atom",
    "/feeds/sources/lab/organizations/%00.atom",
    "/feeds/sources/lab/actions/%00.atom",
    "/api/sources/a%00b",
    "/api/sources/a%00b/organizations",
    "/api/sources/lab/actions/%00",
    "/api/sources/lab/actions/%00/history",
]


def test_a_nul_in_a_query_parameter_is_a_400_naming_it(client: httpx.Client) -> None:
    for path, parameter in QUERIES:
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert f"query parameter {parameter}=" in answer.json()["error"], path


def test_a_nul_in_a_path_is_not_found(client: httpx.Client) -> None:
    for path in PATHS:
        assert client.get(path).status_code == 404, path
    assert client.get("/api/sources/lab").status_code == 200  # the server is fine
