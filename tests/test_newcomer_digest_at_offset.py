"""A digest's ``at`` is a local time of day: one with a UTC offset is refused.

Found trying planwatch as a newcomer: a digest for a team in Helsinki written as
``at = "08:00Z"`` (meaning 08:00 UTC) with ``timezone = "Europe/Helsinki"`` was
accepted, and the offset silently dropped: the digest went out at 08:00 Helsinki
time, two or three hours earlier than asked. Which of the two the user meant
cannot be guessed, so the config now says to give the zone in ``timezone``. The
daily jobs' ``daily_at`` had the same reading and is refused the same way.
"""

from __future__ import annotations

from datetime import time

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

TARGET = {"name": "lead", "url": "json://127.0.0.1:9/"}


def _digest(at: object) -> dict[str, object]:
    return {
        "targets": [TARGET],
        "subscriptions": [
            {
                "name": "morning",
                "targets": ["lead"],
                "mode": "digest",
                "at": at,
                "timezone": "Europe/Helsinki",
            }
        ],
    }


@pytest.mark.parametrize("at", ["08:00Z", "08:00+00:00", "08:00:00-05:00"])
def test_an_offset_in_at_is_refused_naming_timezone(at: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_digest(at))
    message = str(caught.value)
    assert "subscriptions.0.at" in message
    assert "timezone" in message


def test_an_offset_in_daily_at_is_refused_too() -> None:
    with pytest.raises(ConfigError, match=r"planwatch\.daily_at.*timezone"):
        parse_config({"planwatch": {"daily_at": "07:00Z"}})


@pytest.mark.parametrize("at", ["08:00", "08:00:00", time(8, 0)])
def test_a_local_time_is_read_as_before(at: object) -> None:
    config = parse_config(_digest(at))
    assert config.subscriptions[0].at == time(8, 0)
