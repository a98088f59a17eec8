"""A subscription's ``sites`` and ``plans`` match what they say, or are refused.

Found trying planwatch as a newcomer against a copy of a plan served on
127.0.0.1:8080: ``sites = ["127.0.0.1:8080"]`` and ``plans =
["127.0.0.1:8080/climate"]`` were accepted and never matched (the port was
compared with the bare host name), and ``sites = ["watch.example.org/en"]`` (a
site with its locale, as the browser shows it) was accepted and never matched
either: the subscription stayed silent with no word why. Now a host with its port
matches that host and port, and a site with a path is refused, pointing at
``plans``, which is the filter that reads a path.
"""

from __future__ import annotations

import pytest

from monitor.config import parse_config
from notifiers.subscriptions import Facts, Filters
from parsers.errors import ConfigError
from storage.events import EventKind

LOCAL = "http://127.0.0.1:8080/climate/actions/1"
OTHER_PORT = "http://127.0.0.1:9090/climate/actions/1"
PUBLIC = "https://watch.example.org/en/actions/1"


def _filters(**given: list[str]) -> Filters:
    config = parse_config(
        {
            "targets": [{"name": "lead", "url": "json://127.0.0.1:9/"}],
            "subscriptions": [{"name": "s", "targets": ["lead"], **given}],
        }
    )
    return config.subscriptions[0].subscription().filters


def _matches(filters: Filters, url: str) -> bool:
    facts = Facts(kind=EventKind.STATUS_CHANGED, source="city", urls=(url,))
    return filters.matches(facts)


@pytest.mark.parametrize(
    "given",
    [{"sites": ["127.0.0.1:8080"]}, {"plans": ["127.0.0.1:8080/climate"]}],
)
def test_a_host_with_its_port_matches_that_host_and_port(
    given: dict[str, list[str]],
) -> None:
    filters = _filters(**given)
    assert _matches(filters, LOCAL)
    assert not _matches(filters, OTHER_PORT)
    assert not _matches(filters, PUBLIC)


def test_a_host_without_a_port_still_matches_any_port() -> None:
    filters = _filters(sites=["127.0.0.1"], plans=["127.0.0.1/climate"])
    assert _matches(filters, LOCAL)
    assert _matches(filters, OTHER_PORT)


def test_a_site_with_a_path_is_refused_pointing_at_plans() -> None:
    with pytest.raises(ConfigError) as caught:
        _filters(sites=["watch.example.org/en"])
    message = str(caught.value)
    assert "subscriptions.0.sites" in message
    assert "plans" in message
