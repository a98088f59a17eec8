"""The pool's look over its connections (`monitor.transport._Pool`): the decisions
httpcore's own look makes, one poll for every kept socket, and a free connection
handed to one waiting request only.

Connections and waiting requests are stand-ins with the states httpcore asks about;
no I/O happens until a test says so.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from monitor import transport
from tests.faultserver import Reply, running

ORIGINS = (
    httpcore.Origin(b"http", b"a.example", 80),
    httpcore.Origin(b"http", b"b.example", 80),
)
STATES = ("new", "idle", "active", "closed", "expired")
SSL = ssl.create_default_context()


@dataclass(eq=False)
class Conn:
    """A stand-in HTTP/1.1 connection; "expired" is idle, and its server hung up."""

    origin: httpcore.Origin
    state: str

    def is_closed(self) -> bool:
        return self.state == "closed"

    def has_expired(self) -> bool:
        return self.state == "expired"

    def is_idle(self) -> bool:
        return self.state in ("idle", "expired")

    def is_available(self) -> bool:
        return self.state in ("idle", "expired")

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin


@dataclass(eq=False)
class Waiting:
    """A stand-in for httpcore's record of a request in the pool."""

    request: httpcore.Request
    connection: Any = None

    def is_queued(self) -> bool:
        return self.connection is None

    def assign_to_connection(self, connection: Any) -> None:
        self.connection = connection


def waiting(origin: httpcore.Origin, connection: Any = None) -> Waiting:
    url = f"{origin.scheme.decode()}://{origin.host.decode()}/"
    return Waiting(httpcore.Request("GET", url), connection)


def pool(max_connections: int = 10, keepalive: int = 10) -> transport._Pool:
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=keepalive
    )
    return transport._Pool(SSL, limits)


def look(
    subject: transport._Pool, connections: list[Any], requests: list[Waiting]
) -> list[Any]:
    subject._connections = connections
    subject._requests = requests
    return subject._assign_requests_to_connections()


def test_free_connections_go_one_to_each_waiting_request() -> None:
    first, second = Conn(ORIGINS[0], "idle"), Conn(ORIGINS[0], "idle")
    requests = [waiting(ORIGINS[0]) for _ in range(3)]

    closing = look(pool(), [first, second], requests)

    assert closing == []
    assert requests[0].connection is first
    assert requests[1].connection is second
    new = requests[2].connection
    assert isinstance(new, httpcore.AsyncHTTPConnection)
    assert new.can_handle_request(ORIGINS[0])


def test_a_connection_handed_to_a_request_not_yet_started_is_not_free() -> None:
    held = Conn(ORIGINS[0], "idle")
    holder, queued = waiting(ORIGINS[0], held), waiting(ORIGINS[0])

    look(pool(), [held], [holder, queued])

    assert holder.connection is held
    assert queued.connection is not held


def test_a_full_pool_closes_an_idle_connection_no_request_holds() -> None:
    held, other = Conn(ORIGINS[1], "idle"), Conn(ORIGINS[1], "idle")
    holder, queued = waiting(ORIGINS[1], held), waiting(ORIGINS[0])
    subject = pool(max_connections=2)

    closing = look(subject, [held, other], [holder, queued])

    assert closing == [other]
    assert held in subject._connections
    assert queued.connection.can_handle_request(ORIGINS[0])


def test_a_full_pool_of_held_connections_leaves_the_request_waiting() -> None:
    held = [Conn(ORIGINS[1], "active"), Conn(ORIGINS[1], "idle")]
    requests = [waiting(ORIGINS[1], c) for c in held]
    queued = waiting(ORIGINS[0])

    closing = look(pool(max_connections=2), list(held), [*requests, queued])

    assert closing == []
    assert queued.is_queued()


# -- the same decisions as httpcore's look -------------------------------------------

