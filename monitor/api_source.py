"""The public GraphQL API as a source kind (``kind = "api"`` or ``"both"``).

A check asks ``plansForHostname`` which plan the site shows, then asks for the
plan's actions once per language (``@locale``). Each answer becomes observations
like fetched pages' (one action list and one page per organization, see
``parsers.api``), so the pipeline stores, merges and diffs them the same way. With
``kind = "both"`` the pages are fetched too and each is cross-checked against the
answer in its language: disagreements become anomalies on the page.

The endpoint is the site's own proxy (``<origin>/api/graphql``) unless the source
names another (``api_url``, e.g. https://api.watch.kausal.tech/v1/graphql/). The
API is asked anonymously, as the pages are read: public, published actions only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import msgspec
import stamina

from monitor.config import Settings, SourceConfig
from monitor.fetch import FetchOutcome, FetchPolicy, guard_httpx_logs, redact_url
from monitor.pipeline import PageObservation
from monitor.workers import FetchLoop
from parsers import api
from parsers.errors import FetchError, ParseError
from parsers.kausal import parser_failure
from parsers.records import Action, Outcome, PageKind, ParsedPage
from parsers.sitemap import public_url
from parsers.text import whole_characters

logger = logging.getLogger(__name__)
retry_logger = logging.getLogger(f"{__name__}.retries")  # as monitor.fetch's

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
ATTEMPTS = 3
_TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ApiTarget:
    """What to ask: the site (for ``plansForHostname`` and links) and the endpoint."""

    site: str
    endpoint: str
    languages: tuple[str, ...] = ()  # empty: every language the plan has

    @classmethod
    def of(
        cls, site: str, api_url: str | None = None, languages: Sequence[str] = ()
    ) -> ApiTarget:
        parts = urlsplit(site)
        origin = f"{parts.scheme}://{parts.netloc}"
        return cls(
            site.rstrip("/"), api_url or f"{origin}/api/graphql", tuple(languages)
        )

    @property
    def origin(self) -> str:
        parts = urlsplit(self.site)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def hostname(self) -> str:
        return urlsplit(self.site).hostname or ""


class _Transient(Exception):
    """A failure worth another try (network, 429, 5xx)."""


def _retrying(endpoint: str, reason: str, attempt: int) -> _Transient:
    """The failure stamina retries on, logged as a retry unless it was the last."""
    if attempt < ATTEMPTS:
        retry_logger.warning(
            "attempt %d of %d for %s failed (%s); retrying",
            attempt,
            ATTEMPTS,
            redact_url(endpoint),
            reason,
        )
    return _Transient(f"{redact_url(endpoint)}: {reason}")


async def _post(
    client: httpx.AsyncClient, endpoint: str, query: str, variables: dict[str, Any]
) -> tuple[bytes, Any]:
    payload = {"query": query, "variables": variables}
    async for attempt in stamina.retry_context(on=_Transient, attempts=ATTEMPTS):
        with attempt:
            body = await _answer(client, endpoint, payload, attempt.num)
            try:
                return body, whole_characters(json.loads(body))
            except ValueError:
                raise FetchError(
                    f"{redact_url(endpoint)}: the answer is not JSON",
                    url=redact_url(endpoint),
                ) from None
            except RecursionError:
                raise FetchError(
                    f"{redact_url(endpoint)}: the answer nests too deeply to read",
                    url=redact_url(endpoint),
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


async def _answer(
    client: httpx.AsyncClient, endpoint: str, payload: dict[str, Any], attempt: int
) -> bytes:
    """The answer's body, read up to the limit a fetched page has; a failure worth
    another attempt is ``_Transient``."""
    try:
        async with client.stream("POST", endpoint, json=payload) as response:
            if response.status_code in _TRANSIENT_STATUSES:
                raise _retrying(endpoint, f"HTTP {response.status_code}", attempt)
            if response.status_code != 200:
                raise FetchError(
                    f"{redact_url(endpoint)}: HTTP {response.status_code}",
                    url=redact_url(endpoint),
                )
            return await _limited(response, endpoint)
    except httpx.TransportError as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise _retrying(endpoint, reason, attempt) from exc


async def _limited(response: httpx.Response, endpoint: str) -> bytes:
    # A plan's 600 actions in one language are a megabyte; an endpoint that sends
    # without end must not fill the memory (the whole answer was read, unbounded).
    limit = FetchPolicy.max_body_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise FetchError(
                f"{redact_url(endpoint)}: the answer is larger than {limit} bytes, "
                "the limit a fetched page has",
                url=redact_url(endpoint),
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def observe_api(
    target: ApiTarget,
    *,
    user_agent: str,
    now: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[PageObservation]:
    """The API's answers for ``target`` as observations (failed ones included)."""
    started = now or datetime.now(UTC)
    guard_httpx_logs()
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    async with httpx.AsyncClient(
        headers=headers, timeout=TIMEOUT, transport=transport
    ) as client:
        clock = time.monotonic()
        try:
            _, answer = await _post(
                client, target.endpoint, api.PLANS_QUERY, {"hostname": target.hostname}
            )
            plan = api.plan_for_site(answer, target.site)
        except (FetchError, ParseError, _Transient) as exc:
            return [_failed(_answer_url(target, None, None), started, exc, clock)]
        except Exception as exc:  # a parser bug on some answer: said, and recorded
            url = _answer_url(target, None, None)
            logger.exception("%s: the parser failed on the plans answer", url)
            return [_failed(url, started, _parser_bug(exc), clock)]

        languages = target.languages or plan.languages
        observations: list[PageObservation] = []
        for lang in languages:
            url = _answer_url(target, plan.identifier, lang)
            clock = time.monotonic()
            try:
                body, answer = await _post(
                    client,
                    target.endpoint,
                    api.actions_query(lang),
                    {"plan": plan.identifier},
                )
                pages = _read_answer(
                    answer,
                    url,
                    lang,
                    api.site_prefix(target.origin, plan, lang),
                    started,
                )
            except (FetchError, ParseError, _Transient, ValueError) as exc:
                observations.append(_failed(url, started, exc, clock))
                continue
            duration = time.monotonic() - clock
            observations += [
                PageObservation(
                    url=page.url,
                    fetched_at=started,
                    fetch_outcome=FetchOutcome.OK.value,
                    status_code=200,
                    body=body,
                    headers={"content-type": "application/json"},
                    duration=duration,
                    page=page,
                )
                for page in pages
            ]
    logger.info(
        "%s: %d answers from the API (%s)",
        redact_url(target.site),
        len(observations),
        ", ".join(languages),
    )
    return observations


