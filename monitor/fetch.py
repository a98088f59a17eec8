"""Polite, resilient fetching of public pages.

One `Fetcher` serves a whole run. Every problem a site can cause (refused
connections, timeouts, error statuses, endless bodies, odd redirects, robots.txt) ends
as a `FetchOutcome` on the returned `FetchResult`; `Fetcher.fetch` raises only for
programming errors such as a URL that is not http(s).

Politeness, per host name:

- at most ``per_host_concurrency`` requests in flight (default one: Kausal Watch
  renders relative times in the wrong language under concurrent requests);
- ``min_delay_per_host`` plus random ``jitter`` between the end of one request and the
  start of the next, raised to robots.txt's Crawl-delay when that is longer;
- a Retry-After on 429 or 503 holds back every request to that host, not only the
  retried one.

Retries (stamina, exponential backoff) cover connection problems, timeouts and the
statuses in `RETRY_STATUSES`. Redirects are followed by hand so that each hop passes
through the same politeness, robots.txt and anomaly checks. Each request stands
alone: no cookies are kept between requests.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import re
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from http import HTTPStatus
from types import MappingProxyType, TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlencode

import httpx
import stamina

from monitor.charset import decode_body
from monitor.robots import (
    MAX_ROBOTS_BYTES,
    RobotsRules,
    RobotsSource,
    agent_token,
    origin_of,
    robots_url,
)
from monitor.transport import transport as pooled_transport

logger = logging.getLogger(__name__)
# Retries have a logger of their own: a one-shot `planwatch check` keeps them quiet
# (its outcome line says what failed in the end), `planwatch run` logs them.
retry_logger = logging.getLogger(f"{__name__}.retries")

KEPT_HEADERS = (
    "content-type",
    "date",
    "etag",
    "last-modified",
    "cache-control",
    "retry-after",
    "location",
    "content-encoding",
)
_KEPT = frozenset(KEPT_HEADERS)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})

# Path segments that mean "you are not seeing the public page": sign-in walls and
# Kausal Watch's rewrite target for unpublished plans.
_ANOMALOUS_SEGMENT = re.compile(
    r"^(log-?in|log-?on|sign-?in|auth|oauth2?|sso|saml|cas|unpublished)([._-].*)?$",
    re.IGNORECASE,
)
_SECRET_QUERY_KEY = re.compile(
    r"token|key|secret|pass|auth|sig|session|code|credential", re.IGNORECASE
)
_TEXTUAL_TYPE = re.compile(r"^(text/|[^;]*[+/](xml|json|javascript)\b)", re.IGNORECASE)

_ROBOTS_RECHECK_AFTER_FAILURE = 600.0
_ROBOTS_MAX_REDIRECTS = 5


class FetchOutcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    TIMEOUT = "timeout"
    REDIRECT_ANOMALY = "redirect_anomaly"
    ROBOTS_DISALLOWED = "robots_disallowed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said to identify a representation, sent back to ask "changed?"."""

    etag: str | None = None
    last_modified: str | None = None

    @property
    def empty(self) -> bool:
        return self.etag is None and self.last_modified is None

    def request_headers(self) -> dict[str, str]:
        # A header goes out as ASCII: one with other bytes (an ETag "café" from a
        # hand-rolled cache) ended every later fetch, and the check, in a
        # UnicodeEncodeError; unsent, the page is fetched in full.
        headers = {}
        if self.etag is not None and _sendable(self.etag):
            headers["If-None-Match"] = self.etag
        if self.last_modified is not None and _sendable(self.last_modified):
            headers["If-Modified-Since"] = self.last_modified
        return headers


def _sendable(value: str) -> bool:
    return value.isascii() and value.isprintable()


@dataclass(frozen=True, slots=True, repr=False)
class FetchResult:
    """Everything one fetch saw. ``attempts`` counts tries of the last URL fetched."""

    url: str
    final_url: str
    outcome: FetchOutcome
    status_code: int | None
    headers: Mapping[str, str]
    body: bytes
    text: str | None
    encoding: str | None
    started_at: datetime
    duration: float
    attempts: int
    error: str | None
    validators: Validators

    @property
    def ok(self) -> bool:
        return self.outcome is FetchOutcome.OK

    def __repr__(self) -> str:
        # Bodies can be megabytes and URLs can carry credentials: show neither.
        return (
            f"FetchResult({redact_url(self.final_url)!r}, {self.outcome.value}, "
            f"status={self.status_code}, {len(self.body)} bytes, "
            f"attempts={self.attempts})"
        )


