"""A Retry-After that is no number of seconds is ignored, whatever its digits.

Found by answering 429 with ``Retry-After: ²``: the fetcher took the value for
delta-seconds because str.isdigit accepts a superscript two, and float('²') ended
the fetch in a ValueError traceback instead of an answer. RFC 9110's
delta-seconds are ASCII digits; anything else that is no HTTP-date is a value
the fetcher cannot read, and ignores, as it does 'soon'.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

from monitor.fetch import FetchOutcome, retry_after_seconds
from tests.faultserver import FaultServer, Reply, running
from tests.test_fetch import FakeClock, fetch, html_reply


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with running() as fault_server:
        yield fault_server


@pytest.mark.parametrize("value", ["²", "①", "١٢", "12²"])
def test_digits_outside_ascii_are_no_seconds(value: str) -> None:
    assert retry_after_seconds(value) is None


def test_a_429_with_a_superscript_retry_after_is_retried(server: FaultServer) -> None:
    server.script("/busy", Reply(429, headers={"Retry-After": "²"}), html_reply())
    clock = FakeClock()

    result = fetch(server.url("/busy"), clock=clock)

    assert result.outcome is FetchOutcome.OK
    assert result.attempts == 2
