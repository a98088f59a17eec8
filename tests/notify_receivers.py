"""Real notification receivers on 127.0.0.1: a webhook (HTTP) and a mail server (SMTP).

Both record what arrived, can refuse (503 / 451) and can *hold* a message: take
it in full, then keep the sender waiting for its answer until released, which is
where a worker can be killed between sending and recording.
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

WAIT = 20.0  # seconds; only ever reached when a test is about to fail


@dataclass(slots=True)
class Gate:
    """Holds the next ``count`` messages until released."""

    count: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def pass_through(self) -> None:
        """Called with a message in hand: wait here if this one is held."""
        if self.count <= 0:
            return
        self.count -= 1
        self.holding.set()
        self.released.wait(WAIT)


@dataclass(slots=True)
class Posted:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]

    @property
    def key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


class Webhook:
    """Collects what Apprise's ``json://`` target posts."""

    def __init__(self) -> None:
        self.received: list[Posted] = []
        self.fail_next = 0
        self.gate = Gate()
        self._cond = threading.Condition()
        self.port = 0

    def url(self, path: str = "hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    def keys(self) -> list[str | None]:
        with self._cond:
            return [p.key for p in self.received]

    def wait_for(self, count: int) -> list[Posted]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= count, WAIT)
            return list(self.received)

    def _take(self, posted: Posted) -> int:
        with self._cond:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            self.received.append(posted)
            self._cond.notify_all()
        self.gate.pass_through()
        return 200

    @contextmanager
    def running(self) -> Iterator[Webhook]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = hook._take(
                    Posted(self.path, dict(self.headers), json.loads(body or b"{}"))
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed while we held its message)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.gate.released.set()
            server.shutdown()
            server.server_close()
            thread.join(5)


@dataclass(slots=True)
class Mail:
    sender: str
    recipients: list[str]
    message: Message

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode(part.get_content_charset() or "utf-8")
        raise AssertionError(f"no {content_type} part")


class Mailbox:
    """An SMTP server (aiosmtpd) that wants one login and keeps what it gets."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.received: list[Mail] = []
        self.logins: list[tuple[str, str]] = []
        self.fail_next = 0
        self.gate = Gate()
        self._cond = threading.Condition()
        self.port = 0

    def wait_for(self, count: int) -> list[Mail]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= count, WAIT)
            return list(self.received)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            if self.fail_next > 0:
                self.fail_next -= 1
                return "451 Try again later"
            self.received.append(
                Mail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    email.message_from_bytes(envelope.content),
                )
            )
            self._cond.notify_all()
        self.gate.pass_through()
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        login = data.login.decode()
        password = data.password.decode()
        self.logins.append((login, password))
        ok = (login, password) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)

    @contextmanager
    def running(self) -> Iterator[Mailbox]:
        self.port = _free_port()
        controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
        )
        controller.start()
        try:
            yield self
        finally:
            self.gate.released.set()
            controller.stop()


def _free_port() -> int:
    # aiosmtpd needs a port number up front (it probes the port once started).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
