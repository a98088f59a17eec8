"""A site on 127.0.0.1 serving real Kausal Watch pages, for scheduling tests.

It answers the way a test asks:

- ``etag``: an ETag per page and 304 Not Modified to a matching If-None-Match;
- ``kausal``: as Kausal Watch does: no validators, ``cache-control: no-store``, and a
  fresh render time inside every answer;
- ``wrong304``: 304 to any conditional request, even after the page changed;
- ``plain``: the same bytes every time, without validators.

Every request is logged with the time, the path, the User-Agent and the status, so
tests can count who fetched what, when.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Mode = Literal["etag", "kausal", "wrong304", "plain"]
_RENDER_TIME = re.compile(rb'(now\\":\\"\$D)[0-9T:.Z+-]{10,40}')


@dataclass(frozen=True, slots=True)
class Hit:
    at: float  # time.monotonic()
    path: str
    agent: str
    status: int
    conditional: bool


@dataclass
class LabSite:
    pages: dict[str, bytes]
    mode: Mode = "etag"
    delay: float = 0.0  # seconds before each answer
    hits: list[Hit] = field(default_factory=list)
    arrivals: list[str] = field(default_factory=list)  # paths, as requests come in
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def replace(self, pages: Mapping[str, bytes]) -> None:
        with self.lock:
            self.pages.update(pages)

    def paths_hit(self, path: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == path]

    def answer(
        self, path: str, agent: str, if_none_match: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            body = self.pages.get(path)
        if body is None:
            status, headers, payload = 404, {"Content-Type": "text/plain"}, b"no"
        else:
            status, headers, payload = self._page(body, if_none_match)
        with self.lock:
            self.hits.append(
                Hit(time.monotonic(), path, agent, status, if_none_match is not None)
            )
        return status, headers, payload

    def _page(
        self, body: bytes, if_none_match: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if self.mode == "kausal":
            headers["Cache-Control"] = "private, no-cache, no-store, max-age=0"
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            stamp = now.replace("+00:00", "Z").encode()
            return 200, headers, _RENDER_TIME.sub(rb"\g<1>" + stamp, body)
        if self.mode == "plain":
            return 200, headers, body
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers["ETag"] = etag
        if if_none_match is not None and (
            self.mode == "wrong304" or if_none_match == etag
        ):
            return 304, {"ETag": etag}, b""
        return 200, headers, body


def _handler(site: LabSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            with site.lock:
                site.arrivals.append(self.path)
            if site.delay:
                time.sleep(site.delay)
            status, headers, body = site.answer(
                self.path,
                self.headers.get("User-Agent", ""),
                self.headers.get("If-None-Match"),
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the hits list is the log."""

    return Handler


@contextmanager
def serving(site: LabSite) -> Iterator[LabSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    site.base = f"http://{host!s}:{port}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
