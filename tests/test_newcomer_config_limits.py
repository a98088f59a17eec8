"""A duration in the config past any sense (infinity, 1e308) fails at load, naming
the key.

Found trying planwatch as a newcomer: `interval_minutes = inf` (or `1e12`,
`jitter_seconds = 1e300`, `discover_hours = inf`, `first_retry_seconds = inf`)
passed the config and ended the first check in an OverflowError with a traceback;
`min_delay_seconds = inf` made `planwatch check` wait for ever.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

PAGE = "https://ilmastovahti.example/en/organizations/4"


def _config(table: str, key: str, value: object) -> dict[str, Any]:
    source: dict[str, Any] = {"name": "lab", "pages": [PAGE]}
    raw: dict[str, Any] = {"sources": [source]}
    if table == "sources":
        source[key] = value
    else:
        raw[table] = {key: value}
    return raw


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("sources", "interval_minutes", float("inf")),
        ("sources", "interval_minutes", 1e12),
        ("sources", "jitter_seconds", 1e300),
        ("sources", "discover_hours", float("inf")),
        ("sources", "stale_days", [1, 2, 99_999_999_999]),
        ("sources", "reminder_days", [7, 10**12]),
        ("planwatch", "min_delay_seconds", float("inf")),
        ("notifications", "first_retry_seconds", float("inf")),
        ("notifications", "max_retry_seconds", 1e300),
        ("notifications", "claim_timeout_seconds", float("inf")),
    ],
)
def test_a_duration_past_any_sense_is_refused_naming_the_key(
    table: str, key: str, value: object
) -> None:
    path = "sources.0" if table == "sources" else table

    with pytest.raises(ConfigError, match=rf"^planwatch\.toml: {path}\.{key}"):
        parse_config(_config(table, key, value), "planwatch.toml")


def test_the_defaults_and_long_but_sensible_durations_load() -> None:
    raw = _config("sources", "interval_minutes", 7 * 24 * 60)
    raw["sources"][0] |= {"stale_days": [30, 365, 3650], "reminder_days": [7, 365]}
    raw["notifications"] = {"max_retry_seconds": 24 * 3600.0}

    config = parse_config(raw, "planwatch.toml")

    assert config.sources[0].interval_minutes == 7 * 24 * 60
