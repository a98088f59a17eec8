"""A command that reads refuses a database that is not there, and creates nothing;
commands that write set one up on first use, as before.

Found trying planwatch as a newcomer: `planwatch changes --db typo.sqlite` (and
stale, history, show, export, sources, notify status ...) created an empty
database there, folders and all, and answered "no changes".
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from tests.cli_helpers import run_cli

READ_COMMANDS = [
    ["changes"],
    ["changes", "--site", "lab"],
    ["stale"],
    ["history", "15"],
    ["show", "lab"],
    ["export", "records"],
    ["export", "changes", "-o", "changes.csv"],
    ["sources"],
    ["notify", "status"],
    ["notify", "preview"],
    # These two only change what is there: on a new database they have nothing to do.
    ["notify", "retry", "1"],
    ["db", "prune", "--keep-days", "30"],
    ["serve", "--port", "0"],
]


def _planwatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code, _, err = run_cli(monkeypatch, capsys, *args)
    return code, err


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_refuses_a_missing_file_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "typo" / "planwatch.sqlite"

    code, err = _planwatch(monkeypatch, capsys, *command, "--db", str(missing))

    assert code == 2
    assert f"no database at {missing}: run `planwatch check`" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "nothing is created, not even a folder"


def test_the_default_database_is_said_to_be_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # platformdirs puts the user data directory under XDG_DATA_HOME.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PLANWATCH_DB", raising=False)
    expected = tmp_path / "data" / "planwatch" / "planwatch.sqlite"

    changes = _planwatch(monkeypatch, capsys, "changes")
    status = _planwatch(monkeypatch, capsys, "notify", "status")

    for code, err in (changes, status):
        assert code == 2
        assert f"no database at {expected}" in err
    assert not (tmp_path / "data").exists()


def test_an_empty_database_is_not_set_up_by_a_read(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # db_url: an SQLite path with no file yet, or an empty PostgreSQL schema (on a
    # server with trust auth, which lets a password through unchecked).
    if "://" not in db_url:
        Path(db_url).touch()
        given = db_url
    else:
        given = make_url(db_url).set(password="Empty-s3cret").render_as_string(False)

    code, err = _planwatch(monkeypatch, capsys, "changes", "--db", given)

    assert code == 2
    assert "is empty: run `planwatch check` or `planwatch db upgrade" in err
    assert "Empty-s3cret" not in err
    engine = create_engine(db_url if "://" in db_url else f"sqlite:///{db_url}")
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


def test_commands_that_write_set_the_database_up_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgraded = tmp_path / "new" / "upgraded.sqlite"
    checked = tmp_path / "other" / "checked.sqlite"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/organizations/1"

    upgrade = _planwatch(monkeypatch, capsys, "db", "upgrade", "--db", str(upgraded))
    check = _planwatch(monkeypatch, capsys, "check", dead, "--db", str(checked))
    read = _planwatch(monkeypatch, capsys, "changes", "--db", str(checked))

    assert upgrade[0] == 0
    assert check[0] == 1  # the page could not be read, the check was recorded
    assert read == (0, "")
    assert upgraded.exists()
    assert checked.exists()
