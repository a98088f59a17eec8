"""What a site's pages link to: the pure half of site discovery.

``sitemap.xml`` lists the site's action pages (never its organization pages), in
the primary language; the action list shows every public action; an action page
names its responsible organizations. From these, ``site_pages`` builds the page
URLs of one site prefix (its language and base path), whatever language the links
themselves were in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from parsers.records import ParsedPage

# The blanks around a location are stripped afterwards: a lazy match that left them
# to `\s*</loc>` tried them again after each character (40 kB of them: 1.4 s).
_LOC = re.compile(r"<(url|sitemap)>\s*<loc>([^<]*)</loc>", re.I)
_ACTION = re.compile(r"/actions/([^/?#]+)/?$")


@dataclass(frozen=True, slots=True)
class Sitemap:
    pages: tuple[str, ...]  # <url><loc>
    sitemaps: tuple[str, ...]  # <sitemap><loc> of a sitemap index


def parse_sitemap(body: bytes | str) -> Sitemap:
    """The URLs a sitemap (or a sitemap index) lists; anything else lists none."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    pages: list[str] = []
    nested: list[str] = []
    for kind, loc in _LOC.findall(text):
        if loc := loc.strip():
            (nested if kind.lower() == "sitemap" else pages).append(html.unescape(loc))
    return Sitemap(tuple(pages), tuple(nested))


def action_identifiers(urls: Iterable[str]) -> list[str]:
    """The identifiers of the action pages among ``urls``, in order, once each."""
    found: dict[str, None] = {}
    for url in urls:
        match = _ACTION.search(urlsplit(url).path)
        if match:
            found.setdefault(unquote(match.group(1)), None)
    return list(found)


def organization_ids(pages: Iterable[ParsedPage]) -> list[str]:
    """Organizations the pages' actions name (responsible parties, primary org)."""
    found: dict[str, None] = {}
    for page in pages:
        if page.organization is not None and page.organization.id is not None:
            found.setdefault(page.organization.id, None)
        for action in page.actions:
            for party in action.responsible_parties or ():
                found.setdefault(party.organization_id, None)
            if action.primary_org_id is not None:
                found.setdefault(action.primary_org_id, None)
    return sorted(found, key=_natural)


def filtered(url: str) -> bool:
    """Whether an action list's URL asks for part of the plan (?organization=...,
    a search); ``view`` only chooses cards or the dashboard, every action shown."""
    return bool(set(parse_qs(urlsplit(url).query)) - {"view"})


def public_url(url: str) -> str:
    """``url`` without the user name and password a page behind basic auth is
    fetched with: the actions' links, built from it, are shown to all."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def action_url(prefix: str, identifier: str) -> str:
    return f"{prefix.rstrip('/')}/actions/{quote(identifier, safe='-._~')}"


def organization_url(prefix: str, org_id: str) -> str:
    return f"{prefix.rstrip('/')}/organizations/{quote(org_id, safe='-._~')}"


def site_pages(
    prefix: str, identifiers: Iterable[str], organizations: Iterable[str]
) -> list[str]:
    """The action list, every action page and every organization page of a site."""
    pages = [f"{prefix.rstrip('/')}/actions"]
    pages += [action_url(prefix, i) for i in sorted(set(identifiers), key=_natural)]
    pages += [
        organization_url(prefix, o) for o in sorted(set(organizations), key=_natural)
    ]
    return pages


def _natural(value: str) -> tuple[int, str, str]:
    head = re.match(r"\d+", value)
    return (int(head.group(0)) if head else 1 << 30, value if not head else "", value)
