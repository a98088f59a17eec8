"""Small HTTP servers on 127.0.0.1: a site serving saved pages, and a receiver.

The demo and the end-to-end tests use them: the site plays a Kausal Watch server
from fixture files, the receiver is a real notification target (Apprise's ``json://``
posts each message to it).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class SavedPage:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


@dataclass(slots=True)
class SiteState:
    pages: dict[str, SavedPage] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(self, pages: Mapping[str, SavedPage]) -> None:
        with self.lock:
            self.pages = dict(pages)


class _SiteHandler(BaseHTTPRequestHandler):
    server: _SiteServer

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
            page = state.pages.get(self.path)
        if page is None:
            self._answer(404, b"not found", "text/plain")
            return
        self._answer(page.status, page.body, page.content_type)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo's output is the report, not an access log


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: SiteState) -> None:
        super().__init__(("127.0.0.1", 0), _SiteHandler)
        self.state = state


@dataclass(slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class ReceiverState:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)
    fail_next: int = 0

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        state = self.server.state
        with state.arrived:
            if state.fail_next > 0:
                state.fail_next -= 1
                status = 503
            else:
                state.messages.append(Received(self.path, dict(self.headers), body))
                state.arrived.notify_all()
                status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ReceiverState) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.state = state


@contextmanager
def serve_site(state: SiteState) -> Iterator[str]:
    """Serve ``state.pages`` by path; yields the base URL (http://127.0.0.1:PORT)."""
    server = _SiteServer(state)
    yield from _running(server)


@contextmanager
def receiver(state: ReceiverState) -> Iterator[str]:
    """Collect POSTed messages; yields the base URL."""
    server = _ReceiverServer(state)
    yield from _running(server)


def _running(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def read_fixture(path: Path) -> bytes:
    """A fixture page: ``name.html`` or its gzipped copy ``name.html.gz``."""
    if path.exists():
        return path.read_bytes()
    return gzip.decompress(path.with_name(path.name + ".gz").read_bytes())
