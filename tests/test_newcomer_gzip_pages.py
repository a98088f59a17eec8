"""Saved pages that are gzip-compressed are read as pages, by `parse` and `import`.

Found trying planwatch as a newcomer: the project's fixtures ship gzipped, and
`planwatch parse organization-8.fi.html.gz --url ... --json` exited 0 with
"seen": "not_kausal", the compressed bytes parsed as if they were HTML.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.saved import MAX_PAGE_BYTES
from storage.db import open_existing
from storage.models import Snapshot
from tests.cli_helpers import folded, run_cli
from tests.history_series import SavedPage, write_warc

FIXTURE = Path(
    "fixtures/kausal-watch/bigcity-2024/before/html/organization-8.fi.html.gz"
)
URL = "http://bigcity.localhost:3000/organizations/8"


def _planwatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert "Traceback" not in err
    return code, out, folded(err)


def _fixture(tmp_path: Path, name: str) -> Path:
    """The gzipped fixture under a name that does not say gzip."""
    root = Path(__file__).resolve().parent.parent
    copy = tmp_path / name
    copy.write_bytes((root / FIXTURE).read_bytes())
    return copy


def test_parse_reads_a_gzipped_page_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _fixture(tmp_path, "organization-8.html")

    code, output, err = _planwatch(
        monkeypatch, capsys, "parse", str(page), "--url", URL, "--json"
    )

    assert code == 0, err
    data = json.loads(output)
    assert data["kind"] == "organization"
    assert data["outcome"] == "ok"
    assert data["seen"] != "not_kausal"


def test_a_gzip_bomb_is_refused_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.html"
    bomb.write_bytes(gzip.compress(b"\0" * (MAX_PAGE_BYTES + 1), compresslevel=9))
    assert bomb.stat().st_size < 100_000

    code, _, err = _planwatch(
        monkeypatch, capsys, "parse", str(bomb), "--url", URL, "--json"
    )

    assert code == 2
    assert f"planwatch: error: {bomb}: gzip-compressed page larger than" in err
    assert str(MAX_PAGE_BYTES) in err


def test_a_plain_page_over_the_limit_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.html"
    big.write_bytes(b"<p>" + b"x" * MAX_PAGE_BYTES)

    code, _, err = _planwatch(monkeypatch, capsys, "parse", str(big), "--url", URL)

    assert code == 2
    assert f"planwatch: error: {big}: page larger than {MAX_PAGE_BYTES} bytes" in err


def test_a_cut_gzip_page_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _fixture(tmp_path, "cut.html")
    page.write_bytes(page.read_bytes()[:500])

    code, _, err = _planwatch(monkeypatch, capsys, "parse", str(page), "--url", URL)

    assert code == 2
    assert f"{page}: gzip-compressed page cut short" in err


def _snapshots(db: Path) -> list[tuple[str, str | None, str | None]]:
    database = open_existing(str(db))
    try:
        with database.reader() as session:
            rows = session.execute(
                select(Snapshot.url, Snapshot.page_kind, Snapshot.parse_outcome)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        database.close()


def test_import_of_a_manifest_reads_gzipped_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fixture(tmp_path, "org-8.html")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        f"url,observed_at,path\n{URL},2026-12-01T10:00:00Z,org-8.html\n"
    )
    db = tmp_path / "history.sqlite"

    code, _, err = _planwatch(
        monkeypatch, capsys, "import", str(manifest), "--db", str(db)
    )

    assert code == 0, err
    assert _snapshots(db) == [(URL, "organization", "ok")]


def test_import_of_a_warc_reads_gzipped_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parent.parent
    warc = tmp_path / "crawl.warc.gz"
    page = SavedPage(
        url=URL,
        observed_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        status=200,
        body=(root / FIXTURE).read_bytes(),
        headers=(("Content-Type", "text/html; charset=utf-8"),),
    )
    write_warc(warc, [page])
    db = tmp_path / "history.sqlite"

    code, output, err = _planwatch(
        monkeypatch, capsys, "import", str(warc), "--db", str(db)
    )

    assert code == 0, err
    assert "1 pages" in output
    assert _snapshots(db) == [(URL, "organization", "ok")]
