"""A subscription's ``sources`` must name sources of its config, or it is refused.

Found as a unit lead: ``sources = ["espo"]`` (one letter short of the config's
``espoo``) was accepted, and the subscription never matched anything: messages
are queued by the check of a source, with the routing of the config that checks
it, so a source name the config does not have can never reach the filter, and the
subscription stayed silent with no word why. The config now refuses it, naming
the subscription, the name and the sources it has, as it does a target the
subscription names that is not among the targets.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError


def _config(sources: list[str]) -> dict[str, Any]:
    return {
        "sources": [
            {"name": "espoo", "pages": ["https://ilmastovahti.espoo.fi/en/actions"]},
            {"name": "turku", "pages": ["https://ilmasto.turku.fi/en/actions"]},
        ],
        "targets": [{"name": "lead", "url": "json://127.0.0.1:9/"}],
        "subscriptions": [{"name": "unit", "targets": ["lead"], "sources": sources}],
    }


def test_a_source_the_config_lacks_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(["espo"]))
    message = str(caught.value)
    assert "unit" in message
    assert "'espo'" in message
    assert "espoo, turku" in message


def test_the_configs_sources_are_taken() -> None:
    config = parse_config(_config(["espoo", "turku"]))
    filters = config.subscriptions[0].subscription().filters
    assert filters.sources == frozenset({"espoo", "turku"})
