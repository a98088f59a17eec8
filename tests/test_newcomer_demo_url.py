"""`planwatch demo --db postgresql://...` is refused, not taken for a file path.

Found trying planwatch as a newcomer: README says `--db` takes a file path or an
SQLAlchemy URL, but the demo's `--db` is a file path only. Given
`postgresql://postgres@127.0.0.1:5432/test`, it created the folders
`postgresql:/postgres@127.0.0.1:5432/` in the current directory, an SQLite file
`test` inside, and advised `planwatch changes --db
postgresql:/postgres@127.0.0.1:5432/test`. It now says that the demo writes an
SQLite file, and creates nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:5432/test", "sqlite:///demo.sqlite"]
)
def test_a_database_url_is_refused(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(monkeypatch, capsys, "demo", "--db", url)

    assert code == 2, out
    assert "SQLite file" in folded(err), err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
