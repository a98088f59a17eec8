"""A page or site URL the config refuses is named without its password.

Found trying odd configs: `pages = ["ftp://watch:s3cret-pw@plan.example/actions"]`
(a staging site behind basic auth, with the wrong scheme) was refused, rightly,
with the whole URL in the error, password and all; so was a `site` with a `?`,
whose value the error also repeated as `sources.0.site = '...'`. The fetcher
masks credentials in every URL it logs; the config errors now do the same, and
still name the key and the address.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError

SECRET = "s3cret-pw"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pages", [f"ftp://watch:{SECRET}@plan.example/actions"]),
        ("site", f"ftp://watch:{SECRET}@plan.example/en"),
        ("site", f"https://watch:{SECRET}@plan.example/en?view=x"),
        ("api_url", f"https://watch:{SECRET}@plan.example/graphql#x"),
    ],
)
def test_a_refused_url_is_named_without_its_secret(key: str, value: Any) -> None:
    source: dict[str, Any] = {"name": "a", key: value}
    if key == "api_url":
        source["pages"] = ["https://plan.example/actions"]

    with pytest.raises(ConfigError) as error:
        parse_config({"sources": [source]})

    message = str(error.value)
    assert SECRET not in message
    assert f"sources.0.{key}" in message
    assert "plan.example" in message
