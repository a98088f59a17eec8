"""A fault-injecting HTTP server on 127.0.0.1 for fetcher tests.

Tests script each path with one or more `Reply` values; the server plays them in
order and repeats the last. It records every request and the highest number of
requests it was handling at once, which is how the per-host limit is checked from
the outside.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

Mode = Literal["normal", "truncate", "endless", "trickle"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    ``truncate`` promises ``Content-Length`` for twice the body and closes early;
    ``endless`` streams zeros as fast as it can; ``trickle`` sends one byte every
    ``delay`` seconds, forever. ``hang_up`` closes the connection after a normal
    answer without saying so first (no ``Connection: close``), as a server does
    when a kept connection idles out.
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    mode: Mode = "normal"
    gzip: bool = False
    hang_up: bool = False


@dataclass(frozen=True)
class Seen:
    """One request as the server received it, and the client port it came from
    (one port per connection)."""

    path: str
    headers: Mapping[str, str]
    port: int = 0


Responder = Callable[[Seen], Reply]


class FaultServer:
    """Scripted server; use `running()` to get one for the length of a test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        self._responders: dict[str, Responder] = {}
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path] = list(replies)

    def respond(self, path: str, responder: Responder) -> None:
        with self._lock:
            self._responders[path] = responder

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for seen in self.requests if seen.path == path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next_reply(self, seen: Seen) -> Reply:
        key = urlsplit(seen.path).path
        with self._lock:
            self.requests.append(seen)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            responder = self._responders.get(key)
            script = self._scripts.get(key)
            if responder is None and script:
                reply = script.pop(0) if len(script) > 1 else script[0]
        if responder is not None:
            return responder(seen)
        if not script:
            return Reply(404, b"not here")
        return reply

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1


@contextmanager
def running() -> Iterator[FaultServer]:
    server = FaultServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def http_date(when: float) -> str:
    return formatdate(when, usegmt=True)


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, each answer
        # waits for a delayed ACK (~40 ms).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.path, headers, self.client_address[1])
            try:
                self._play(server._next_reply(seen))
            except (BrokenPipeError, ConnectionResetError):
                # The client hung up, which is what endless bodies are for.
                self.close_connection = True
            finally:
                server._done()

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def _play(self, reply: Reply) -> None:
            if reply.mode == "normal" and reply.delay:
                time.sleep(reply.delay)

            body = reply.body
            if reply.gzip and "gzip" in self.headers.get("accept-encoding", ""):
                body = gzip.compress(body)
                self._start(reply, {"Content-Encoding": "gzip"})
            else:
                self._start(reply, {})

            if reply.mode == "normal":
                self._finish_headers(len(body))
                self.wfile.write(body)
                if reply.hang_up:
                    self.close_connection = True
            elif reply.mode == "truncate":
                self._finish_headers(2 * len(body) + 1)
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True
            else:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                self._stream_forever(reply)

        def _start(self, reply: Reply, extra: Mapping[str, str]) -> None:
            # send_response would add its own Date; scripted replies may set one.
            self.send_response_only(reply.status)
            headers = {"Date": http_date(time.time()), **reply.headers, **extra}
            for name, value in headers.items():
                self.send_header(name, value)

        def _finish_headers(self, length: int) -> None:
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _stream_forever(self, reply: Reply) -> None:
            chunk = b"." if reply.mode == "trickle" else b"\0" * 65536
            deadline = time.monotonic() + 30  # a safety net, far beyond any test
            while time.monotonic() < deadline:
                self.wfile.write(chunk)
                self.wfile.flush()
                if reply.mode == "trickle":
                    time.sleep(reply.delay)

    return Handler