def _read_answer(
    answer: Any, url: str, lang: str, prefix: str, started: datetime
) -> list[ParsedPage]:
    """The pages an actions answer gives; a parser bug on it (not a ``ParseError``,
    which is the answer's fault) costs this answer only, as ``pipeline.read_page``
    makes it cost a page: one page that reads as a layout it could not read."""
    try:
        return api.pages_from_answer(
            answer, url=url, lang=lang, prefix=prefix, observed_at=started
        )
    except (ParseError, ValueError):
        raise
    except Exception as error:  # a bug on some answer: said, and recorded
        logger.exception("%s: the parser failed", url)
        return [parser_failure(url, started, error)]


def _parser_bug(error: Exception) -> ParseError:
    return ParseError(f"the parser failed: {type(error).__name__}: {error}"[:300])


def _answer_url(target: ApiTarget, plan: str | None, lang: str | None) -> str:
    query = urlencode({k: v for k, v in (("plan", plan), ("lang", lang)) if v})
    # The answers' address as stored and shown: without the endpoint's password.
    endpoint = public_url(target.endpoint)
    return f"{endpoint}?{query}" if query else endpoint


def _failed(
    url: str, started: datetime, exc: Exception, clock: float
) -> PageObservation:
    outcome = (
        FetchOutcome.NETWORK_ERROR
        if isinstance(exc, _Transient)
        else FetchOutcome.HTTP_ERROR
    )
    # The error names the endpoint already: "…/graphql: …/graphql: HTTP 501".
    endpoint = url.split("?", 1)[0]
    logger.warning("%s: %s", url, str(exc).removeprefix(f"{endpoint}: "))
    return PageObservation(
        url=url,
        fetched_at=started,
        fetch_outcome=outcome.value,
        status_code=None,
        body=None,
        duration=time.monotonic() - clock,
        error=str(exc),
    )


def cross_check(
    pages: Sequence[PageObservation], answers: Sequence[PageObservation]
) -> list[PageObservation]:
    """``pages`` with the anomalies the API's answers in their language reveal."""
    by_language: dict[str, dict[str, Action]] = {}
    for observation in answers:
        page = observation.page
        if page is not None and page.kind is PageKind.ACTION_LIST:
            by_language[page.language or ""] = {a.id: a for a in page.actions}
    checked = []
    for observation in pages:
        page = observation.page
        known = by_language.get(page.language or "") if page is not None else None
        if page is None or known is None or page.outcome is not Outcome.OK:
            checked.append(observation)
            continue
        found = api.cross_check(page, known)
        if found:
            page = msgspec.structs.replace(
                page, anomalies=page.anomalies + tuple(found)
            )
            observation = replace(observation, page=page)
        checked.append(observation)
    return checked


def with_api(
    source: SourceConfig,
    observations: list[PageObservation],
    loop: FetchLoop,
    settings: Settings,
) -> list[PageObservation]:
    """A check's observations with the API's, for sources of kind api or both.

    ``both``: the pages are cross-checked against the answers in their language.
    """
    if source.kind == "pages":
        return observations
    target = ApiTarget.of(source.api_site, source.api_url, source.languages)
    agent = FetchPolicy(
        user_agent=settings.user_agent, contact=settings.contact
    ).user_agent_header
    answers = loop.run(observe_api(target, user_agent=agent))
    if source.kind == "both":
        observations = cross_check(observations, answers)
    return [*observations, *answers]
