"""robots.txt rules for one origin, as the fetcher caches them.

Only an answered robots.txt can forbid anything. A missing file (4xx), an unreachable
one and a server error (5xx) all mean "allowed": planwatch reads a handful of public
pages, and a site that cannot serve its robots.txt should not silence the watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx
from protego import Protego

# RFC 9309 lets crawlers stop reading after 500 KiB.
MAX_ROBOTS_BYTES = 500 * 1024

# A crawl-delay above this is treated as this; a site asking for an hour between
# requests would otherwise stall every check of it.
MAX_CRAWL_DELAY = 60.0


class RobotsSource(StrEnum):
    FILE = "file"
    MISSING = "missing"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """What one origin's robots.txt allows, and when it was read."""

    source: RobotsSource
    loaded_at: float
    parser: Protego | None = None

    @classmethod
    def parse(cls, text: str, loaded_at: float) -> RobotsRules:
        return cls(RobotsSource.FILE, loaded_at, Protego.parse(text))

    def allows(self, url: str, agent: str) -> bool:
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, agent))

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return None if delay is None else min(float(delay), MAX_CRAWL_DELAY)


def origin_of(url: httpx.URL) -> str:
    """scheme://host[:port], the unit robots.txt applies to."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def robots_url(url: httpx.URL) -> httpx.URL:
    return httpx.URL(origin_of(url) + "/robots.txt")


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups match against: "planwatch/0.1 (...)" ->
    "planwatch"."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0].strip() or user_agent