@dataclass(frozen=True)
class FetchPolicy:
    """How to fetch: identity, limits and politeness. Times are in seconds."""

    user_agent: str = "planwatch/0.1"
    contact: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_body_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    allowed_hosts: frozenset[str] = frozenset()
    follow_offsite: bool = False
    min_delay_per_host: float = 1.0
    jitter: float = 0.5
    per_host_concurrency: int = 1
    retries: int = 3
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 600.0
    respect_robots: bool = True
    robots_ttl: float = 24 * 3600.0

    def __post_init__(self) -> None:
        positive = (
            "connect_timeout",
            "read_timeout",
            "total_timeout",
            "max_body_bytes",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"FetchPolicy.{name} must be > 0, got {getattr(self, name)!r}"
                )
        not_negative = (
            "max_redirects",
            "min_delay_per_host",
            "jitter",
            "retries",
            "backoff_initial",
            "backoff_max",
            "max_retry_after",
            "robots_ttl",
        )
        for name in not_negative:
            if getattr(self, name) < 0:
                raise ValueError(
                    f"FetchPolicy.{name} must be >= 0, got {getattr(self, name)!r}"
                )
        if self.per_host_concurrency < 1:
            raise ValueError(
                "FetchPolicy.per_host_concurrency must be >= 1, "
                f"got {self.per_host_concurrency!r}"
            )

        for name in ("user_agent", "contact"):
            value = getattr(self, name)
            if value is not None and (not value.isprintable() or not value.strip()):
                raise ValueError(
                    f"FetchPolicy.{name} must be printable text, got {value!r}"
                )
        hosts = frozenset(
            host.strip().lower().rstrip(".") for host in self.allowed_hosts
        )
        object.__setattr__(self, "allowed_hosts", hosts)

    @property
    def user_agent_header(self) -> str:
        if self.contact is None:
            return self.user_agent
        return f"{self.user_agent} (+{self.contact})"


def redact_url(url: str | httpx.URL) -> str:
    """*url* fit for logs and messages: no userinfo, secret-looking values masked."""
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL:
        return "<invalid URL>"

    parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        pairs = parse_qsl(
            parsed.query.decode("ascii", "replace"), keep_blank_values=True
        )
        masked = [(k, "***" if _SECRET_QUERY_KEY.search(k) else v) for k, v in pairs]
        parsed = parsed.copy_with(query=urlencode(masked, safe="*").encode("ascii"))
    return str(parsed)


