"""A relative `db` in a config is the config file's neighbour, wherever planwatch runs.

Found following README as a newcomer: its config says `db = "planwatch.sqlite"`
and its systemd unit runs `planwatch run -c /etc/planwatch/planwatch.toml`. The
path was taken from the working directory: the unit (started in /) wrote
/planwatch.sqlite or could not, and `planwatch check -c ~/pw/planwatch.toml` from
cron (started in $HOME) kept a second history beside the one the same command
kept when typed in ~/pw: each with its own baseline, neither complete. A relative
`db` is now read from the config file's folder, as the paths of a manifest are
read from the manifest's; `--db` and PLANWATCH_DB are unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from tests.cli_helpers import run_cli


def _config(folder: Path, db: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "planwatch.toml"
    path.write_text(
        f'[planwatch]\ndb = "{db}"\n'
        '[[sources]]\nname = "a"\npages = ["http://127.0.0.1:9/actions"]\n',
        encoding="utf-8",
    )
    return path


def test_a_relative_db_is_read_from_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path / "etc", "data/planwatch.sqlite")
    monkeypatch.chdir(tmp_path)
    assert load_config(config).planwatch.db == str(
        tmp_path / "etc" / "data" / "planwatch.sqlite"
    )


@pytest.mark.parametrize(
    "db",
    ["/srv/planwatch.sqlite", "~/planwatch.sqlite", "postgresql://u@h/db", ":memory:"],
)
def test_absolute_paths_and_urls_stay_as_written(tmp_path: Path, db: str) -> None:
    assert load_config(_config(tmp_path, db)).planwatch.db == db


def test_check_from_another_folder_uses_the_same_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "pw", "planwatch.sqlite")
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    run_cli(monkeypatch, capsys, "check", "-c", str(config))

    assert (tmp_path / "pw" / "planwatch.sqlite").exists()
    assert not (elsewhere / "planwatch.sqlite").exists()
