"""A typo'd config key names the keys that would have been read, never a value.

Found trying planwatch as a newcomer: `pagez = [...]` and an inline `password` were
answered only with pydantic's "Extra inputs are not permitted".
"""

from __future__ import annotations

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

PAGE = "https://ilmastovahti.example/en/organizations/4"


def test_a_typo_in_a_source_suggests_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"sources": [{"name": "lab", "pagez": [PAGE]}]}, "planwatch.toml")
    message = str(error.value)
    assert message.startswith("planwatch.toml: sources.0.pagez: ")
    assert "did you mean 'pages'?" in message
    assert "interval_minutes" in message  # the keys a source takes


def test_an_inline_password_points_at_password_env_and_is_not_shown() -> None:
    raw = {
        "targets": [
            {"name": "lead", "scheme": "mailtos", "host": "smtp.example.org",
             "password": "Inline-s3cret"}
        ]
    }  # fmt: skip
    with pytest.raises(ConfigError) as error:
        parse_config(raw, "planwatch.toml")
    message = str(error.value)
    assert "targets.0.password: " in message
    assert "did you mean 'password_env'?" in message
    assert "Inline-s3cret" not in message


def test_an_unknown_table_at_the_top_lists_the_tables() -> None:
    with pytest.raises(ConfigError, match=r"sourcez: .*did you mean 'sources'"):
        parse_config({"sourcez": []}, "planwatch.toml")
