"""A key put in the wrong table is pointed to the table it belongs in.

Found following README as a newcomer: it says discovery is "a second apart
unless the config's `min_delay_seconds` says otherwise", without saying where
that key goes. Put under `[[sources]]` (next to `interval_minutes`), it was
refused with "not a key planwatch knows here; did you mean 'jitter_seconds'?",
a different setting. The error now says the key belongs in `[planwatch]`, and
README's config example shows it there.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

PAGE = "https://plan.example/actions"


def _refused(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    return str(error.value)


def test_a_planwatch_key_under_sources_is_sent_to_planwatch() -> None:
    message = _refused(
        {"sources": [{"name": "a", "pages": [PAGE], "min_delay_seconds": 0}]}
    )
    assert "sources.0.min_delay_seconds" in message
    assert "[planwatch]" in message
    assert "did you mean 'jitter_seconds'" not in message


def test_a_source_key_under_planwatch_is_sent_to_sources() -> None:
    message = _refused(
        {
            "planwatch": {"interval_minutes": 5},
            "sources": [{"name": "a", "pages": [PAGE]}],
        }
    )
    assert "planwatch.interval_minutes" in message
    assert "[[sources]]" in message


def test_a_key_no_table_has_still_gets_the_nearest() -> None:
    message = _refused({"sources": [{"name": "a", "pages": [PAGE], "intervall": 5}]})
    assert "did you mean 'interval_minutes'" in message
