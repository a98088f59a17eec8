"""A name whose escaped JSON holds half an emoji (a lone surrogate, ``\\ud800``) is
stored, listed and exported with U+FFFD in its place.

Found trying planwatch as a newcomer: such a name in a page's embedded data (what
a site that cuts a text between the two halves of an emoji publishes) ended every
check of the source with a UnicodeEncodeError: the text has no UTF-8 form, so it
could be neither hashed, stored, printed nor sent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-list.en.html.gz"
URL = "https://lab.example.org/en/actions"


def _import(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    at: str,
    body: bytes,
) -> None:
    folder.mkdir()
    (folder / "actions.html").write_bytes(body)
    manifest = folder / "manifest.csv"
    manifest.write_text(f"url,observed_at,path\n{URL},{at},actions.html\n")
    db = str(folder.parent / "history.sqlite")

    code, out, err = run_cli(monkeypatch, capsys, "import", str(manifest), "--db", db)

    assert code == 0, out + err


def test_a_name_with_a_lone_surrogate_is_stored_with_a_replacement_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = gzip.decompress(PAGE.read_bytes())
    broken = body.replace(
        b'"name":"Increase solar power"', b'"name":"Increase solar power \\ud83d"'
    )
    assert broken != body
    _import(monkeypatch, capsys, tmp_path / "before", "2026-01-01T00:00:00Z", body)
    _import(monkeypatch, capsys, tmp_path / "after", "2026-01-02T00:00:00Z", broken)
    db = str(tmp_path / "history.sqlite")

    code, out, err = run_cli(monkeypatch, capsys, "changes", "--json", "--db", db)
    assert code == 0, err
    (renamed,) = [json.loads(line) for line in out.splitlines()]
    assert renamed["kind"] == "renamed"
    assert renamed["after"] == "Increase solar power \ufffd"

    for command in (["export", "records", "-f", "csv"], ["show", "import", "--json"]):
        code, out, err = run_cli(monkeypatch, capsys, *command, "--db", db)
        assert code == 0, err
        assert "Increase solar power \ufffd" in out
