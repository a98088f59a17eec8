"""httpx's transport, with a connection pool that looks over its connections cheaply.

Before each request and after each response, httpcore's pool looks over every kept
connection: it drops closed ones, closes expired ones, and hands queued requests a
free connection. That look costs more the more connections are kept, in three ways
(encode/httpx#3215, encode/httpcore#822, #928 and #1035; none fixed in a release):

- for each idle connection it asks the socket whether the server closed it, through
  anyio's table of socket attributes (built anew for each question, two system
  calls among them), then with a poll of its own;
- each idle connection counts the whole pool again, for the keep-alive limit;
- a free HTTP/1.1 connection is handed to every request queued meanwhile, not to
  the first only: the others find it busy when they start, and go round again, with
  another look. Ten 304 checks at once to one host went round 1.8 times a page.

Here each stream keeps its socket from the first question, and during a look the
first question polls every kept socket at once (the very check httpcore makes: a
zero-timeout poll); the pool counts itself once; and a connection handed to a
request is not free for the next. The rules are httpcore's (a test compares the two
looks): only a request that httpcore's look would hand a connection already given
away gets at once what its second try would get, the next free connection or a new
one. Everything else is passed through unchanged.
"""

from __future__ import annotations

import select
import ssl
import typing
import weakref
from collections.abc import Iterable

import httpcore
import httpx

# Shortcoming: the pool is swapped in through httpx's private ``_pool`` attribute
# (httpx offers no way to choose httpcore's network backend), and `_Pool` takes over
# a private method of httpcore's pool. `transport()` keeps httpcore's own look over
# the pool, or httpx's own pool, when those are gone; a test notices either.
_UNSET = object()
# httpcore's own alias (SOCKET_OPTION) lives in a private module.
SocketOption = (
    tuple[int, int, int]
    | tuple[int, int, bytes | bytearray]
    | tuple[int, int, None, int]
)
# What `_Pool` reads of httpcore's pool besides its public methods.
_POOL_INTERNALS = (
    "_connections",
    "_requests",
    "_max_connections",
    "_max_keepalive_connections",
)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, sockets: _Sockets) -> None:
        self._inner = inner
        self._sockets = sockets
        self._socket: object = _UNSET
        sockets.add(self)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(inner, self._sockets)

    def get_extra_info(self, info: str) -> typing.Any:
        if info != "is_readable":
            return self._inner.get_extra_info(info)
        return self._sockets.readable(self)

    def socket(self) -> object:
        """The stream's socket, asked of the stream once."""
        if self._socket is _UNSET:
            self._socket = self._inner.get_extra_info("socket")
        return self._socket


class _Sockets:
    """The streams one backend opened; during a look over the pool, which can be read.

    Outside such a look each question polls its own socket. During one, the first
    question polls every open socket at once, and the others read its answer: no
    socket is opened or closed while the pool looks (it awaits nothing).
    """

    def __init__(self) -> None:
        # Weak: a stream the pool let go of (a failed TLS handshake, say) goes.
        self._streams: weakref.WeakSet[_Stream] = weakref.WeakSet()
        self._looking = False
        self._answers: dict[_Stream, bool] | None = None

    def add(self, stream: _Stream) -> None:
        self._streams.add(stream)

    def start_look(self) -> None:
        self._looking = True

    def end_look(self) -> None:
        self._looking = False
        self._answers = None

    def readable(self, stream: _Stream) -> bool:
        """Whether ``stream``'s socket has something to read (or has closed)."""
        if self._looking:
            if self._answers is None:
                self._answers = self._poll_all()
            answer = self._answers.get(stream)
            if answer is not None:
                return answer
        return readable(stream.socket())

    def _poll_all(self) -> dict[_Stream, bool]:
        fds = {stream: _fileno(stream.socket()) for stream in self._streams}
        ready = readable_fds(fd for fd in fds.values() if fd >= 0)
        return {stream: fd < 0 or fd in ready for stream, fd in fds.items()}


