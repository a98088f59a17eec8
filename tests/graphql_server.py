"""A GraphQL endpoint on 127.0.0.1 that answers from the fixtures' real API answers.

``truth/plan-actions.<lang>.json`` are the platform's own answers to the fixtures'
truth query (``data.plan.actions``, ``data.planOrganizations``). This server hands
the same data back in the shape planwatch's queries ask for (``planActions`` at the
top), in the language the query's ``@locale`` directive names, and answers
``plansForHostname`` from the plan those answers describe.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_LOCALE = re.compile(r'@locale\(lang:\s*"([^"]+)"\)')


@dataclass
class GraphQLState:
    truth: Path  # the folder holding plan-actions.<lang>.json
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this HTTP status
    errors: list[str] = field(default_factory=list)  # GraphQL errors to answer with
    hostname: str | None = None  # the only hostname with a plan (None: any)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.errors:
            return {"errors": [{"message": m} for m in self.errors], "data": None}
        query = str(request.get("query", ""))
        if "plansForHostname" in query:
            return self._plans(request.get("variables") or {})
        found = _LOCALE.search(query)
        lang = found.group(1) if found else "en"
        if not (self.truth / f"plan-actions.{lang}.json").exists():
            return {"errors": [{"message": f"no answer captured in {lang}"}]}
        truth = self._truth(lang)
        plan = {k: v for k, v in truth["data"]["plan"].items() if k != "actions"}
        return {
            "data": {
                "plan": plan,
                "planActions": truth["data"]["plan"]["actions"],
                "planOrganizations": truth["data"]["planOrganizations"],
            }
        }

    def _plans(self, variables: dict[str, Any]) -> dict[str, Any]:
        hostname = variables.get("hostname")
        if self.hostname is not None and hostname != self.hostname:
            return {"data": {"plansForHostname": []}}
        languages = sorted(p.name.split(".")[1] for p in self.truth.glob("*.json"))
        plan = self._truth("fi" if "fi" in languages else languages[0])["data"]["plan"]
        return {
            "data": {
                "plansForHostname": [
                    {
                        "domain": {"hostname": hostname, "basePath": None},
                        "primaryLanguage": plan.get("primaryLanguage", "fi"),
                        "id": plan["id"],
                        "identifier": plan["identifier"],
                        "name": plan["name"],
                        "otherLanguages": plan.get(
                            "otherLanguages", [x for x in languages if x != "fi"]
                        ),
                    }
                ]
            }
        }

    def _truth(self, lang: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.truth / f"plan-actions.{lang}.json").read_text(encoding="utf-8")
        )
        return data


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        with state.lock:
            state.requests.append(request)
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
        if state.fail_with is not None:
            self._send(state.fail_with, b'{"error": "failing on purpose"}')
            return
        self._send(200, json.dumps(state.answer(request)).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GraphQLState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def graphql_server(state: GraphQLState) -> Iterator[str]:
    """Serve ``state`` on 127.0.0.1; yields the site's origin (http://127.0.0.1:N)."""
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
