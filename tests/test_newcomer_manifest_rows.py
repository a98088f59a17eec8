"""`planwatch import` refuses a manifest row whose URL is no http(s) address, or
whose path leads out of the manifest's folder; nothing is written.

Found trying planwatch as a newcomer: a row `not-a-url,...,a5.html` stored a
snapshot with url `not-a-url`, and a row with path `../../../etc/passwd` stored the
bytes of /etc/passwd in the database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli

URL = "https://ilmastovahti.example/en/organizations/4"
GOOD_ROW = f"{URL},2026-12-01T10:00:00Z,a5.html"


def _import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code, out, err = run_cli(monkeypatch, capsys, "import", *args)
    text = folded(out + err)
    assert "Traceback" not in text
    return code, text


def _manifest(folder: Path, *rows: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a5.html").write_text("<html><body>a saved page</body></html>")
    manifest = folder / "manifest.csv"
    manifest.write_text("url,observed_at,path\n" + "".join(f"{r}\n" for r in rows))
    return manifest


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "ftp://example.org/a5.html",
        "/en/actions/5",
        "https://",
        # urlsplit reads these as https://example.org/a5.html; the row stored them.
        '"https://example.org/a\n5.html"',
        "https://example.org/a 5.html",
        "https://example.org/a\t5.html",
    ],
)
def test_a_row_whose_url_is_no_http_address_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
) -> None:
    manifest = _manifest(tmp_path, GOOD_ROW, f"{url},2026-12-01T10:00:00Z,a5.html")
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))

    assert code == 2
    shown = repr(url.strip('"')) if url.startswith('"') else repr(url)
    assert f"planwatch: error: {manifest}, line 3: url {folded(shown)}" in text
    assert "not an absolute http(s) URL" in text
    assert not db.exists()


def test_the_blanks_around_a_rows_url_are_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path, f" {URL} ,2026-12-01T10:00:00Z,a5.html")
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))

    assert code == 0, text
    with sqlite3.connect(db) as connection:
        urls = connection.execute("SELECT url FROM snapshot_log").fetchall()
    assert urls == [(URL,)]


@pytest.mark.parametrize(
    "path", ["../../../etc/passwd", "../outside.html", "/etc/passwd"]
)
def test_a_row_whose_path_leaves_the_folder_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
) -> None:
    (tmp_path / "outside.html").write_text("<html>not the manifest's</html>")
    manifest = _manifest(
        tmp_path / "archive", GOOD_ROW, f"{URL},2026-12-02T10:00:00Z,{path}"
    )
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))

    assert code == 2
    assert f"planwatch: error: {manifest}, line 3: path {path!r}" in text
    assert "outside the manifest's folder" in text
    assert not db.exists(), "nothing is written, not even the good row"


def test_a_symlink_out_of_the_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("<html>private</html>")
    manifest = _manifest(tmp_path / "archive", f"{URL},2026-12-01T10:00:00Z,link.html")
    (tmp_path / "archive" / "link.html").symlink_to(secret)
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))

    assert code == 2
    assert f"{manifest}, line 2: path 'link.html'" in text
    assert "outside the manifest's folder" in text
    assert not db.exists()


def test_paths_inside_the_folder_still_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path / "archive", f"{URL},2026-12-01T10:00:00Z,a5.html")
    (tmp_path / "archive" / "pages").mkdir()
    (tmp_path / "archive" / "pages" / "b.html").write_text("<html>b</html>")
    with manifest.open("a") as handle:
        handle.write(f"{URL}/b,2026-12-01T10:00:00Z,pages/../pages/b.html\n")
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))

    assert code == 0, text
    assert "2 pages" in text


def test_a_manifest_saved_by_a_spreadsheet_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # "CSV UTF-8" from a spreadsheet: a byte order mark and CRLF. The header was
    # refused: "the header must be url,observed_at,path".
    manifest = _manifest(tmp_path, GOOD_ROW)
    manifest.write_bytes(
        b"\xef\xbb\xbf" + manifest.read_bytes().replace(b"\n", b"\r\n")
    )
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(manifest), "--db", str(db))

    assert code == 0, text
    assert "2026-12-01T10:00:00+00:00: anomaly, 1 pages" in text
