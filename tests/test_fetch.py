"""The fetcher against a real fault-injecting server on 127.0.0.1, plus unit tests.

Politeness and Retry-After waits go through a fake clock, and stamina's test mode
switches retry backoff off, so nothing here waits for real except the timeout tests
(a few tenths of a second each).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import httpx
import pytest
import stamina
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.charset import decode_body
from monitor.fetch import (
    KEPT_HEADERS,
    Fetcher,
    FetchOutcome,
    FetchPolicy,
    FetchResult,
    Validators,
    _kept_headers,
    redact_url,
    retry_after_seconds,
)
from tests.faultserver import FaultServer, Reply, Seen, http_date, running

T = TypeVar("T")

CONTACT = "ops@example.org"
HTML = (
    b"<!doctype html><html><head><title>Ilmastovahti</title></head><body></body></html>"
)

FAST = FetchPolicy(
    contact=CONTACT,
    connect_timeout=0.3,
    read_timeout=0.3,
    total_timeout=3.0,
    max_body_bytes=64 * 1024,
    min_delay_per_host=0.0,
    jitter=0.0,
    retries=3,
)


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with running() as fault_server:
        yield fault_server


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def _fetch_all(
    urls: list[str],
    policy: FetchPolicy,
    clock: FakeClock | None,
    validators: Validators | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[FetchResult]:
    clock = clock or FakeClock()
    async with Fetcher(
        policy, transport=transport, sleep=clock.sleep, clock=clock
    ) as f:
        return [await f.fetch(url, validators) for url in urls]


def fetch(
    url: str,
    policy: FetchPolicy = FAST,
    *,
    clock: FakeClock | None = None,
    validators: Validators | None = None,
) -> FetchResult:
    return run(_fetch_all([url], policy, clock, validators))[0]


def fetch_many(
    urls: list[str], policy: FetchPolicy = FAST, *, clock: FakeClock | None = None
) -> list[FetchResult]:
    return run(_fetch_all(urls, policy, clock, None))


def html_reply(body: bytes = HTML, **kwargs: Any) -> Reply:
    headers = {"Content-Type": "text/html; charset=utf-8", **kwargs.pop("headers", {})}
    return Reply(200, body, headers, **kwargs)


# Plain answers and conditional requests


def test_a_page_is_fetched_with_our_identity_and_only_useful_headers(
    server: FaultServer,
) -> None:
    server.script(
        "/page",
        html_reply(
            headers={"ETag": '"v1"', "X-Internal": "leak", "Cache-Control": "no-store"}
        ),
    )

    result = fetch(server.url("/page"))

    assert result.outcome is FetchOutcome.OK
    assert result.status_code == 200
    assert result.body == HTML
    assert result.text is not None
    assert "Ilmastovahti" in result.text
    assert result.encoding == "utf-8"
    assert result.attempts == 1
    assert result.error is None
    assert result.validators == Validators('"v1"', None)
    assert set(result.headers) == {"content-type", "date", "etag", "cache-control"}
    assert result.started_at.tzinfo is not None
    seen = next(s for s in server.requests if s.path == "/page")
    assert "planwatch" in seen.headers["user-agent"]
    assert CONTACT in seen.headers["user-agent"]
    assert seen.headers["from"] == CONTACT
    assert seen.headers["accept-encoding"] == "gzip"


def _conditional(seen: Seen) -> Reply:
    etag, modified = '"v7"', "Wed, 04 Mar 2026 10:00:00 GMT"
    if seen.headers.get("if-none-match") == etag:
        return Reply(304, headers={"ETag": etag})
    if seen.headers.get("if-modified-since") == modified:
        return Reply(304)
    return html_reply(headers={"ETag": etag, "Last-Modified": modified})


def test_etag_turns_a_repeat_fetch_into_not_modified(server: FaultServer) -> None:
    server.respond("/cond", _conditional)
    first = fetch(server.url("/cond"))

    second = fetch(
        server.url("/cond"), validators=Validators(etag=first.validators.etag)
    )

    assert first.outcome is FetchOutcome.OK
    assert second.outcome is FetchOutcome.NOT_MODIFIED
    assert second.status_code == 304
    assert second.body == b""
    assert second.text is None
    assert second.validators.etag == '"v7"'
    assert server.requests[-1].headers["if-none-match"] == '"v7"'


def test_last_modified_turns_a_repeat_fetch_into_not_modified(
    server: FaultServer,
) -> None:
    server.respond("/cond", _conditional)
    first = fetch(server.url("/cond"))
    sent = Validators(last_modified=first.validators.last_modified)

    second = fetch(server.url("/cond"), validators=sent)

    assert second.outcome is FetchOutcome.NOT_MODIFIED
    # The 304 carried no Last-Modified; the old one must not be lost.
    assert second.validators.last_modified == "Wed, 04 Mar 2026 10:00:00 GMT"
    assert "if-none-match" not in server.requests[-1].headers


def test_a_304_to_an_unconditional_request_is_an_error(server: FaultServer) -> None:
    server.script("/odd", Reply(304))

    result = fetch(server.url("/odd"))

    assert result.outcome is FetchOutcome.HTTP_ERROR
    assert result.error is not None
    assert "unconditional" in result.error


def test_a_maintenance_page_with_status_200_is_content_for_the_parser(
    server: FaultServer,
) -> None:
    page = b"<html><body><h1>Huoltokatko / Maintenance</h1></body></html>"
    server.script("/maint", html_reply(page))

    result = fetch(server.url("/maint"))

    assert result.outcome is FetchOutcome.OK
    assert result.text is not None
    assert "Maintenance" in result.text


def test_gzip_bodies_are_accepted_and_decompressed(server: FaultServer) -> None:
    page = HTML * 200
    server.script("/big", html_reply(page, gzip=True))

    result = fetch(server.url("/big"))

    assert result.outcome is FetchOutcome.OK
    assert result.headers["content-encoding"] == "gzip"
    assert result.body == page


# Timeouts and broken bodies


def test_a_server_slower_than_the_read_timeout_ends_in_timeout(
    server: FaultServer,
) -> None:
    server.script("/slow", html_reply(delay=1.0))

    result = fetch(server.url("/slow"), replace(FAST, retries=1))

    assert result.outcome is FetchOutcome.TIMEOUT
    assert result.attempts == 2
    assert result.error is not None
    assert "/slow" in result.error
    assert "reading timed out" in result.error


def test_a_trickling_body_ends_at_the_total_timeout(server: FaultServer) -> None:
    server.script("/trickle", Reply(200, delay=0.05, mode="trickle"))

    result = fetch(server.url("/trickle"), replace(FAST, total_timeout=0.5, retries=0))

    assert result.outcome is FetchOutcome.TIMEOUT
    assert result.error is not None
    assert "within 0.5 s" in result.error


def test_a_truncated_body_is_a_network_error(server: FaultServer) -> None:
    server.script("/cut", html_reply(mode="truncate"))

    result = fetch(server.url("/cut"), replace(FAST, retries=1))

    assert result.outcome is FetchOutcome.NETWORK_ERROR
    assert result.attempts == 2
    assert result.body == b""
    assert result.error is not None
    assert "/cut" in result.error


def test_an_endless_body_is_too_large(server: FaultServer) -> None:
    server.script("/endless", Reply(200, mode="endless"))

    result = fetch(server.url("/endless"))

    assert result.outcome is FetchOutcome.TOO_LARGE
    assert result.attempts == 1
    assert result.body == b""
    assert result.error is not None
    assert "65536" in result.error


def test_a_declared_length_over_the_limit_is_too_large_without_reading(
    server: FaultServer,
) -> None:
    server.script("/huge", html_reply(b"x" * 100_000))

    result = fetch(server.url("/huge"))

    assert result.outcome is FetchOutcome.TOO_LARGE
    assert result.error is not None
    assert "declares 100000 bytes" in result.error


def test_a_gzip_bomb_is_measured_after_decompression(server: FaultServer) -> None:
    server.script("/bomb", html_reply(b"\0" * 1_000_000, gzip=True))

    result = fetch(server.url("/bomb"))

    assert result.outcome is FetchOutcome.TOO_LARGE


def test_a_refused_connection_is_a_network_error() -> None:
    with running() as gone:
        url = gone.url("/page")

    result = fetch(url, replace(FAST, retries=1, respect_robots=False))

    assert result.outcome is FetchOutcome.NETWORK_ERROR
    assert result.attempts == 2


# Retries and Retry-After


def test_server_errors_are_retried_until_success(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script("/flaky", Reply(500), Reply(502), Reply(503), html_reply())

    with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
        result = fetch(server.url("/flaky"))

    assert result.outcome is FetchOutcome.OK
    assert result.attempts == 4
    assert server.hits("/flaky") == 4
    retries = [
        r.getMessage() for r in caplog.records if r.name == "monitor.fetch.retries"
    ]
    assert [m.split(" for ")[0] for m in retries] == [
        "attempt 1 of 4",
        "attempt 2 of 4",
        "attempt 3 of 4",
    ]
    assert "500 Internal Server Error" in retries[0]


def test_retries_run_out_into_an_http_error(server: FaultServer) -> None:
    server.script("/down", Reply(503))

    result = fetch(server.url("/down"), replace(FAST, retries=2))

    assert result.outcome is FetchOutcome.HTTP_ERROR
    assert result.status_code == 503
    assert result.attempts == 3
    assert result.error == (
        f"{server.url('/down')} answered 503 Service Unavailable after 3 attempts"
    )


def test_a_404_is_not_retried(server: FaultServer) -> None:
    server.script("/gone", Reply(404, b"no"))

    result = fetch(server.url("/gone"))

    assert result.outcome is FetchOutcome.HTTP_ERROR
    assert result.attempts == 1
    assert server.hits("/gone") == 1


def test_429_with_retry_after_seconds_is_waited_out(server: FaultServer) -> None:
    server.script("/busy", Reply(429, headers={"Retry-After": "7"}), html_reply())
    clock = FakeClock()

    result = fetch(server.url("/busy"), clock=clock)

    assert result.outcome is FetchOutcome.OK
    assert result.attempts == 2
    assert clock.sleeps == [7.0]


def test_503_with_retry_after_as_http_date_is_waited_out(server: FaultServer) -> None:
    now = time.time()
    headers = {"Date": http_date(now), "Retry-After": http_date(now + 5)}
    server.script("/later", Reply(503, headers=headers), html_reply())
    clock = FakeClock()

    result = fetch(server.url("/later"), clock=clock)

    assert result.outcome is FetchOutcome.OK
    assert clock.sleeps == [5.0]


def test_retry_after_over_the_cap_gives_up_at_once(server: FaultServer) -> None:
    server.script("/away", Reply(429, headers={"Retry-After": "3600"}), html_reply())

    result = fetch(server.url("/away"))

    assert result.outcome is FetchOutcome.HTTP_ERROR
    assert result.status_code == 429
    assert result.attempts == 1
    assert server.hits("/away") == 1
    assert result.error is not None
    assert "Retry-After 3600 s, over the 600 s" in result.error


def test_retry_after_holds_back_the_next_request_to_the_same_host(
    server: FaultServer,
) -> None:
    server.script("/busy", Reply(429, headers={"Retry-After": "30"}))
    server.script("/other", html_reply())
    clock = FakeClock()

    busy, other = fetch_many(
        [server.url("/busy"), server.url("/other")],
        replace(FAST, retries=0),
        clock=clock,
    )

    assert busy.outcome is FetchOutcome.HTTP_ERROR
    assert other.outcome is FetchOutcome.OK
    assert clock.sleeps == [30.0]


# Redirects


def test_a_redirect_on_the_same_host_is_followed(server: FaultServer) -> None:
    server.script("/old", Reply(301, headers={"Location": "/new"}))
    server.script("/new", html_reply())

    result = fetch(server.url("/old"))

    assert result.outcome is FetchOutcome.OK
    assert result.url == server.url("/old")
    assert result.final_url == server.url("/new")


def test_a_redirect_loop_is_an_anomaly(server: FaultServer) -> None:
    server.script("/a", Reply(302, headers={"Location": "/b"}))
    server.script("/b", Reply(302, headers={"Location": "/a"}))

    result = fetch(server.url("/a"))

    assert result.outcome is FetchOutcome.REDIRECT_ANOMALY
    assert result.error is not None
    assert "loop" in result.error
    assert server.hits("/a") == 1


def test_too_many_redirects_is_an_anomaly(server: FaultServer) -> None:
    for n in range(10):
        server.script(f"/r{n}", Reply(302, headers={"Location": f"/r{n + 1}"}))

    result = fetch(server.url("/r0"), replace(FAST, max_redirects=3))

    assert result.outcome is FetchOutcome.REDIRECT_ANOMALY
    assert result.error is not None
    assert "more than 3 redirects" in result.error
    assert server.hits("/r4") == 0


@pytest.mark.parametrize(
    "location",
    ["/accounts/login/?next=/actions", "/auth/signin", "/sso", "/unpublished"],
)
def test_a_redirect_to_a_login_or_unpublished_page_is_an_anomaly(
    server: FaultServer, location: str
) -> None:
    server.script("/actions", Reply(302, headers={"Location": location}))

    result = fetch(server.url("/actions"))

    assert result.outcome is FetchOutcome.REDIRECT_ANOMALY
    assert result.error is not None
    assert "login or unpublished" in result.error
    assert len(server.requests) == 2  # robots.txt and /actions, nothing more


def test_a_redirect_off_the_allowed_hosts_is_an_anomaly(server: FaultServer) -> None:
    offsite = server.url("/elsewhere").replace("127.0.0.1", "localhost")
    server.script("/page", Reply(302, headers={"Location": offsite}))

    result = fetch(server.url("/page"))

    assert result.outcome is FetchOutcome.REDIRECT_ANOMALY
    assert result.error is not None
    assert "off the allowed hosts" in result.error
    assert server.hits("/elsewhere") == 0


def test_a_redirect_to_a_failing_backend_is_an_anomaly_not_an_error(
    server: FaultServer,
) -> None:
    # Kausal Watch answered 307 while its backend was down.
    server.script("/plan", Reply(307, headers={"Location": "/plan/"}))
    server.script("/plan/", Reply(503))

    result = fetch(server.url("/plan"), replace(FAST, retries=1))

    assert result.outcome is FetchOutcome.REDIRECT_ANOMALY
    assert result.status_code == 503
    assert result.final_url == server.url("/plan/")


def test_a_redirect_without_location_is_an_anomaly(server: FaultServer) -> None:
    server.script("/nowhere", Reply(302))

    result = fetch(server.url("/nowhere"))

    assert result.outcome is FetchOutcome.REDIRECT_ANOMALY
    assert result.error is not None
    assert "without a Location" in result.error


# robots.txt


def test_robots_txt_disallow_is_honoured_and_read_once(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private\n"))
    server.script("/private/page", html_reply())
    server.script("/public", html_reply())

    with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
        private, public = fetch_many(
            [server.url("/private/page"), server.url("/public")]
        )

    assert private.outcome is FetchOutcome.ROBOTS_DISALLOWED
    assert private.attempts == 0
    assert public.outcome is FetchOutcome.OK
    assert server.hits("/private/page") == 0
    assert server.hits("/robots.txt") == 1
    assert any("disallows" in r.getMessage() for r in caplog.records)


def test_robots_txt_is_read_again_once_its_time_is_up(server: FaultServer) -> None:
    server.script("/robots.txt", Reply(200, b"User-agent: *\nAllow: /\n"))
    server.script("/page", html_reply())
    clock = FakeClock()
    policy = replace(FAST, robots_ttl=60.0)

    async def main() -> list[int]:
        reads = []
        async with Fetcher(policy, sleep=clock.sleep, clock=clock) as fetcher:
            for step in (0.0, 59.0, 1.0):
                clock.now += step
                result = await fetcher.fetch(server.url("/page"))
                assert result.outcome is FetchOutcome.OK
                reads.append(server.hits("/robots.txt"))
        return reads

    assert run(main()) == [1, 1, 2]
    assert server.hits("/page") == 3


def test_concurrent_first_requests_read_robots_txt_once(server: FaultServer) -> None:
    server.script("/robots.txt", Reply(200, b"User-agent: *\nAllow: /\n", delay=0.05))
    server.script("/page", html_reply())

    async def main() -> list[FetchResult]:
        async with Fetcher(replace(FAST, per_host_concurrency=4)) as fetcher:
            pages = [fetcher.fetch(server.url("/page")) for _ in range(4)]
            return list(await asyncio.gather(*pages))

    results = run(main())

    assert {r.outcome for r in results} == {FetchOutcome.OK}
    assert server.hits("/robots.txt") == 1


def test_a_robots_group_naming_planwatch_applies_to_us(server: FaultServer) -> None:
    rules = b"User-agent: planwatch\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    server.script("/robots.txt", Reply(200, rules))
    server.script("/page", html_reply())

    result = fetch(server.url("/page"))

    assert result.outcome is FetchOutcome.ROBOTS_DISALLOWED


def test_robots_can_be_switched_off(server: FaultServer) -> None:
    server.script("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /\n"))
    server.script("/page", html_reply())

    result = fetch(server.url("/page"), replace(FAST, respect_robots=False))

    assert result.outcome is FetchOutcome.OK
    assert server.hits("/robots.txt") == 0


@pytest.mark.parametrize("status", [404, 500])
def test_a_missing_or_failing_robots_txt_allows_everything(
    server: FaultServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server.script("/robots.txt", Reply(status, b"User-agent: *\nDisallow: /\n"))
    server.script("/page", html_reply())

    with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
        result = fetch(server.url("/page"))

    assert result.outcome is FetchOutcome.OK
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert ("treating all as allowed" in logged) == (status == 500)


def test_crawl_delay_lengthens_the_pause_between_requests(server: FaultServer) -> None:
    server.script("/robots.txt", Reply(200, b"User-agent: *\nCrawl-delay: 4\n"))
    server.script("/page", html_reply())
    clock = FakeClock()

    fetch(server.url("/page"), clock=clock)

    assert clock.sleeps == [4.0]  # between robots.txt and the page


# Politeness per host


def test_one_request_per_host_is_in_flight_at_a_time(server: FaultServer) -> None:
    server.script("/slow", html_reply(delay=0.2))
    policy = replace(FAST, respect_robots=False, read_timeout=2.0)

    results = run(_gather(server, policy, 3))

    assert [r.outcome for r in results] == [FetchOutcome.OK] * 3
    assert server.max_in_flight == 1


def test_the_in_flight_count_sees_overlap_when_the_limit_allows_it(
    server: FaultServer,
) -> None:
    # The control for the test above: the server's count can see overlap.
    server.script("/slow", html_reply(delay=0.3))
    policy = replace(
        FAST, respect_robots=False, read_timeout=2.0, per_host_concurrency=3
    )

    run(_gather(server, policy, 3))

    assert server.max_in_flight > 1


async def _gather(
    server: FaultServer, policy: FetchPolicy, n: int
) -> list[FetchResult]:
    async with Fetcher(policy) as fetcher:
        return await asyncio.gather(
            *(fetcher.fetch(server.url("/slow")) for _ in range(n))
        )


def test_requests_to_one_host_are_spaced_by_delay_and_jitter(
    server: FaultServer,
) -> None:
    server.script("/page", html_reply())
    policy = replace(FAST, respect_robots=False, min_delay_per_host=1.0, jitter=0.5)
    clock = FakeClock()

    fetch_many([server.url("/page")] * 3, policy, clock=clock)

    assert len(clock.sleeps) == 2
    assert all(1.0 <= s <= 1.5 for s in clock.sleeps)


# Character sets


FINNISH = "Päästöt vähenevät, yhteistyö jatkuu ja ilmastotyö etenee"


@pytest.mark.parametrize(
    ("content_type", "body", "encoding"),
    [
        pytest.param("text/html", FINNISH.encode("latin-1"), "cp1252", id="undeclared"),
        pytest.param(
            "text/html",
            f'<meta charset="iso-8859-15"><p>{FINNISH}: 10 €</p>'.encode("iso8859-15"),
            "iso8859-15",
            id="meta-charset",
        ),
        pytest.param(
            "text/html",
            b'<meta http-equiv="content-type" content="text/html; charset=cp1252">'
            + FINNISH.encode("cp1252"),
            "cp1252",
            id="meta-http-equiv",
        ),
        pytest.param(
            "text/html; charset=iso-8859-1",
            b"\xef\xbb\xbf" + FINNISH.encode("utf-8"),
            "utf-8",
            id="bom-beats-header",
        ),
        pytest.param(
            "text/html; charset=utf-8",
            FINNISH.encode("latin-1"),
            "cp1252",
            id="header-utf8-bytes-latin1",
        ),
        pytest.param(
            "text/html; charset=iso-8859-1",
            FINNISH.encode("utf-8"),
            "utf-8",
            id="header-latin1-bytes-utf8",
        ),
        pytest.param(
            "text/html; charset=x-no-such-charset",
            FINNISH.encode("utf-8"),
            "utf-8",
            id="unknown-label",
        ),
    ],
)
def test_character_sets_are_found_or_detected(
    server: FaultServer, content_type: str, body: bytes, encoding: str
) -> None:
    server.script("/page", Reply(200, body, {"Content-Type": content_type}))

    result = fetch(server.url("/page"))

    assert result.encoding == encoding
    assert result.text is not None
    assert "\ufffd" not in result.text
    assert FINNISH in result.text
    assert "¤" not in result.text  # the euro sign of ISO-8859-15 read as Latin-1


def test_a_short_latin1_snippet_is_not_mistaken_for_big5() -> None:
    decoded = decode_body("<p>Päätös</p>".encode("latin-1"), "text/html")

    assert decoded.text == "<p>Päätös</p>"


def test_binary_bodies_get_no_text(server: FaultServer) -> None:
    server.script(
        "/doc.pdf",
        Reply(200, b"%PDF-1.7\n\xff\xfe", {"Content-Type": "application/pdf"}),
    )

    result = fetch(server.url("/doc.pdf"))

    assert result.outcome is FetchOutcome.OK
    assert result.text is None
    assert result.encoding is None


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=3000),
    label=st.sampled_from(
        [None, "utf-8", "iso-8859-1", "shift_jis", "bogus", "utf-16"]
    ),
)
def test_the_same_bytes_always_decode_the_same_way(
    body: bytes, label: str | None
) -> None:
    content_type = None if label is None else f"text/html; charset={label}"

    first = decode_body(body, content_type)
    second = decode_body(bytes(body), content_type)

    assert first == second


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(codec="latin-1", exclude_categories=("Cc", "Cs"))
    ),
    label=st.sampled_from(["utf-8", "iso8859-15", "cp1250", "utf-16-le"]),
)
def test_declared_charsets_round_trip(text: str, label: str) -> None:
    try:
        body = text.encode(label)
    except UnicodeEncodeError:
        return
    if label == "utf-16-le":
        body = b"\xff\xfe" + body  # UTF-16 is only believed with its BOM

    assert decode_body(body, f"text/plain; charset={label}").text == text


# Secrets and unit-level behaviour


def test_secrets_in_urls_reach_no_log_error_or_repr(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script("/feed", Reply(500))
    url = server.url("/feed?token=abc123&page=2").replace(
        "http://", "http://bob:s3cret@"
    )

    with caplog.at_level(logging.DEBUG):
        result = fetch(url, replace(FAST, retries=1))

    assert result.outcome is FetchOutcome.HTTP_ERROR
    assert result.url == url  # the caller's own data stays exact
    visible = [result.error or "", repr(result)] + [
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records
    ]
    for secret in ("s3cret", "abc123", "bob"):
        assert not any(secret in text for text in visible), secret
    assert "page=2" in (result.error or "")


def test_redact_url_strips_userinfo_and_masks_secret_query_values() -> None:
    url = "https://u:p@watch.example/api?access_token=xyz&lang=fi#top"

    assert redact_url(url) == "https://watch.example/api?access_token=***&lang=fi#top"


def test_retry_after_parsing() -> None:
    date = "Wed, 04 Mar 2026 10:00:00 GMT"

    assert retry_after_seconds("120") == 120.0
    assert (
        retry_after_seconds("Wed, 04 Mar 2026 10:01:30 GMT", date_header=date) == 90.0
    )
    assert retry_after_seconds("Wed, 04 Mar 2026 09:00:00 GMT", date_header=date) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def test_a_redirect_to_an_allowed_other_host_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "old.example":
            return httpx.Response(301, headers={"Location": "https://new.example/p"})
        return httpx.Response(200, html=HTML.decode())

    policy = replace(
        FAST, allowed_hosts=frozenset({"New.Example"}), respect_robots=False
    )
    result = run(
        _fetch_all(["https://old.example/p"], policy, None, None, _mock(handler))
    )[0]

    assert result.outcome is FetchOutcome.OK
    assert result.final_url == "https://new.example/p"


def test_follow_offsite_allows_any_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.example":
            return httpx.Response(302, headers={"Location": "https://b.example/"})
        return httpx.Response(200, text="fine")

    policy = replace(FAST, follow_offsite=True, respect_robots=False)
    result = run(
        _fetch_all(["https://a.example/"], policy, None, None, _mock(handler))
    )[0]

    assert result.outcome is FetchOutcome.OK


def test_connect_errors_are_retried_and_reported() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    policy = replace(FAST, respect_robots=False, retries=2)
    result = run(
        _fetch_all(["https://x.example/"], policy, None, None, _mock(handler))
    )[0]

    assert result.outcome is FetchOutcome.NETWORK_ERROR
    assert result.attempts == 3 == len(calls)
    assert result.error == "https://x.example/: ConnectError: Connection refused"


def test_an_unreachable_robots_txt_allows_the_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            raise httpx.ConnectError("boom", request=request)
        return httpx.Response(200, text="fine")

    result = run(_fetch_all(["https://x.example/"], FAST, None, None, _mock(handler)))[
        0
    ]

    assert result.outcome is FetchOutcome.OK


@pytest.mark.parametrize("url", ["ftp://x.example/", "/relative", "not a url"])
def test_non_http_urls_are_a_programming_error(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        fetch(url)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("read_timeout", 0),
        ("retries", -1),
        ("per_host_concurrency", 0),
        ("contact", "a\r\nb"),
    ],
)
def test_bad_policies_are_refused_with_the_field_named(
    field: str, value: object
) -> None:
    with pytest.raises(ValueError, match=field):
        FetchPolicy(**{field: value})


def test_the_user_agent_names_planwatch_and_the_contact() -> None:
    assert FetchPolicy(contact="https://example.org/planwatch").user_agent_header == (
        "planwatch/0.1 (+https://example.org/planwatch)"
    )


def test_each_request_stands_alone_without_cookies(server: FaultServer) -> None:
    server.script("/a", Reply(200, HTML, {"Set-Cookie": "session=abc; Path=/"}))
    server.script("/b", Reply(200, HTML))

    results = run(_fetch_all([server.url("/a"), server.url("/b")], FAST, None, None))

    assert [r.outcome for r in results] == [FetchOutcome.OK, FetchOutcome.OK]
    assert server.requests[-1].path == "/b"
    assert "cookie" not in server.requests[-1].headers


def test_a_proxy_in_the_environment_is_used(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fault server plays the proxy: it gets the absolute URL as the path.
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, server.base)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server.script("/page", Reply(200, HTML, {"Content-Type": "text/html"}))
    policy = replace(FAST, respect_robots=False)

    [result] = run(_fetch_all(["http://plan.invalid/page"], policy, None, None))

    assert result.ok
    assert [seen.path for seen in server.requests] == ["http://plan.invalid/page"]


header_names = st.sampled_from(
    [*KEPT_HEADERS, "ETag", "Cache-Control", "Set-Cookie", "X-Trace", "Server"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(header_names, st.text('abc ,="', max_size=6)), max_size=8))
def test_kept_headers_read_as_httpx_reads_each_name(
    pairs: list[tuple[str, str]],
) -> None:
    headers = httpx.Headers(pairs)

    kept = _kept_headers(headers)

    expected = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    assert list(kept.items()) == list(expected.items())