specs = st.lists(
    st.tuples(st.sampled_from(range(len(ORIGINS))), st.sampled_from(STATES)),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    connections=specs,
    queued=st.lists(st.sampled_from(range(len(ORIGINS))), max_size=2, unique=True),
    max_connections=st.integers(1, 7),
    keepalive=st.integers(0, 7),
)
def test_the_look_decides_as_httpcores_own(
    connections: list[tuple[int, str]],
    queued: list[int],
    max_connections: int,
    keepalive: int,
) -> None:
    """Where httpcore's look hands no connection to two requests, nor closes one it
    handed out, ours makes the very same decisions.

    Busy connections are held by their requests; at most one request per origin
    waits (two would both be handed the same free connection by httpcore's).
    """

    def decide(ours: bool) -> tuple[list[object], list[object], list[object]]:
        conns = [Conn(ORIGINS[o], state) for o, state in connections]
        busy = [waiting(c.origin, c) for c in conns if c.state in ("new", "active")]
        requests = busy + [waiting(ORIGINS[o]) for o in queued]
        subject = pool(max_connections, keepalive)
        subject._connections = list(conns)
        subject._requests = requests
        if ours:
            closing = subject._assign_requests_to_connections()
        else:
            base = httpcore.AsyncConnectionPool._assign_requests_to_connections
            closing = base(subject)

        new: dict[int, object] = {}

        def name(c: Any) -> object:
            """A stand-in by its place; a new connection by its origin and turn."""
            if isinstance(c, Conn):
                return conns.index(c)
            origin = next(i for i, o in enumerate(ORIGINS) if c.can_handle_request(o))
            return new.setdefault(id(c), ("new", origin, len(new)))

        return (
            [name(c) for c in subject._connections],
            [name(c) for c in closing],
            [None if r.is_queued() else name(r.connection) for r in requests],
        )

    theirs = decide(ours=False)
    given_out = [c for c in theirs[2] if c is not None]
    if len(given_out) != len(set(given_out)) or set(given_out) & set(theirs[1]):
        event("httpcore's look gave a connection twice, or closed one it gave")
        return  # ours differs on purpose
    assert decide(ours=True) == theirs


# -- one poll for every kept socket ---------------------------------------------------


class Inner:
    """A stand-in for anyio's stream: only its socket is asked for."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, info: str) -> object:
        return self.sock if info == "socket" else None


@pytest.fixture
def pairs() -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    made = [socket.socketpair() for _ in range(3)]
    yield made
    for ours, theirs in made:
        ours.close()
        theirs.close()


def test_during_a_look_one_poll_answers_for_every_socket(
    pairs: list[tuple[socket.socket, socket.socket]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sockets = transport._Sockets()
    streams = [transport._Stream(Inner(ours), sockets) for ours, _ in pairs]
    pairs[1][1].close()  # the server of the second hangs up
    deadline = time.monotonic() + 2
    while not transport.readable(pairs[1][0]) and time.monotonic() < deadline:
        time.sleep(0.01)
    polls: list[list[int]] = []

    def counting(fds: Any) -> set[int]:
        polls.append(list(fds))
        return real(polls[-1])

    real = transport.readable_fds
    monkeypatch.setattr(transport, "readable_fds", counting)

    sockets.start_look()
    answers = [s.get_extra_info("is_readable") for s in streams]
    sockets.end_look()

    assert answers == [False, True, False]
    assert len(polls) == 1
    assert sorted(polls[0]) == sorted(ours.fileno() for ours, _ in pairs)

    assert streams[0].get_extra_info("is_readable") is False  # outside a look
    assert polls[1:] == [[pairs[0][0].fileno()]]


def test_a_closed_socket_counts_as_readable_without_a_poll(
    pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    sockets = transport._Sockets()
    stream = transport._Stream(Inner(pairs[0][0]), sockets)
    pairs[0][0].close()

    sockets.start_look()
    assert stream.get_extra_info("is_readable") is True
    sockets.end_look()
    assert stream.get_extra_info("is_readable") is True


def test_the_fetcher_uses_this_pool() -> None:
    made = transport.transport(SSL)
    assert isinstance(made._pool, transport._Pool)


def test_without_what_it_takes_over_httpcores_own_look_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should httpcore rename what `_Pool` takes over, its own pool (still asking
    each socket cheaply) serves instead, and fetches still work."""
    monkeypatch.setattr(transport._Pool, "fits", staticmethod(lambda pool: False))
    made = transport.transport(SSL)
    assert type(made._pool) is httpcore.AsyncConnectionPool

    with running() as server:
        server.script("/a", Reply(200, b"x", {"Content-Type": "text/plain"}))

        async def main() -> list[httpx.Response]:
            async with httpx.AsyncClient(transport=made) as client:
                return [await client.get(server.url("/a")) for _ in range(3)]

        answers = asyncio.run(main())

    assert [a.status_code for a in answers] == [200] * 3
    assert len({seen.port for seen in server.requests}) == 1
