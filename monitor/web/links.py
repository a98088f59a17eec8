"""Addresses of the web view's pages, feeds and API, and which scraped URLs may
become links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from monitor.web.queries import ChangeView


@dataclass(frozen=True, slots=True)
class Links:
    """Where things are, relative to where the app is mounted (``root``) or
    absolute (``origin`` + ``root``) for feeds and the API."""

    origin: str
    root: str

    @classmethod
    def of(cls, request: Request) -> Links:
        url = request.url
        return cls(f"{url.scheme}://{url.netloc}", request.scope.get("root_path", ""))

    def path(self, *segments: str, suffix: str = "") -> str:
        return self.root + "/" + "/".join(quote(s, safe="") for s in segments) + suffix

    def absolute(self, path: str) -> str:
        return self.origin + path

    def home(self) -> str:
        return self.root + "/"

    def sources(self) -> str:
        return self.path("sources")

    def source(self, name: str) -> str:
        return self.path("sources", name)

    def organization(self, source: str, org_id: str) -> str:
        return self.path("sources", source, "organizations", org_id)

    def action(self, source: str, action_id: str) -> str:
        return self.path("sources", source, "actions", action_id)

    def feed(self) -> str:
        return self.path("feeds", "changes.atom")

    def source_feed(self, source: str) -> str:
        return self.path("feeds", "sources", source, suffix=".atom")

    def organization_feed(self, source: str, org_id: str) -> str:
        return self.path(
            "feeds", "sources", source, "organizations", org_id, suffix=".atom"
        )

    def action_feed(self, source: str, action_id: str) -> str:
        return self.path(
            "feeds", "sources", source, "actions", action_id, suffix=".atom"
        )

    def static(self, name: str) -> str:
        return self.path("static", name)

    def api(self, *segments: str) -> str:
        return self.path("api", *segments)

    def change_page(self, change: ChangeView) -> str:
        if change.action_id is not None:
            return self.action(change.source, change.action_id)
        if change.organization_id is not None:
            return self.organization(change.source, change.organization_id)
        return self.source(change.source)


def is_web_url(value: object) -> bool:
    """Only http(s) URLs become links: a scraped ``javascript:`` URL stays text."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)
