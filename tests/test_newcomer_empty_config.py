"""A config with no sources is an error, as no config at all is; nothing is
created.

Found trying planwatch as a newcomer: `planwatch check -c empty.toml` exited 0
having done nothing, and left a new database in the user data directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli

CONFIGS = {
    "empty.toml": "",
    "settings-only.toml": '[planwatch]\ncontact = "watch@example.org"\n',
    "with-db.toml": 'sources = []\n[planwatch]\ndb = "here/planwatch.sqlite"\n',
}


def _planwatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert "Traceback" not in err
    return code, folded(out + err)


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_config_without_sources_is_an_error_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    name: str,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    config = work / name
    config.write_text(CONFIGS[name])
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PLANWATCH_DB", raising=False)

    code, text = _planwatch(monkeypatch, capsys, command, "-c", str(config))

    assert code == 2
    assert f"planwatch: error: {config}: nothing to check" in text
    assert "no sources" in text
    assert sorted(p.name for p in work.iterdir()) == [name]
    assert not (tmp_path / "data").exists(), "no default database either"


def test_no_arguments_is_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PLANWATCH_DB", raising=False)

    code, text = _planwatch(monkeypatch, capsys, "check")

    assert code == 2
    assert "nothing to check" in text
    assert list(tmp_path.iterdir()) == []
