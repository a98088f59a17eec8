"""Every time zone in the config is checked the same way, naming the key."""

from __future__ import annotations

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

PAGE = "http://127.0.0.1/organizations/1"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"planwatch": {"timezone": "Mars/Base"}}, "planwatch.timezone"),
        (
            {"sources": [{"name": "a", "pages": [PAGE], "timezone": "Mars/Base"}]},
            "sources.0.timezone",
        ),
    ],
)
def test_unknown_zone_names_key_and_value(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)

    message = str(caught.value)
    assert key in message
    assert "unknown time zone 'Mars/Base'" in message


def test_known_zones_pass() -> None:
    config = parse_config(
        {
            "planwatch": {"timezone": "Europe/Helsinki"},
            "sources": [{"name": "a", "pages": [PAGE], "timezone": "UTC"}],
        }
    )

    assert config.planwatch.timezone == "Europe/Helsinki"
    assert config.sources[0].timezone == "UTC"
