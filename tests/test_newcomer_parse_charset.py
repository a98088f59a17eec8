"""`planwatch parse` reads a saved page in the encoding it declares, as a check does.

Found trying `planwatch parse` on pages in odd charsets: a check decodes a fetched
body by its byte order mark, its Content-Type and its ``<meta charset>``
(``monitor.charset``), but `parse` handed the file's bytes to the parser, which read
them as UTF-8 whatever they said. A saved page in ISO-8859-1 that declares so
showed "P��st�t" for "Päästöt" (every name with a letter outside ASCII
altered), and a page saved as UTF-16 with its byte order mark was
``layout_unrecognised``/``not_kausal``, no actions. `parse` now decodes the file as
a check decodes a body (with no Content-Type to go by).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.charset import decode_body
from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "organization-2.fi.html.gz"
URL = "http://demo.localhost:3000/organizations/2"
UTF8_META = '<meta charSet="utf-8"/>'


def _parse(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    code, out, err = run_cli(
        monkeypatch, capsys, "parse", str(path), "--url", URL, "--json"
    )
    assert code == 0, err
    parsed: dict[str, object] = json.loads(out)
    return parsed


@pytest.fixture
def text() -> str:
    page = gzip.decompress(PAGE.read_bytes()).decode("utf-8")
    assert UTF8_META in page
    assert any(ord(c) > 127 for c in page)  # Finnish letters to get wrong
    return page


@pytest.mark.parametrize(
    ("label", "encode"),
    [
        (
            "iso-8859-1 declared",
            lambda t: t.replace(UTF8_META, '<meta charset="iso-8859-1"/>').encode(
                "latin-1"
            ),
        ),
        (
            "windows-1252 declared",
            lambda t: t.replace(
                UTF8_META,
                '<meta http-equiv="Content-Type" content="text/html; '
                'charset=windows-1252"/>',
            ).encode("cp1252"),
        ),
        ("utf-16 with a BOM", lambda t: "\ufeff".join(["", t]).encode("utf-16-le")),
        ("utf-8 with a BOM", lambda t: "\ufeff".join(["", t]).encode("utf-8")),
    ],
)
def test_a_page_reads_the_same_in_the_encoding_it_declares(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    label: str,
    encode: Callable[[str], bytes],
) -> None:
    plain = tmp_path / "plain.html"
    plain.write_bytes(text.encode("utf-8"))
    other = tmp_path / "other.html"
    other.write_bytes(encode(text))

    expected = _parse(plain, monkeypatch, capsys)
    got = _parse(other, monkeypatch, capsys)

    assert expected["outcome"] == "ok"
    assert got["outcome"] == "ok", label
    assert got["organization"] == expected["organization"], label
    assert got["actions"] == expected["actions"], label


@pytest.mark.parametrize("stray", [b"\x92", b"\xe4", b"\xc3"])
@pytest.mark.parametrize("where", ["in the body", "at the very end"])
def test_a_utf8_page_with_a_stray_byte_stays_utf8(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    stray: bytes,
    where: str,
) -> None:
    # One byte of another code page pasted into the page (or the file cut inside
    # a character) left it no longer clean UTF-8, and it was read whole as cp1250:
    # every Finnish name came out "YmpĂ¤ristĂ¶...". It costs one U+FFFD now.
    plain = tmp_path / "plain.html"
    plain.write_bytes(text.encode("utf-8"))
    body = text.encode("utf-8")
    if where == "in the body":
        end = body.rindex(b"</body>")
        body = body[:end] + stray + body[end:]
    else:
        body += stray
    damaged = tmp_path / "damaged.html"
    damaged.write_bytes(body)

    expected = _parse(plain, monkeypatch, capsys)
    got = _parse(damaged, monkeypatch, capsys)

    assert got["organization"] == expected["organization"]
    assert got["actions"] == expected["actions"]


def test_a_latin1_page_labelled_utf8_is_still_read_as_latin1() -> None:
    finnish = "<p>Ympäristöpalvelut: päästöt vähenevät, ilmasto lämpenee</p>"
    for content_type in ("text/html; charset=utf-8", None):
        decoded = decode_body(finnish.encode("latin-1"), content_type)
        assert decoded.text == finnish
