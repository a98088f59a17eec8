"""`planwatch import` of a WARC response whose HTTP status is not a status code.

Found importing hand-made WARC files with damaged records: a status line
'HTTP/1.1 ²00 OK' ended in a ValueError traceback (str.isdigit accepts '²',
int() does not), and 'HTTP/1.1 99999999999999999999999 X' in an OverflowError
from SQLite, after the records before it had been read, with a traceback. Like a
WARC-Date that is no date, such a status is now refused naming the record, and
nothing is imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.errors import PlanwatchError
from storage.warc import read_warc
from tests.cli_helpers import run_cli


def _response(status: bytes, body: bytes = b"<html><p>hi</p></html>") -> bytes:
    http = b"HTTP/1.1 %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
        status,
        len(body),
        body,
    )
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        "WARC-Date: 2024-03-01T12:00:00Z\r\n"
        "WARC-Target-URI: https://example.org/organizations/1\r\n"
        "Content-Type: application/http;msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    )
    return head.encode() + http + b"\r\n\r\n"


BAD = ["²00 OK".encode(), b"99999999999999999999999 X", b"2000 OK", b"20 OK"]


@pytest.mark.parametrize("status", BAD)
def test_a_status_that_is_no_code_is_refused_by_record(
    tmp_path: Path, status: bytes
) -> None:
    archive = tmp_path / "odd.warc"
    archive.write_bytes(_response(b"200 OK") + _response(status))

    with pytest.raises(PlanwatchError, match=r"record 2 .*status"):
        read_warc(archive)


@pytest.mark.parametrize("status", BAD)
def test_import_says_which_record_and_imports_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: bytes,
) -> None:
    archive = tmp_path / "odd.warc"
    archive.write_bytes(_response(status))
    db = tmp_path / "history.sqlite"

    code, out, err = run_cli(
        monkeypatch, capsys, "import", str(archive), "--db", str(db)
    )

    assert "Traceback" not in err
    assert code != 0
    assert "record 1" in out + err
    assert not db.exists()


def test_a_three_digit_status_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "fine.warc"
    archive.write_bytes(_response(b"200 OK") + _response(b"404 Not Found"))

    pages, _ = read_warc(archive)

    assert [p.status_code for p in pages] == [200, 404]
