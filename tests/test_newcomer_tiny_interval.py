"""An `interval_minutes` too short to be a schedule fails at load, naming the key.

Found trying planwatch as a newcomer: `interval_minutes = 1e-9` (or any interval
under a microsecond) passed the config, which only asks for more than 0, and
then `planwatch check` and `planwatch run` ended in a traceback, "ValueError:
interval must be positive, got 0:00:00": the interval rounds to no time at all.
An interval under a second is refused when the file is read; a few seconds, as
tests and demos use, still load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError
from tests.cli_helpers import run_cli

PAGE = "http://127.0.0.1:9/organizations/4"


def _raw(interval: float) -> dict[str, object]:
    return {"sources": [{"name": "lab", "pages": [PAGE], "interval_minutes": interval}]}


@pytest.mark.parametrize("interval", [1e-12, 1e-9, 0.001])
def test_an_interval_under_a_second_is_refused_naming_the_key(interval: float) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_raw(interval))
    message = str(raised.value)
    assert "interval_minutes" in message
    assert "second" in message


@pytest.mark.parametrize("interval", [1 / 60, 0.05, 60])
def test_a_few_seconds_and_more_load(interval: float) -> None:
    assert parse_config(_raw(interval)).sources[0].interval_minutes == interval


def test_check_says_so_before_fetching(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "planwatch.toml"
    config.write_text(
        f'[[sources]]\nname = "lab"\npages = ["{PAGE}"]\ninterval_minutes = 1e-12\n'
    )
    database = tmp_path / "planwatch.sqlite"
    code, _, stderr = run_cli(
        monkeypatch, capsys, "check", "-c", str(config), "--db", str(database)
    )
    assert code == 2
    assert "interval_minutes" in stderr
    assert "Traceback" not in stderr
    assert not database.exists()
