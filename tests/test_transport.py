"""The fetcher's connection pool: kept connections are reused while they live, and
one the server closed is never reused (`monitor.transport`).

Against the fault server on 127.0.0.1, which notes the client port of every
request: one port, one connection.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable, Iterator

import pytest

from monitor import transport
from monitor.fetch import Fetcher, FetchOutcome, FetchPolicy, FetchResult
from tests.faultserver import FaultServer, Reply, running

POLICY = FetchPolicy(
    contact="ops@example.org",
    connect_timeout=1.0,
    read_timeout=1.0,
    total_timeout=5.0,
    min_delay_per_host=0.0,
    jitter=0.0,
    per_host_concurrency=4,
    respect_robots=False,
    retries=0,  # a reused dead connection would fail the request: no retry hides it
)
PAGE = Reply(200, b"<html><body>hello</body></html>", {"Content-Type": "text/html"})


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with running() as fault_server:
        yield fault_server


def fetch_in_turn(urls: list[str], pause: float = 0.0) -> list[FetchResult]:
    async def main() -> list[FetchResult]:
        results = []
        async with Fetcher(POLICY) as fetcher:
            for url in urls:
                results.append(await fetcher.fetch(url))
                await asyncio.sleep(pause)
        return results

    return asyncio.run(main())


def ports(server: FaultServer) -> list[int]:
    return [seen.port for seen in server.requests]


def test_one_connection_serves_requests_one_after_another(server: FaultServer) -> None:
    server.script("/a", PAGE)
    results = fetch_in_turn([server.url("/a")] * 5)

    assert [r.outcome for r in results] == [FetchOutcome.OK] * 5
    assert len(set(ports(server))) == 1, ports(server)


def test_concurrent_requests_keep_their_connections_for_the_next_round(
    server: FaultServer,
) -> None:
    server.script("/a", Reply(200, b"x", {"Content-Type": "text/plain"}, delay=0.05))

    async def main() -> list[FetchResult]:
        async with Fetcher(POLICY) as fetcher:
            first = [fetcher.fetch(server.url("/a")) for _ in range(4)]
            done = list(await asyncio.gather(*first))
            second = [fetcher.fetch(server.url("/a")) for _ in range(4)]
            return done + list(await asyncio.gather(*second))

    results = asyncio.run(main())

    assert {r.outcome for r in results} == {FetchOutcome.OK}
    assert len(set(ports(server)[:4])) == 4
    assert set(ports(server)[4:]) == set(ports(server)[:4])


def test_a_connection_the_server_closed_is_not_reused(server: FaultServer) -> None:
    server.script(
        "/bye", Reply(200, b"x", {"Content-Type": "text/plain"}, hang_up=True)
    )
    server.script("/a", PAGE)
    # The pause lets the server's FIN arrive before the next request looks for a
    # connection; without the liveness check it would reuse the closed one and
    # fail.
    results = fetch_in_turn([server.url("/bye"), server.url("/a")], pause=0.2)

    assert [r.outcome for r in results] == [FetchOutcome.OK, FetchOutcome.OK]
    assert results[1].attempts == 1
    assert len(set(ports(server))) == 2


def test_the_liveness_check_is_the_one_asked(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetcher's pool asks `transport.readable_fds` (not httpx's own check): if
    httpx's internals move, the pool falls back to httpx's, and this fails."""
    answers: list[set[int]] = []

    def counting(fds: Iterable[int]) -> set[int]:
        answers.append(real(fds))
        return answers[-1]

    real = transport.readable_fds
    monkeypatch.setattr(transport, "readable_fds", counting)
    server.script("/a", PAGE)
    fetch_in_turn([server.url("/a")] * 3)

    assert answers, "the pool never asked monitor.transport whether a connection lives"
    assert not any(answers)  # the server kept every connection open


def test_one_poll_a_look_asks_every_kept_connection(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With four connections kept, a request polls at most once per look over the
    pool (one before it, one after), each poll asking all four sockets."""
    server.script("/a", Reply(200, b"x", {"Content-Type": "text/plain"}, delay=0.05))
    polls: list[list[int]] = []

    def counting(fds: Iterable[int]) -> set[int]:
        polls.append(list(fds))
        return real(polls[-1])

    real = transport.readable_fds

    async def main() -> FetchResult:
        async with Fetcher(POLICY) as fetcher:
            await asyncio.gather(*[fetcher.fetch(server.url("/a")) for _ in range(4)])
            monkeypatch.setattr(transport, "readable_fds", counting)
            return await fetcher.fetch(server.url("/a"))

    result = asyncio.run(main())

    assert result.outcome is FetchOutcome.OK
    assert len(set(ports(server))) == 4
    assert 1 <= len(polls) <= 2, polls
    assert all(len(fds) == 4 for fds in polls), polls


def test_readable_says_yes_once_the_peer_has_closed() -> None:
    ours, theirs = socket.socketpair()
    try:
        assert transport.readable(ours) is False
        theirs.close()
        deadline = time.monotonic() + 2
        while not transport.readable(ours) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert transport.readable(ours) is True
    finally:
        ours.close()
    assert transport.readable(ours) is True  # closed here: fileno() is -1
    assert transport.readable(None) is True
