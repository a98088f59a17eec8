"""Tables piped to a file or a pager lose nothing.

Found trying planwatch as a newcomer: `planwatch changes > changes.txt` wrote
"action_count_cha…" and "2026-12-04T12:4…": at the 80 columns a pipe gets, rich cut
every value too long for its column. Columns now fold instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.demo import run_demo
from tests.cli_helpers import run_cli


def test_changes_and_show_print_every_value_whole_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    result = run_demo(db)
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "80")

    code, changes, _ = run_cli(monkeypatch, capsys, "changes", "--db", str(db))
    assert code == 0
    assert "…" not in changes
    # A folded value goes on in the same column of the next line: read the
    # column's pieces top to bottom.
    kinds = _column(changes, 0)
    for event in result.after.events:
        assert event.kind.value in kinds

    code, shown, _ = run_cli(monkeypatch, capsys, "show", "demo", "--db", str(db))
    assert code == 0
    assert "…" not in shown


def _column(table: str, index: int) -> str:
    pieces = []
    for line in table.splitlines():
        cells = line.split("│")
        if len(cells) > index + 2:
            pieces.append(cells[index + 1].strip())
    return "".join(pieces)
