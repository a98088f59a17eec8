"""`planwatch import` of a WARC response whose body is still content-encoded.

Found importing a WARC whose pages a browser-based crawler had recorded as the
server sent them, `Content-Encoding: br` (Brotli: the `brotli` module is not
among planwatch's dependencies) or `zstd` (which warcio cannot open at all):
warcio hands such a body over as it is, compressed, and planwatch read it as a
page: every such page became a `layout_anomaly` in the imported history (a
`not_html` page), and the crawl's actions could count as missing. The import now
stops at such a record, naming it, the encoding and what to do, and imports
nothing; gzip and deflate bodies (which warcio opens) are read as before.
"""

from __future__ import annotations

import gzip
import importlib.util
import zlib
from pathlib import Path

import pytest

from parsers.errors import PlanwatchError
from storage.warc import read_warc
from tests.cli_helpers import folded, run_cli

PAGE = b"<html><body><p>" + b"page " * 200 + b"</p></body></html>"
BODIES = {
    "gzip": gzip.compress(PAGE),
    "deflate": zlib.compress(PAGE),
    "zstd": b"(\xb5/\xfd" + bytes(range(256)),
    "br": b"\x1b\xe7\x03\x00" + bytes(range(256)),
}


def _response(encoding: str) -> bytes:
    body = BODIES[encoding]
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s"
        % (encoding.encode(), len(body), body)
    )
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        "WARC-Date: 2024-03-01T12:00:00Z\r\n"
        "WARC-Target-URI: https://example.org/organizations/1\r\n"
        "Content-Type: application/http;msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    )
    return head.encode() + http + b"\r\n\r\n"


UNOPENED = [
    "zstd",
    pytest.param(
        "br",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("brotli") is not None,
            reason="brotli is installed: warcio opens br bodies",
        ),
    ),
]


@pytest.mark.parametrize("encoding", UNOPENED)
def test_a_body_warcio_could_not_open_is_refused_by_record(
    tmp_path: Path, encoding: str
) -> None:
    archive = tmp_path / "crawl.warc"
    archive.write_bytes(_response("gzip") + _response(encoding))

    with pytest.raises(PlanwatchError, match=rf"record 2 .*{encoding}"):
        read_warc(archive)


@pytest.mark.parametrize("encoding", UNOPENED)
def test_import_names_the_record_and_imports_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
) -> None:
    archive = tmp_path / "crawl.warc"
    archive.write_bytes(_response(encoding))
    db = tmp_path / "history.sqlite"

    code, _, err = run_cli(monkeypatch, capsys, "import", str(archive), "--db", str(db))

    assert "Traceback" not in err
    assert code == 2
    assert "record 1" in folded(err)
    assert not db.exists()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_bodies_warcio_opens_are_read(tmp_path: Path, encoding: str) -> None:
    archive = tmp_path / "crawl.warc"
    archive.write_bytes(_response(encoding))

    [page], _ = read_warc(archive)

    assert page.body == PAGE
