"""A target's name leaves room for the subscription named after it.

A target no subscription names gets the implicit subscription "target:NAME",
kept in a 200-character column. Names of up to 200 characters were accepted, so a
target named with 194 to 200 made every check that queued a message for it fail
on PostgreSQL (the row refused: a DataError traceback, nothing recorded), while
SQLite stored it. The config now takes at most 193, saying which key.
"""

from __future__ import annotations

import tomllib

import pytest

from monitor.config import parse_config
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from parsers.errors import ConfigError
from storage.db import Database
from tests.notify_helpers import record, seed, status_change


def _config(name: str) -> str:
    return f'[[targets]]\nname = "{name}"\nurl = "json://127.0.0.1:9/"\n'


def test_a_name_too_long_for_its_subscription_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"targets\.0\.name.*at most 193"):
        parse_config(tomllib.loads(_config("t" * 194)))


def test_the_longest_name_taken_queues_its_messages(db: Database) -> None:
    config = parse_config(tomllib.loads(_config("t" * 193)))
    seed(db)
    routing = config.resolved_targets()
    [target] = routing.values()
    assert isinstance(target, Target)
    assert record(db, Routing({target.name: target}), [status_change("10")]) == 1
