"""A lock file planwatch cannot open is one error naming it, not a traceback.

Found running `planwatch check --db x.sqlite` where `x.sqlite.lock` could not be
opened for writing (here a directory of that name; on a server, the lock file of
the `planwatch` service user, opened by an administrator as themselves): check
ended in an IsADirectoryError (or PermissionError) traceback from `Path.open`.
It now says which file it could not open and why (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli


@pytest.mark.parametrize("command", ["check", "run"])
def test_an_unopenable_lock_file_is_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    db = tmp_path / "history.sqlite"
    (tmp_path / "history.sqlite.lock").mkdir()
    config = tmp_path / "planwatch.toml"
    config.write_text(
        '[[sources]]\nname = "a"\npages = ["http://127.0.0.1:9/actions"]\n',
        encoding="utf-8",
    )

    code, _, err = run_cli(
        monkeypatch, capsys, command, "-c", str(config), "--db", str(db)
    )

    assert "Traceback" not in err
    assert code == 2
    assert f"{db}.lock" in folded(err)
