"""Site discovery: from a site root to the pages worth watching.

``site = "https://ilmastovahti.espoo.fi/en"`` in a source stands for the site's
action list, every action page (from ``sitemap.xml`` and the action list) and every
organization page the action pages name (the sitemap lists no organization pages).

When: at check time. The config seeds the source's pages with the action list, so a
source is valid before anything is fetched; a check then expands the site, through
the same polite fetcher as every page, and reuses what it found for
``discover_hours`` (24 by default): discovery reads every action page, which a check
does anyway, but not every hour. If discovery fails, the last list found (else the
configured pages) is used, and the failure is logged; a later check tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from monitor.config import SourceConfig
from monitor.fetch import Fetcher, FetchResult, redact_url
from monitor.pipeline import read_page
from monitor.workers import FetchLoop
from parsers.records import Outcome, PageKind, ParsedPage
from parsers.sitemap import (
    action_identifiers,
    organization_ids,
    parse_sitemap,
    site_pages,
)

logger = logging.getLogger(__name__)

MAX_SITEMAPS = 5  # nested sitemaps of a sitemap index, read at most


@dataclass(frozen=True, slots=True)
class Discovery:
    site: str
    pages: tuple[str, ...]
    actions: int
    organizations: int
    found_at: datetime
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        problems = f"; {'; '.join(self.problems)}" if self.problems else ""
        return (
            f"{redact_url(self.site)}: {len(self.pages)} pages "
            f"({self.actions} actions, {self.organizations} organizations){problems}"
        )


async def discover_site(fetcher: Fetcher, site: str) -> Discovery:
    """Find the pages of ``site`` (a site root, with its language and base path)."""
    prefix = site.rstrip("/")
    parts = urlsplit(prefix)
    origin = f"{parts.scheme}://{parts.netloc}"
    problems: list[str] = []

    identifiers = await _from_sitemap(fetcher, f"{origin}/sitemap.xml", problems)
    listing = await _parse(fetcher, f"{prefix}/actions", problems)
    if listing is not None and listing.kind is PageKind.ACTION_LIST:
        identifiers += [a.identifier for a in listing.actions if a.identifier]
    elif listing is not None:
        problems.append(
            f"{redact_url(prefix + '/actions')} is not an action list ({listing.kind})"
        )

    action_pages: list[ParsedPage] = []
    for url in site_pages(prefix, identifiers, ())[1:]:
        page = await _parse(fetcher, url, problems)
        if page is not None and page.kind is PageKind.ACTION:
            action_pages.append(page)
    organizations = organization_ids(action_pages + ([listing] if listing else []))
    # An action the sitemap lists but whose page is gone is not watched.
    alive = [a.identifier for p in action_pages for a in p.actions if a.identifier]
    if listing is not None and listing.kind is PageKind.ACTION_LIST:
        alive += [a.identifier for a in listing.actions if a.identifier]
    pages = site_pages(prefix, alive, organizations)
    found = Discovery(
        site=prefix,
        pages=tuple(pages),
        actions=len(set(alive)),
        organizations=len(organizations),
        found_at=datetime.now(UTC),
        problems=tuple(problems),
    )
    logger.info("discovered %s", found.describe())
    return found


async def _from_sitemap(fetcher: Fetcher, url: str, problems: list[str]) -> list[str]:
    queue, identifiers, read = [url], [], 0
    while queue and read < MAX_SITEMAPS:
        result = await fetcher.fetch(queue.pop(0))
        read += 1
        if not result.ok:
            problems.append(_failure(result))
            continue
        sitemap = parse_sitemap(result.body)
        identifiers += action_identifiers(sitemap.pages)
        queue += list(sitemap.sitemaps)
    return identifiers


def _failure(result: FetchResult) -> str:
    # The fetcher's errors already start with the page's URL (redacted, as here:
    # a site behind basic auth has its password in every URL); say it once.
    shown = redact_url(result.url)
    if result.error and shown in result.error:
        return result.error
    return f"{shown}: {result.error or result.outcome.value}"


async def _parse(fetcher: Fetcher, url: str, problems: list[str]) -> ParsedPage | None:
    result: FetchResult = await fetcher.fetch(url)
    if not result.ok:
        problems.append(_failure(result))
        return None
    page = read_page(
        result.text if result.text is not None else result.body,
        url,
        date_header=result.headers.get("date"),
    )
    if page.outcome is not Outcome.OK:
        problems.append(f"{redact_url(url)}: {page.outcome.value}")
        return None
    return page


class SiteCache:
    """What discovery found per site, reused for a while; one per process."""

    def __init__(self) -> None:
        self._found: dict[str, Discovery] = {}
        self._lock = threading.Lock()

    def pages(
        self,
        site: str,
        loop: FetchLoop,
        *,
        configured: Sequence[str] = (),
        max_age: timedelta = timedelta(hours=24),
        now: datetime | None = None,
    ) -> list[str]:
        """The site's pages (and the configured ones), discovering when stale."""
        now = now or datetime.now(UTC)
        with self._lock:
            known = self._found.get(site)
        if known is None or now - known.found_at >= max_age:
            try:
                found = loop.run(discover_site(loop.fetcher, site))
            except Exception:
                logger.exception("discovering %s failed", site)
                found = None
            if found is not None and len(found.pages) > 1:
                known = found
                with self._lock:
                    self._found[site] = found
            elif found is not None:
                logger.warning("discovery found nothing at %s", found.describe())
        pages = list(dict.fromkeys([*configured, *(known.pages if known else ())]))
        return pages or list(configured)


def source_pages(source: SourceConfig, loop: FetchLoop, cache: SiteCache) -> list[str]:
    """The pages a check of ``source`` fetches (none for ``kind = "api"``)."""
    if source.kind == "api":
        return []
    if source.site is None:
        return list(source.pages)
    return cache.pages(
        source.site,
        loop,
        configured=source.pages,
        max_age=timedelta(hours=source.discover_hours),
    )
