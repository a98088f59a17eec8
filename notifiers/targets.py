"""Notification targets: an Apprise URL behind a name, never shown in full."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Target:
    """Where messages go. ``repr``/``str`` show the name and scheme only."""

    name: str
    url: str = field(repr=False)
    language: str = "en"

    def __post_init__(self) -> None:
        if not _SCHEME.match(self.url):
            raise ValueError(
                f"target {self.name!r}: not an Apprise URL "
                f"(expected scheme://..., got {mask(self.url)!r})"
            )

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower()

    def __str__(self) -> str:
        return f"{self.name} ({self.scheme}://…)"

    def __repr__(self) -> str:
        return f"Target(name={self.name!r}, url={mask(self.url)!r})"


def mask(url: str) -> str:
    """A URL with everything after the host hidden: safe for logs and errors."""
    if "://" not in url:
        return "***"
    scheme = url.split("://", 1)[0]
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return f"{scheme}://{host}/***" if host else f"{scheme}://***"


def redact(text: str, secrets: list[str]) -> str:
    """Remove every known secret (and its host-less parts) from a message."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
            for part in _secret_parts(secret):
                text = text.replace(part, "***")
    return text


def _secret_parts(url: str) -> list[str]:
    # Apprise errors may quote a token or password alone, without the URL around it.
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [p for p in (parts.password, parts.username) if p and len(p) >= 4]
    found += [seg for seg in parts.path.split("/") if len(seg) >= 8]
    found += [q.split("=", 1)[-1] for q in parts.query.split("&") if len(q) >= 8]
    return found
