"""`planwatch import` of a bad file: one error line naming the file and row.

Found trying planwatch as a newcomer: a binary file that is no WARC, a row with a
column missing and a NUL byte ended in tracebacks; an empty manifest said nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli

URL = "https://ilmastovahti.example/en/organizations/4"


def _import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code, out, err = run_cli(monkeypatch, capsys, "import", *args)
    text = folded(out + err)
    assert "Traceback" not in text
    return code, text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(128, 256)) * 8, "neither a WARC file nor a UTF-8 CSV manifest"),
        (f"url,observed_at,path\n{URL},2026-02-01\n".encode(), "line 2: no path"),
        (f"url,observed_at,path\n{URL},,p.html\n".encode(), "line 2: no observed_at"),
        (
            f"url,observed_at,path\n{URL},2026-02-01,p\x00.html\n".encode(),
            "line 2: path holds a NUL byte",
        ),
    ],
)
def test_a_bad_manifest_is_named_with_its_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    expected: str,
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(content)
    db = tmp_path / "history.sqlite"
    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))
    assert code == 2
    assert f"planwatch: error: {manifest}" in text
    assert expected in text
    assert not db.exists()  # refused before anything was written


def test_an_empty_manifest_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("url,observed_at,path\n")
    code, text = _import(monkeypatch, capsys, str(manifest), "--db", ":memory:")
    assert code == 0
    assert "no pages to import" in text


def test_a_gap_must_be_positive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("url,observed_at,path\n")
    code, text = _import(monkeypatch, capsys, str(manifest), "--gap", "-5")
    assert code == 2
    assert "--gap -5.0: give a number of minutes above 0" in text
