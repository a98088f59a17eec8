"""A name with a character planwatch does not allow is refused in words.

Found trying planwatch as a newcomer: `[[sources]] name = "bad name!"` was refused
with "String should match pattern '^[\\w.:-]+$'", and `--source 'a b'` on check and
import the same way: a regular expression, for a user who only typed a space.
The message now says which characters a name may have.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli

RULE = "letters, digits, '_', '.', ':' and '-'"


@pytest.mark.parametrize("table", ["sources", "targets"])
def test_a_config_name_is_refused_in_words(
    table: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = {"sources": "bad name!", "targets": "ok"}
    target_names = {"sources": "ok", "targets": "my target"}
    config = tmp_path / "planwatch.toml"
    config.write_text(
        f'[[sources]]\nname = "{names[table]}"\n'
        'pages = ["http://127.0.0.1:9/en/actions"]\n'
        f'[[targets]]\nname = "{target_names[table]}"\nurl = "json://127.0.0.1:9/"\n',
        encoding="utf-8",
    )
    code, out, err = run_cli(monkeypatch, capsys, "check", "-c", str(config))
    assert code == 2, out
    message = folded(err)
    assert f"{table}.0.name" in message, message
    assert RULE in message
    assert "pattern" not in message


def test_a_source_option_is_refused_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        monkeypatch, capsys,
        "check", "http://127.0.0.1:9/en/actions", "--source", "a b",
        "--db", str(tmp_path / "x.sqlite"),
    )  # fmt: skip
    assert code == 2, out
    message = folded(err)
    assert "--source 'a b'" in message, message
    assert RULE in message
    assert "pattern" not in message
