"""A config error about a target, or about a key planwatch does not know, never
quotes the value: it may be a token.

Found trying planwatch as a newcomer: a Slack target written with ``token =
"xoxb-..."`` (a key planwatch does not take) and a mistyped ``pasword =
"..."`` were refused, and the error printed both values in full; so did a
``path = "A1BRTD4JD/TIiajk..."`` given as one string instead of a list, where
Slack's webhook tokens live. Only keys whose name said url, password, params or
user were hidden. Now a key planwatch does not know, and every key of a target but
its name, scheme, port, language and format, is named without its value.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

TOKEN = "TIiajkdnlazkcOXrIdevi7FQ"


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "planwatch.toml")
    return str(caught.value)


@pytest.mark.parametrize("key", ["token", "pasword", "api_key", "webhook"])
def test_an_unknown_key_of_a_target_is_named_not_quoted(key: str) -> None:
    message = _error(
        {"targets": [{"name": "chat", "scheme": "slack", "host": "h", key: TOKEN}]}
    )
    assert f"targets.0.{key}: not a key planwatch knows here" in message
    assert TOKEN not in message


def test_an_unknown_key_of_a_source_is_named_not_quoted() -> None:
    message = _error({"sources": [{"name": "city", "api_token": TOKEN}]})
    assert "sources.0.api_token: not a key planwatch knows here" in message
    assert TOKEN not in message


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"path": f"A1BRTD4JD/{TOKEN}"}, "path"),
        ({"recipients": f"#{TOKEN}"}, "recipients"),
    ],
)
def test_a_wrong_type_in_a_target_is_named_not_quoted(
    fields: dict[str, Any], key: str
) -> None:
    target = {"name": "chat", "scheme": "slack", "host": "T1JJ3T3L2", **fields}
    message = _error({"targets": [target]})
    assert f"targets.0.{key}" in message
    assert TOKEN not in message
    assert "T1JJ3T3L2" not in message


def test_a_targets_harmless_values_are_still_quoted() -> None:
    message = _error(
        {"targets": [{"name": "chat", "url": "json://h/", "language": "es"}]}
    )
    assert "targets.0.language = 'es'" in message
