"""httpx's transport, with a cheaper check of whether a kept connection still lives.

Before each request and after each response, httpcore's pool asks every kept
connection whether it has expired, and for an idle one that means asking the
socket whether the server closed it. Through anyio, each such question first
builds a dict of every socket attribute (two system calls among them) to read one
entry. With ten connections to a host that was a third of the event loop's CPU
in a cycle of 304 checks (encode/httpx#3215, encode/httpcore#928; neither fixed in a
release).

Here the streams keep their socket from the first question and ask only it,
which is the very check httpcore makes (a zero-timeout poll of the socket).
Everything else is passed through unchanged.
"""

from __future__ import annotations

import select
import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx

# Shortcoming: the pool is swapped in through httpx's private ``_pool`` attribute
# (httpx offers no way to choose httpcore's network backend); `transport()` keeps
# httpx's own pool when that attribute is gone, and a test notices.
_UNSET = object()
# httpcore's own alias (SOCKET_OPTION) lives in a private module.
SocketOption = (
    tuple[int, int, int]
    | tuple[int, int, bytes | bytearray]
    | tuple[int, int, None, int]
)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: object = _UNSET

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
        return _Stream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        if info != "is_readable":
            return self._inner.get_extra_info(info)
        if self._socket is _UNSET:
            self._socket = self._inner.get_extra_info("socket")
        return readable(self._socket)


def readable(sock: object) -> bool:
    """Whether ``sock`` has something to read now (a closed one counts as yes).

    ``sock`` is what the stream calls its socket: under asyncio, a
    ``TransportSocket`` standing for one.
    """
    fileno = getattr(sock, "fileno", None)
    if fileno is None:
        return True
    fd = fileno()
    if fd < 0:
        return True
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

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
        return _Stream(stream)

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
        return _Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def transport(ssl_context: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """An ``httpx.AsyncHTTPTransport`` (no proxy, httpx's default limits) whose
    connections answer "is it still open?" cheaply."""
    made = httpx.AsyncHTTPTransport(verify=ssl_context)
    if not isinstance(getattr(made, "_pool", None), httpcore.AsyncConnectionPool):
        return made
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    made._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return made
