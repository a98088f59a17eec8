"""The series-2024 rounds as saved pages and as observations, read once per run.

Each round is one site observed at one moment (see the fixture's README). A page's
time is the render time the page itself carries (``ui_now``), as the README advises.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.pipeline import PageObservation, observe_saved, record_check
from storage.db import Database
from tests.conftest import FIXTURES, PG_HOWTO, PG_URL, postgres_ok
from tests.truth import plan_actions

SERIES = FIXTURES / "series-2024"
HOST = "http://demo.localhost:3000"


@dataclass(frozen=True, slots=True)
class SavedPage:
    url: str
    observed_at: datetime
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


@functools.cache
def saved_pages(
    round_name: str, langs: tuple[str, ...] = ("en",)
) -> tuple[SavedPage, ...]:
    listing = json.loads((SERIES / round_name / "pages.json").read_text())["pages"]
    # Pages that carry no render time (redirects while the backend was down) are
    # filed at the round's clock.
    clock = json.loads((SERIES / round_name / "round.json").read_text())[
        "faked_now_utc"
    ]
    pages = []
    for entry in listing:
        if entry["lang"] not in langs or entry.get("error"):
            continue
        name = f"{entry['page']}.{entry['lang']}"
        html = SERIES / round_name / "html" / f"{name}.html.gz"
        if not html.exists():
            continue
        pages.append(
            SavedPage(
                url=HOST + entry["path"],  # the path has the language prefix
                observed_at=datetime.fromisoformat(
                    (entry["ui_now"] or clock).replace("Z", "+00:00")
                ),
                status=entry["status"],
                body=gzip.decompress(html.read_bytes()),
                headers=_headers(SERIES / round_name / "headers" / f"{name}.txt"),
            )
        )
    return tuple(pages)


def _headers(path: Any) -> tuple[tuple[str, str], ...]:
    if not path.exists():
        return (("content-type", "text/html; charset=utf-8"),)
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    pairs = [line.split(":", 1) for line in lines if ":" in line]
    return tuple((name.strip().lower(), value.strip()) for name, value in pairs)


@functools.cache
def observations(
    round_name: str, langs: tuple[str, ...] = ("en",)
) -> tuple[PageObservation, ...]:
    return tuple(
        observe_saved(p.url, p.body, p.observed_at, p.status)
        for p in saved_pages(round_name, langs)
    )


def round_time(round_name: str, langs: tuple[str, ...] = ("en",)) -> datetime:
    """When a round's check is filed: its first page's time."""
    return min(p.observed_at for p in saved_pages(round_name, langs))


def record_rounds(db: Database, rounds: tuple[str, ...], source: str = "demo") -> None:
    for name in rounds:
        record_check(db, source, observations(name), observed_at=round_time(name))


def truth(round_name: str) -> dict[str, dict[str, Any]]:
    return plan_actions(SERIES / round_name / "truth" / "plan-actions.en.json")


def write_warc(path: Path, pages: Iterable[SavedPage]) -> None:
    """A WARC as a crawler writes it: a warcinfo, then a request and a response per
    page, then an image (that an import must skip)."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        _write(writer, writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for page in pages:
            date = {"WARC-Date": page.observed_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
            request = io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            _write(
                writer,
                writer.create_warc_record(
                    page.url, "request", payload=request, warc_headers_dict=date
                ),
            )
            http = StatusAndHeaders(
                f"{page.status} OK", list(page.headers), protocol="HTTP/1.1"
            )
            _write(
                writer,
                writer.create_warc_record(
                    page.url,
                    "response",
                    payload=io.BytesIO(page.body),
                    http_headers=http,
                    warc_headers_dict=date,
                ),
            )
        logo = StatusAndHeaders(
            "200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1"
        )
        _write(
            writer,
            writer.create_warc_record(
                f"{HOST}/logo.png",
                "response",
                payload=io.BytesIO(b"\x89PNG not really"),
                http_headers=logo,
            ),
        )


def _write(writer: WARCWriter, record: Any) -> None:
    writer.write_record(record)
    # warcio buffers each record in a temporary file it leaves open.
    record.raw_stream.close()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def scratch_database(backend: str, directory: Path) -> Iterator[str]:
    """An empty database URL that outlives one test (for module-scoped fixtures).

    The same as conftest's ``db_url``, which is function-scoped.
    """
    if backend == "sqlite":
        yield str(directory / "planwatch.sqlite")
        return
    if not postgres_ok():
        pytest.skip(PG_HOWTO)
    schema = f"pw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
