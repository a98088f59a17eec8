"""``planwatch import`` reads WARC files: each HTML response is a page at its date."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from parsers.errors import PlanwatchError
from storage.db import open_database
from storage.models import Check, Snapshot
from storage.warc import ArchivedPage, group_crawls, read_warc
from tests.history_series import SavedPage, saved_pages, write_warc

ROUNDS = ("r00", "r02")
# Enough of the site to see r02's edits (a rename, a new action, status changes).
PATHS = ("/en/actions", "/en/organizations/2", "/en/actions/2", "/en/actions/19")


def _pages(round_name: str) -> list[SavedPage]:
    return [p for p in saved_pages(round_name) if p.url.endswith(PATHS)]


def _write_manifest(path: Path, pages: list[SavedPage]) -> None:
    directory = path.parent / "pages"
    directory.mkdir()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "observed_at", "path"])
        for number, page in enumerate(pages):
            (directory / f"{number}.html").write_bytes(page.body)
            # One check per round, at the round's first page (as WARC groups them).
            writer.writerow(
                [page.url, _round_start(page).isoformat(), f"pages/{number}.html"]
            )


def _round_start(page: SavedPage) -> datetime:
    for name in ROUNDS:
        pages = _pages(name)
        if page in pages:
            return min(p.observed_at for p in pages).replace(microsecond=0)
    raise AssertionError(page)


def _events(db_url: str) -> list[tuple[str, str | None, str | None]]:
    result = CliRunner().invoke(app, ["changes", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    return sorted((line["kind"], line["action_id"], line["field"]) for line in lines)


def test_a_warc_imports_like_the_same_pages_from_a_manifest(
    db_url: str, tmp_path: Path
) -> None:
    pages = [p for name in ROUNDS for p in _pages(name)]
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, pages)
    runner = CliRunner()

    result = runner.invoke(
        app, ["import", str(warc), "--source", "demo", "--db", db_url]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "skipped 1 image/png responses" in result.output
    assert "skipped 1 warcinfo records" in result.output
    assert f"skipped {len(pages)} request records" in result.output

    database = open_database(db_url)
    with database.reader() as session:
        checks = session.scalars(select(Check).order_by(Check.id)).all()
        assert [c.observed_at for c in checks] == [
            min(p.observed_at for p in _pages(name)).replace(microsecond=0)
            for name in ROUNDS
        ]
        assert [c.outcome for c in checks] == ["baseline", "changed"]
        assert [c.pages for c in checks] == [len(_pages(name)) for name in ROUNDS]
        first = session.scalars(select(Snapshot).order_by(Snapshot.id)).first()
        assert first is not None
        assert first.fetched_at == pages[0].observed_at.replace(microsecond=0)
        assert (first.headers or {}).get("content-type") == "text/html; charset=utf-8"
    database.close()

    manifest = tmp_path / "manifest.csv"
    _write_manifest(manifest, pages)
    other = str(tmp_path / "from-manifest.sqlite")
    result = runner.invoke(
        app, ["import", str(manifest), "--source", "demo", "--db", other]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    warc_events = _events(db_url)
    assert warc_events
    assert warc_events == _events(other)
    assert ("renamed", "2", "name") in warc_events

    again = runner.invoke(
        app, ["import", str(warc), "--source", "demo", "--db", db_url]
    )
    assert (
        "skipped 2 checks observed at or before the source's last check" in again.output
    )
    assert _events(db_url) == warc_events, "re-importing adds nothing"


def _page(url: str, minute: int) -> ArchivedPage:
    moment = datetime(2026, 12, 3, 12, tzinfo=UTC) + timedelta(minutes=minute)
    return ArchivedPage(url, moment, 200, {}, b"")


def test_crawls_split_on_a_quiet_gap_or_a_page_seen_again() -> None:
    pages = [
        _page("a", 0),
        _page("b", 2),
        _page("c", 50),
        _page("a", 51),
        _page("a", 52),
    ]
    crawls = [
        [p.url for p in crawl] for crawl in group_crawls(pages, timedelta(minutes=30))
    ]
    assert crawls == [["a", "b"], ["c", "a"], ["a"]]


@pytest.mark.parametrize(
    "content",
    [b"WARC/1.0\r\nthis is not a record\r\n\r\n", b"<html>a page, not a WARC</html>"],
)
def test_a_broken_warc_names_the_file(tmp_path: Path, content: bytes) -> None:
    broken = tmp_path / "broken.warc"
    broken.write_bytes(content)
    with pytest.raises(PlanwatchError, match=r"broken\.warc"):
        read_warc(broken)


def _one_page(url: str, body: bytes = b"<html><body>hi</body></html>") -> SavedPage:
    return SavedPage(
        url=url,
        observed_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
        status=200,
        body=body,
        headers=(("Content-Type", "text/html; charset=utf-8"),),
    )


@pytest.mark.parametrize("url", ["dns:example.org", "urn:uuid:1234", "file:///x"])
def test_a_response_for_no_http_url_is_skipped_and_counted(
    tmp_path: Path, url: str
) -> None:
    archive = tmp_path / "odd.warc.gz"
    write_warc(archive, [_one_page(url)])
    pages, report = read_warc(archive)
    assert pages == []
    assert report.skipped["responses without HTTP headers"] == 1


@pytest.mark.parametrize("url", ["http:///x", "https://"])
def test_an_http_url_without_a_host_is_refused_by_record(
    tmp_path: Path, url: str
) -> None:
    archive = tmp_path / "odd.warc.gz"
    write_warc(archive, [_one_page(url)])
    with pytest.raises(PlanwatchError, match=r"record \d+: WARC-Target-URI .* not an"):
        read_warc(archive)


def test_a_body_over_the_limit_is_refused_by_record(tmp_path: Path) -> None:
    archive = tmp_path / "big.warc.gz"
    write_warc(archive, [_one_page("https://example.org/a", b"<p>" + b"x" * 5000)])
    with pytest.raises(PlanwatchError, match=r"record \d+ .*larger than 4000 bytes"):
        read_warc(archive, max_body=4000)
    pages, _ = read_warc(archive, max_body=6000)
    assert len(pages[0].body) == 5003


def _raw_response(url: str, body: bytes, date: str = "2024-03-01T12:00:00Z") -> bytes:
    """One uncompressed WARC response record, as bytes."""
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{url}>\r\n"
        f"WARC-Date: {date}\r\nWARC-Target-URI: {url}\r\n"
        "Content-Type: application/http;msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    )
    return head.encode() + http + b"\r\n\r\n"


def test_a_response_the_file_ends_inside_of_is_skipped_and_counted(
    tmp_path: Path,
) -> None:
    # A copy cut short: the second page's half was read as a page (a layout
    # anomaly in the history), and nothing said so.
    whole = _raw_response("https://example.org/a", b"<html>" + b"a" * 5000)
    cut = _raw_response("https://example.org/b", b"<html>" + b"b" * 5000)
    archive = tmp_path / "cut.warc"
    archive.write_bytes(whole + cut[: len(cut) // 2])

    pages, report = read_warc(archive)

    assert [p.url for p in pages] == ["https://example.org/a"]
    assert report.skipped == {"responses the file ends inside of": 1}


def test_a_warc_date_past_the_calendar_in_utc_is_refused_by_record(
    tmp_path: Path,
) -> None:
    # An OverflowError with a traceback, from the import, before.
    archive = tmp_path / "odd.warc"
    archive.write_bytes(
        _raw_response("https://example.org/a", b"<p>", "9999-12-31T23:59:59-23:59")
    )

    with pytest.raises(PlanwatchError, match=r"record 1: WARC-Date .* outside the"):
        read_warc(archive)
