"""An API source's failed answer is logged with its endpoint once.

Found trying planwatch as a newcomer: a `kind = "api"` source whose endpoint
answered 501 logged "WARNING monitor.api_source:
http://127.0.0.1:8901/api/graphql: http://127.0.0.1:8901/api/graphql: HTTP 501":
the error already begins with the endpoint, and the line put the answer's address
before it. The line now gives the address, then only what went wrong.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import httpx
import pytest

from monitor.api_source import ApiTarget, observe_api


def test_the_endpoint_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(501))
    target = ApiTarget.of("https://x.example/en")

    with caplog.at_level(logging.WARNING, logger="monitor.api_source"):
        (failed,) = asyncio.run(
            observe_api(
                target,
                user_agent="planwatch-test",
                now=datetime(2027, 1, 15, tzinfo=UTC),
                transport=transport,
            )
        )

    assert failed.error == "https://x.example/api/graphql: HTTP 501"
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.api_source"]
    assert lines == ["https://x.example/api/graphql: HTTP 501"], lines
