"""`planwatch parse --url` must be the absolute http(s) URL the page came from.

Found trying planwatch as a newcomer: `planwatch parse page.html --url notaurl` was
accepted, and the page was read against an address that cannot be one.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-1.en.html.gz"


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "action-1.html"
    path.write_bytes(gzip.decompress(PAGE.read_bytes()))
    return path


def _parse(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, "parse", *args)


@pytest.mark.parametrize(
    "url",
    [
        "notaurl",
        "/en/actions/1",
        "lab.example/en/actions/1",
        "ftp://lab.example/a",
        "https://",
        "http://[::1",
    ],
)
def test_a_url_that_is_not_absolute_http_is_refused(
    page: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
) -> None:
    code, out, err = _parse(monkeypatch, capsys, str(page), "--url", url)

    assert code == 2
    assert out == ""
    assert f"planwatch: error: --url {url!r}: not an absolute http(s) URL" in err


def test_an_absolute_http_url_is_accepted(
    page: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://lab.example/en/actions/1"

    code, out, err = _parse(monkeypatch, capsys, str(page), "--url", url, "--json")

    assert (code, err) == (0, "")
    assert '"kind": "action"' in out