def retry_after_seconds(
    value: str | None, *, date_header: str | None = None, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date).

    An HTTP-date is measured against the response's own Date header when there is one,
    so a skewed local clock does not matter. Unparseable values give None.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone takes "²"
        return float(value)

    when = _parse_http_date(value)
    if when is None:
        return None
    reference = _parse_http_date(date_header) if date_header else None
    if reference is None:
        reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class _RedactUrls(logging.Filter):
    """httpx logs every request URL at INFO, credentials and all; mask them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


_REDACT_URLS = _RedactUrls()


def guard_httpx_logs() -> None:
    """httpx logs each request's URL: shown redacted, for every client of ours."""
    httpx_logger = logging.getLogger("httpx")
    if _REDACT_URLS not in httpx_logger.filters:
        httpx_logger.addFilter(_REDACT_URLS)


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One request and what came back: a full HTTP answer, or a failure outcome."""

    url: httpx.URL
    status_code: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    failure: FetchOutcome | None = None
    error: str | None = None
    transient: bool = False
    attempts: int = 1

    def is_redirect(self) -> bool:
        code = self.status_code
        return (
            self.failure is None
            and code is not None
            and 300 <= code < 400
            and code != 304
        )


class _Transient(Exception):
    """Raised inside the stamina retry block so that it tries again."""

    def __init__(self, exchange: _Exchange) -> None:
        super().__init__(exchange.error or f"status {exchange.status_code}")
        self.exchange = exchange


@dataclass(slots=True)
class _Host:
    """Politeness state shared by every request to one host name."""

    slot: asyncio.Semaphore
    min_delay: float
    next_allowed: float = -math.inf


@dataclass(frozen=True, slots=True)
class _Request:
    """The fixed facts of one fetch() call, for building its result."""

    url: str
    started_at: datetime
    began: float
    validators: Validators


class Fetcher:
    """Fetches pages under one `FetchPolicy`; use as ``async with Fetcher(...)``.

    *sleep* and *clock* exist for tests: politeness and Retry-After waits go through
    them, so a fake clock makes them instantaneous and observable. Retry backoff is
    stamina's; switch it off with ``stamina.set_testing``.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._sleep = sleep or asyncio.sleep
        self._clock = clock
        self._random = random.Random()
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._agent = agent_token(policy.user_agent)
        # Requests go straight to the transport: the client's send adds auth,
        # cookie and event-hook layers this fetcher does not use, about a sixth of
        # a 304's CPU. Each request stands alone (no cookie jar). With proxies in
        # the environment the client's send routes them, as httpx does.
        self._direct: httpx.AsyncBaseTransport | None = None
        if transport is not None or not urllib.request.getproxies():
            transport = transport or pooled_transport(_ssl_context())
            self._direct = transport
        self._client = httpx.AsyncClient(
            transport=transport,
            verify=_ssl_context(),
            headers=self._default_headers(),
            timeout=httpx.Timeout(
                connect=policy.connect_timeout,
                read=policy.read_timeout,
                write=policy.read_timeout,
                pool=policy.total_timeout,
            ),
            follow_redirects=False,
        )
        guard_httpx_logs()
        if policy.contact is None:
            logger.warning(
                "no contact address configured; sites cannot reach us (give "
                'contact = "you@example.org" under [planwatch] in a config, -c)'
            )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self, url: str, validators: Validators | None = None
    ) -> FetchResult:
        """Fetch *url*, sending *validators* as a conditional request."""
        start = _parse_start_url(url)
        request = _Request(
            url, datetime.now(UTC), self._clock(), validators or Validators()
        )
        headers = request.validators.request_headers()
        visited: set[str] = set()  # filled at the first redirect
        current = start

        while True:
            if not await self._robots_allow(current):
                origin, shown = origin_of(current), redact_url(current)
                error = f"robots.txt of {origin} disallows {shown}"
                return self._finish(
                    request, current, FetchOutcome.ROBOTS_DISALLOWED, error
                )

            exchange = await self._exchange_with_retries(current, headers)
            if not exchange.is_redirect():
                return self._conclude(request, exchange, redirected=current != start)

            if not visited:
                visited.add(_without_fragment(start))
            allowed = self._policy.allowed_hosts | {start.host}
            target, anomaly = self._next_hop(exchange, visited, allowed)
            if target is None:
                return self._finish(
                    request, current, FetchOutcome.REDIRECT_ANOMALY, anomaly, exchange
                )
            logger.debug("%s redirects to %s", redact_url(current), redact_url(target))
            visited.add(_without_fragment(target))
            current = target

    # Outcomes

    def _conclude(
        self, request: _Request, exchange: _Exchange, *, redirected: bool
    ) -> FetchResult:
        url, code = exchange.url, exchange.status_code
        if exchange.failure is not None:
            return self._finish(
                request, url, exchange.failure, exchange.error, exchange
            )
        assert code is not None

        if 200 <= code < 300:
            return self._finish(request, url, FetchOutcome.OK, None, exchange)
        if code == 304 and not request.validators.empty:
            return self._finish(request, url, FetchOutcome.NOT_MODIFIED, None, exchange)

        answered = f"{redact_url(url)} answered {_describe_status(code)}"
        if redirected:
            # A redirect that does not end on a page (Kausal Watch sends 307s while
            # its backend is down) says something about the site, not the page.
            error = f"redirect from {redact_url(request.url)}: {answered}"
            outcome = FetchOutcome.REDIRECT_ANOMALY
        elif code == 304:
            error = f"{answered} to an unconditional request"
            outcome = FetchOutcome.HTTP_ERROR
        else:
            error = exchange.error or answered
            if exchange.attempts > 1 and exchange.error is None:
                error += f" after {exchange.attempts} attempts"
            outcome = FetchOutcome.HTTP_ERROR
        return self._finish(request, url, outcome, error, exchange)

    def _finish(
        self,
        request: _Request,
        final_url: httpx.URL,
        outcome: FetchOutcome,
        error: str | None,
        exchange: _Exchange | None = None,
    ) -> FetchResult:
        headers = exchange.headers if exchange is not None else {}
        body = exchange.body if exchange is not None else b""
        text, encoding = _decode(body, headers.get("content-type"))
        result = FetchResult(
            url=request.url,
            final_url=str(final_url),
            outcome=outcome,
            status_code=exchange.status_code if exchange is not None else None,
            headers=MappingProxyType(dict(headers)),
            body=body,
            text=text,
            encoding=encoding,
            started_at=request.started_at,
            duration=self._clock() - request.began,
            attempts=exchange.attempts if exchange is not None else 0,
            error=error,
            validators=_validators_after(outcome, headers, request.validators),
        )

        level = logging.DEBUG if outcome in _QUIET_OUTCOMES else logging.INFO
        if logger.isEnabledFor(level):  # redacting a URL costs more than a fetch's
            logger.log(
                level, "fetched %s: %s (%s)", redact_url(request.url), outcome, error
            )
        return result

    # Redirects

    def _next_hop(
        self, exchange: _Exchange, visited: set[str], allowed: frozenset[str]
    ) -> tuple[httpx.URL | None, str]:
        here = redact_url(exchange.url)
        code = _describe_status(exchange.status_code or 0)
        location = exchange.headers.get("location")
        if not location:
            return None, f"{here} answered {code} without a Location header"
        try:
            target = exchange.url.join(location)
        except httpx.InvalidURL:
            return None, f"{here} answered {code} with an invalid Location header"

        there = redact_url(target)
        if target.scheme not in ("http", "https"):
            return None, f"{here} redirects ({code}) to a non-HTTP URL {there}"
        if _looks_like_login(target):
            return (
                None,
                f"{here} redirects ({code}) to a login or unpublished page {there}",
            )
        if target.host not in allowed and not self._policy.follow_offsite:
            return None, f"{here} redirects ({code}) off the allowed hosts to {there}"
        if _without_fragment(target) in visited:
            return None, f"redirect loop: {here} redirects ({code}) back to {there}"
        if len(visited) > self._policy.max_redirects:
            limit = self._policy.max_redirects
            return None, f"more than {limit} redirects; {here} redirects on to {there}"
        return target, ""

    # Retries and single exchanges

    async def _exchange_with_retries(
        self, url: httpx.URL, headers: Mapping[str, str]
    ) -> _Exchange:
        # Most exchanges succeed at once: only a transient failure sets up stamina,
        # whose first attempt then stands for the one already made.
        first = self._apply_retry_after(await self._exchange_once(url, headers))
        if not first.transient:
            return first

        policy = self._policy
        attempts = 0
        retrying = stamina.retry_context(
            on=_Transient,
            attempts=policy.retries + 1,
            timeout=None,
            wait_initial=policy.backoff_initial,
            wait_max=policy.backoff_max,
            wait_jitter=policy.backoff_initial,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    exchange = first
                    if attempts > 1:
                        exchange = await self._exchange_once(url, headers)
                        exchange = self._apply_retry_after(exchange)
                    if exchange.transient:
                        self._log_retry(exchange, attempts)
                        raise _Transient(replace(exchange, attempts=attempts))
                    return replace(exchange, attempts=attempts)
        except _Transient as exc:
            return exc.exchange
        raise AssertionError("stamina.retry_context ended without an attempt")

    def _apply_retry_after(self, exchange: _Exchange) -> _Exchange:
        """Hold the host back as asked, or give up when asked to wait too long."""
        if exchange.status_code not in RETRY_AFTER_STATUSES:
            return exchange
        delay = retry_after_seconds(
            exchange.headers.get("retry-after"),
            date_header=exchange.headers.get("date"),
        )
        if delay is None:
            return exchange

        cap = self._policy.max_retry_after
        if delay > cap:
            error = (
                f"{redact_url(exchange.url)} answered "
                f"{_describe_status(exchange.status_code or 0)} with Retry-After "
                f"{delay:.0f} s, over the {cap:.0f} s this fetcher waits; giving up"
            )
            return replace(exchange, transient=False, error=error)

        host = self._host(exchange.url)
        host.next_allowed = max(host.next_allowed, self._clock() + delay)
        logger.info("%s asks for Retry-After %.0f s", redact_url(exchange.url), delay)
        return exchange

    def _log_retry(self, exchange: _Exchange, attempt: int) -> None:
        total = self._policy.retries + 1
        if attempt >= total:
            return
        reason = exchange.error or _describe_status(exchange.status_code or 0)
        retry_logger.warning(
            "attempt %d of %d for %s failed (%s); retrying",
            attempt,
            total,
            redact_url(exchange.url),
            reason,
        )

    async def _exchange_once(
        self,
        url: httpx.URL,
        headers: Mapping[str, str],
        max_bytes: int | None = None,
    ) -> _Exchange:
        policy = self._policy
        limit = max_bytes or policy.max_body_bytes
        host = self._host(url)

        async with host.slot:
            await self._wait_turn(host)
            try:
                async with asyncio.timeout(policy.total_timeout):
                    return await self._send(url, headers, limit)
            except httpx.TimeoutException as exc:
                error = f"{redact_url(url)}: {_describe_timeout(exc)}"
                return _Exchange(
                    url, failure=FetchOutcome.TIMEOUT, error=error, transient=True
                )
            except TimeoutError:
                limit_s = policy.total_timeout
                error = f"{redact_url(url)}: no complete answer within {limit_s:g} s"
                return _Exchange(
                    url, failure=FetchOutcome.TIMEOUT, error=error, transient=True
                )
            except httpx.DecodingError as exc:
                error = f"{redact_url(url)}: body could not be decoded ({exc})"
                return _Exchange(url, failure=FetchOutcome.NETWORK_ERROR, error=error)
            except httpx.TransportError as exc:
                kind = type(exc).__name__
                error = f"{redact_url(url)}: {kind}: {exc or 'connection failed'}"
                return _Exchange(
                    url, failure=FetchOutcome.NETWORK_ERROR, error=error, transient=True
                )
            finally:
                pause = host.min_delay + self._random.uniform(0, policy.jitter)
                host.next_allowed = max(host.next_allowed, self._clock() + pause)

    async def _send(
        self, url: httpx.URL, headers: Mapping[str, str], limit: int
    ) -> _Exchange:
        # httpx's async stack (httpcore, h11, anyio) is most of a 304's CPU here;
        # `monitor.transport` takes out its worst part.
        request = self._client.build_request("GET", url, headers=headers)
        if self._direct is None:
            response = await self._client.send(request, stream=True)
        else:
            response = await self._direct.handle_async_request(request)
        try:
            kept = _kept_headers(response.headers)
            code = response.status_code
            declared = _content_length(response)
            if declared is not None and declared > limit:
                error = f"{redact_url(url)} declares {declared} bytes, over the limit"
                return _too_large(url, code, kept, error)

            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    error = (
                        f"{redact_url(url)} sent more than the limit of {limit} bytes"
                    )
                    return _too_large(url, code, kept, error)
        finally:
            await response.aclose()

        transient = code in RETRY_STATUSES
        return _Exchange(url, code, kept, bytes(body), transient=transient)

    async def _wait_turn(self, host: _Host) -> None:
        wait = host.next_allowed - self._clock()
        if wait > 0:
            await self._sleep(wait)

    def _host(self, url: httpx.URL) -> _Host:
        name = url.host
        host = self._hosts.get(name)
        if host is None:
            slot = asyncio.Semaphore(self._policy.per_host_concurrency)
            host = _Host(slot, self._policy.min_delay_per_host)
            self._hosts[name] = host
        return host

    def _default_headers(self) -> dict[str, str]:
        headers = {
            "User-Agent": self._policy.user_agent_header,
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            # Only what httpx decodes without optional packages; gzip shrinks a
            # Kausal Watch organization page about four times.
            "Accept-Encoding": "gzip",
        }
        contact = self._policy.contact
        if contact is not None and "@" in contact and "://" not in contact:
            headers["From"] = contact.removeprefix("mailto:")
        return headers

    # robots.txt

    async def _robots_allow(self, url: httpx.URL) -> bool:
        if not self._policy.respect_robots:
            return True
        rules = await self._robots_for(url)
        if rules.allows(str(url), self._agent):
            return True
        logger.warning(
            "robots.txt of %s disallows %s for %s; not fetching it",
            origin_of(url),
            redact_url(url),
            self._agent,
        )
        return False

    async def _robots_for(self, url: httpx.URL) -> RobotsRules:
        origin = origin_of(url)
        cached = self._robots.get(origin)
        if cached is not None and not self._robots_stale(cached):
            return cached  # the lock only keeps two requests from loading it twice

        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is not None and not self._robots_stale(cached):
                return cached

            rules = await self._load_robots(robots_url(url))
            self._robots[origin] = rules
            delay = rules.crawl_delay(self._agent)
            if delay is not None:
                # The robots.txt request itself already counts against the delay.
                host = self._host(url)
                host.min_delay = max(self._policy.min_delay_per_host, delay)
                host.next_allowed = max(host.next_allowed, self._clock() + delay)
            return rules

    def _robots_stale(self, rules: RobotsRules) -> bool:
        ttl = self._policy.robots_ttl
        if rules.source is RobotsSource.UNAVAILABLE:
            ttl = min(ttl, _ROBOTS_RECHECK_AFTER_FAILURE)
        return self._clock() - rules.loaded_at >= ttl

    async def _load_robots(self, url: httpx.URL) -> RobotsRules:
        now = self._clock()
        shown = redact_url(url)
        for _ in range(_ROBOTS_MAX_REDIRECTS + 1):
            exchange = await self._exchange_once(url, {}, MAX_ROBOTS_BYTES)
            code = exchange.status_code
            if exchange.failure is not None:
                logger.info(
                    "could not read %s (%s); treating all as allowed",
                    shown,
                    exchange.error,
                )
                return RobotsRules(RobotsSource.UNAVAILABLE, now)
            assert code is not None

            if exchange.is_redirect() and exchange.headers.get("location"):
                try:
                    url = url.join(exchange.headers["location"])
                except httpx.InvalidURL:
                    break
                continue
            if 200 <= code < 300:
                return RobotsRules.parse(exchange.body.decode("utf-8", "replace"), now)
            if code >= 500:
                logger.warning(
                    "%s answered %s; treating all as allowed",
                    shown,
                    _describe_status(code),
                )
                return RobotsRules(RobotsSource.UNAVAILABLE, now)
            return RobotsRules(RobotsSource.MISSING, now)
        return RobotsRules(RobotsSource.MISSING, now)


_QUIET_OUTCOMES = frozenset({FetchOutcome.OK, FetchOutcome.NOT_MODIFIED})


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; one context serves all.
    return httpx.create_ssl_context()


@functools.lru_cache(maxsize=8192)
def _parse_start_url(url: str) -> httpx.URL:
    # The same URLs are fetched on every check, and httpx.URL is immutable.
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a valid URL: {redact_url(url)!r} ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"only absolute http(s) URLs can be fetched, got {redact_url(url)!r}"
        )
    return parsed


