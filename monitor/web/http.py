"""HTTP details shared by pages, feeds and the API: validators, 304s, headers,
query parameters.

Every response carries an ETag (a hash of its body) and, when the history has any
check, a Last-Modified (the end of the newest check that could have changed it).
A client that sends either back gets 304 Not Modified while nothing changed, so
polling a feed or the API every minute costs a few hundred bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parsers.data import utc_time

T = TypeVar("T")

# No script runs on any page; styles come only from our own stylesheet. Should an
# escaping mistake ever let page content through as markup, it still cannot run.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class BadParameter(ValueError):
    """A query parameter a client got wrong; the message names it and the value."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"query parameter {name}={value!r}: expected {expected}")
        self.name = name


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response, errors and static files too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def not_modified_since(
    request: Request, last_modified: datetime | None, now: datetime | None = None
) -> bool:
    """Is If-Modified-Since enough to answer 304, before building the body?

    Only without If-None-Match, which takes precedence (RFC 9110, 13.2.2), and
    only for a time we would have sent ourselves.
    """
    if "if-none-match" in request.headers:
        return False
    if _last_modified_header(last_modified, now or datetime.now(UTC)) is None:
        return False
    since = _http_date(request.headers.get("if-modified-since"))
    assert last_modified is not None
    return since is not None and _whole_second(last_modified) <= since


def respond(
    request: Request,
    body: bytes,
    media_type: str,
    last_modified: datetime | None,
    *,
    now: datetime | None = None,
    extra: Mapping[str, str] | None = None,
) -> Response:
    """The body as a response, or 304 when the client's validators still match."""
    headers = {
        "etag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        "cache-control": "no-cache",
        **(extra or {}),
    }
    stamp = _last_modified_header(last_modified, now or datetime.now(UTC))
    if stamp is not None:
        headers["last-modified"] = stamp
    if _etag_matches(request.headers.get("if-none-match"), headers["etag"]):
        return Response(status_code=304, headers=headers)
    if not_modified_since(request, last_modified, now):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def not_modified(last_modified: datetime, now: datetime | None = None) -> Response:
    headers = {"cache-control": "no-cache"}
    stamp = _last_modified_header(last_modified, now or datetime.now(UTC))
    if stamp is not None:
        headers["last-modified"] = stamp
    return Response(status_code=304, headers=headers)


def _last_modified_header(moment: datetime | None, now: datetime) -> str | None:
    # HTTP dates have whole seconds. A time within the current second could be
    # followed by another change in the same second, which the client could not
    # tell apart, so it is not sent (RFC 9110, 8.8.2.2); the ETag still is.
    if moment is None or now - _whole_second(moment) < timedelta(seconds=1):
        return None
    return format_datetime(_whole_second(moment).astimezone(UTC), usegmt=True)


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _etag_matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    if header.strip() == "*":
        return True
    # If-None-Match compares weakly: W/"x" matches "x".
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def found(value: T | None, message: str) -> T:
    """``value``, or a 404 saying what was not found."""
    if value is None:
        raise HTTPException(404, message)
    return value


# -- query parameters ----------------------------------------------------------------


def int_param(
    request: Request, name: str, default: int, lowest: int, highest: int
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, raw, "a whole number") from None
    if not lowest <= value <= highest:
        raise BadParameter(name, raw, f"a number from {lowest} to {highest}")
    return value


def bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadParameter(name, raw, "true or false")


def time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return utc_time(raw)
    except ValueError:
        raise BadParameter(name, raw, "an ISO-8601 time or date") from None
    except OverflowError:
        raise BadParameter(
            name, raw, "a time within the years 1 to 9999 in UTC"
        ) from None


def list_param(request: Request, name: str) -> tuple[str, ...]:
    """Repeated (``?kind=a&kind=b``) or comma-separated (``?kind=a,b``) values."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v.strip() for v in _no_nul(name, raw).split(",") if v.strip())
    return tuple(values)


def text_param(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    return _no_nul(name, raw) if raw else None


def _no_nul(name: str, raw: str) -> str:
    # No stored name holds one, and PostgreSQL refuses it in a query (a 500).
    if "\x00" in raw:
        raise BadParameter(name, raw, "text without NUL characters")
    return raw