def readable(sock: object) -> bool:
    """Whether ``sock`` has something to read now (a closed one counts as yes).

    ``sock`` is what the stream calls its socket: under asyncio, a
    ``TransportSocket`` standing for one.
    """
    fd = _fileno(sock)
    return fd < 0 or bool(readable_fds([fd]))


def readable_fds(fds: Iterable[int]) -> set[int]:
    """Which of the file descriptors ``fds`` have something to read now, or an error
    or hang-up to report: one zero-timeout poll for them all."""
    poll = select.poll()
    for fd in fds:
        poll.register(fd, select.POLLIN)
    return {fd for fd, _ in poll.poll(0)}


def _fileno(sock: object) -> int:
    """``sock``'s file descriptor; -1 when it has none (closed, or no socket)."""
    fileno = getattr(sock, "fileno", None)
    if fileno is None:
        return -1
    fd: int = fileno()
    return fd


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, sockets: _Sockets) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._sockets = sockets

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )
        return _Stream(stream, self._sockets)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(
            path,
            timeout=timeout,
            socket_options=socket_options,
        )
        return _Stream(stream, self._sockets)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool (HTTP/1.1 only), with a cheaper look over its connections.

    ``_assign_requests_to_connections`` is httpcore's name for that look; it runs
    before every request and after every response, and awaits nothing.
    """

    def __init__(self, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._sockets = _Sockets()
        super().__init__(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(self._sockets),
        )

    @staticmethod
    def fits(pool: httpcore.AsyncConnectionPool) -> bool:
        """Does this httpcore's pool still have what `_Pool` takes over and reads?"""
        method = "_assign_requests_to_connections"
        return hasattr(httpcore.AsyncConnectionPool, method) and all(
            hasattr(pool, name) for name in _POOL_INTERNALS
        )

    def _assign_requests_to_connections(
        self,
    ) -> list[httpcore.AsyncConnectionInterface]:
        self._sockets.start_look()
        try:
            closing = self._let_go()
            closing += self._hand_out()
        finally:
            self._sockets.end_look()
        return closing

    def _let_go(self) -> list[httpcore.AsyncConnectionInterface]:
        """Drop closed connections; take out expired ones and idle ones over the
        keep-alive limit, to be closed."""
        closing = []
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired() or (
                connection.is_idle()
                and len(self._connections) > self._max_keepalive_connections
            ):
                self._connections.remove(connection)
                closing.append(connection)
        return closing

    def _hand_out(self) -> list[httpcore.AsyncConnectionInterface]:
        """Give each queued request a free connection to its origin, else a new one
        (closing an idle one when the pool is full), else leave it queued.

        A connection handed to a request that has not started on it yet is not
        free: an HTTP/1.1 connection serves one request at a time.
        """
        closing: list[httpcore.AsyncConnectionInterface] = []
        taken = {id(r.connection) for r in self._requests if not r.is_queued()}
        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            connection = self._free(taken, origin)
            if connection is None:
                if len(self._connections) >= self._max_connections:
                    idle = self._free(taken)
                    if idle is None:
                        continue
                    self._connections.remove(idle)
                    closing.append(idle)
                connection = self.create_connection(origin)
                self._connections.append(connection)
            request.assign_to_connection(connection)
            taken.add(id(connection))
        return closing

    def _free(
        self, taken: set[int], origin: httpcore.Origin | None = None
    ) -> httpcore.AsyncConnectionInterface | None:
        """The first connection no request holds: available for ``origin``, or
        without an origin, idle."""
        for connection in self._connections:
            if id(connection) in taken:
                continue
            if origin is None:
                if connection.is_idle():
                    return connection
            elif connection.can_handle_request(origin) and connection.is_available():
                return connection
        return None


def transport(ssl_context: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """An ``httpx.AsyncHTTPTransport`` (no proxy, httpx's default limits) whose pool
    looks over its connections cheaply."""
    made = httpx.AsyncHTTPTransport(verify=ssl_context)
    if not isinstance(getattr(made, "_pool", None), httpcore.AsyncConnectionPool):
        return made
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    pool: httpcore.AsyncConnectionPool = _Pool(ssl_context, limits)
    if not _Pool.fits(pool):
        pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(_Sockets()),
        )
    made._pool = pool
    return made