def _without_fragment(url: httpx.URL) -> str:
    return str(url.copy_with(fragment=None))


def _looks_like_login(url: httpx.URL) -> bool:
    return any(_ANOMALOUS_SEGMENT.match(part) for part in url.path.split("/") if part)


def _kept_headers(headers: httpx.Headers) -> dict[str, str]:
    """The headers named in KEPT_HEADERS, in its order, a repeated one joined as
    httpx joins it; one pass over the answer's headers instead of one per name."""
    found: dict[str, list[str]] = {}
    for name, value in headers.multi_items():
        if name in _KEPT:
            found.setdefault(name, []).append(value)
    return {name: ", ".join(found[name]) for name in KEPT_HEADERS if name in found}


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _too_large(
    url: httpx.URL, code: int, headers: Mapping[str, str], error: str
) -> _Exchange:
    return _Exchange(url, code, headers, failure=FetchOutcome.TOO_LARGE, error=error)


def _describe_status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _describe_timeout(exc: httpx.TimeoutException) -> str:
    kinds = {
        httpx.ConnectTimeout: "connecting timed out",
        httpx.ReadTimeout: "reading timed out",
        httpx.WriteTimeout: "sending timed out",
        httpx.PoolTimeout: "no free connection in time",
    }
    return kinds.get(type(exc), "timed out")


def _decode(body: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    if not body:
        return None, None
    if content_type and not _TEXTUAL_TYPE.match(content_type.strip()):
        return None, None
    decoded = decode_body(body, content_type)
    return decoded.text, decoded.encoding


def _validators_after(
    outcome: FetchOutcome, headers: Mapping[str, str], sent: Validators
) -> Validators:
    """The validators to send next time; the old ones survive anything but a 200."""
    etag, modified = headers.get("etag"), headers.get("last-modified")
    if outcome is FetchOutcome.OK:
        return Validators(etag, modified)
    if outcome is FetchOutcome.NOT_MODIFIED:
        return Validators(etag or sent.etag, modified or sent.last_modified)
    return sent
