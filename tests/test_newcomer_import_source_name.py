"""`planwatch import --source NAME` takes only a name a config could give.

Found trying planwatch as a newcomer: `--source 'a/b <x>'` and `--source ''` were
stored as sources, which the web view cannot address (`/sources/a%2Fb...` is not
found) and which `planwatch check --source` and the config refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli

URL = "https://ilmastovahti.example/en/organizations/4"


def _manifest(folder: Path) -> Path:
    (folder / "a5.html").write_text("<html><body>a saved page</body></html>")
    manifest = folder / "manifest.csv"
    manifest.write_text(f"url,observed_at,path\n{URL},2026-12-01T10:00:00Z,a5.html\n")
    return manifest


@pytest.mark.parametrize("name", ["", "a/b", "espoo <x>", "with space", "x" * 201])
def test_a_source_name_no_config_could_give_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    db = tmp_path / "history.sqlite"

    code, out, err = run_cli(
        monkeypatch,
        capsys,
        "import",
        str(_manifest(tmp_path)),
        "--db",
        str(db),
        "--source",
        name,
    )

    text = folded(out + err)
    assert code == 2, text
    assert "Traceback" not in text
    assert "--source" in text
    assert not db.exists()


def test_a_config_like_name_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.sqlite"

    code, out, err = run_cli(
        monkeypatch,
        capsys,
        "import",
        str(_manifest(tmp_path)),
        "--db",
        str(db),
        "--source",
        "espoo.fi:en-2",
    )

    assert code == 0, out + err
    assert db.exists()
