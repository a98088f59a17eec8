"""A charset label naming one of Python's non-text codecs never ends a check.

Found serving a series-2024 organization page on 127.0.0.1 with
`Content-Type: text/html; charset=rot13`: `planwatch check` ended in a
LookupError traceback ("'rot-13' is not a text encoding"), for every source of
the config, not just that page; so did `charset=base64`, `hex`, `zlib`, `bz2`,
`uu`, `quopri` (codecs.lookup knows them as bytes or text transforms), and
`undefined` with a UnicodeError, in the header or in the page's own
`<meta charset>`. `decode_body` says it never raises; such a label is now one
that does not fit the body, and the page is decoded as if it named none.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from monitor.charset import decode_body
from monitor.localserve import SavedPage, SiteState, serve_site
from tests.cli_helpers import run_cli

ORG = Path(__file__).parent.parent / "fixtures/kausal-watch/series-2024/r01/html"
LABELS = ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "undefined"]


def _page() -> bytes:
    return gzip.decompress((ORG / "organization-2.en.html.gz").read_bytes())


@pytest.mark.parametrize("label", LABELS)
def test_a_non_text_codec_in_the_header_is_ignored(label: str) -> None:
    body = "<html><head></head><body>Ympäristö</body></html>".encode()
    decoded = decode_body(body, f"text/html; charset={label}")
    assert decoded.encoding == "utf-8"
    assert "Ympäristö" in decoded.text


@pytest.mark.parametrize("label", LABELS)
def test_a_non_text_codec_in_meta_is_ignored(label: str) -> None:
    body = f'<html><head><meta charset="{label}"></head><body>Ympäristö</body>'
    decoded = decode_body(body.encode(), "text/html")
    assert decoded.encoding == "utf-8"
    assert "Ympäristö" in decoded.text


def test_check_reads_the_page_as_it_would_without_the_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = SavedPage(_page(), content_type="text/html; charset=rot13")
    site = SiteState(pages={"/en/organizations/2": odd})
    db = str(tmp_path / "history.sqlite")
    with serve_site(site) as base:
        code, out, err = run_cli(
            monkeypatch, capsys, "check", f"{base}/en/organizations/2", "--db", db
        )

    assert "Traceback" not in err
    assert code == 0, err
    assert "cli: baseline (1 pages, 0 failed" in out
