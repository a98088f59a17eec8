"""Notification targets: an Apprise URL behind a name, never shown in full.

A target is given either as a whole Apprise URL or as structured fields (scheme,
host, user, password, recipients) that :func:`build_url` assembles with the
percent-encoding Apprise expects, so a password holding ``@ / % ; :`` works as it
is. Every URL is registered with :mod:`notifiers.secrets` the moment a target is
made, before Apprise (which logs URLs) ever sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, urlsplit

import apprise

from notifiers import secrets

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
FORMATS = ("text", "markdown", "html")
LANGUAGES = ("en", "fi", "sv", "de")
# Schemes whose recipients are e-mail addresses in ``?to=``; elsewhere recipients
# (channels, topics, chat ids, phone numbers) are path segments.
MAIL_SCHEMES = frozenset({"mailto", "mailtos"})
# Webhook schemes that take extra HTTP headers as ``+Name=value`` parameters.
HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})


@dataclass(frozen=True, slots=True)
class Target:
    """Where messages go. ``repr``/``str`` show the name and scheme only.

    ``body_format`` is what the Apprise service takes natively (e-mail: HTML,
    Slack: Markdown, ntfy: text, ...) unless the config chose one.
    """

    name: str
    url: str = field(repr=False)
    language: str = "en"
    body_format: str = ""

    def __post_init__(self) -> None:
        if not _SCHEME.match(self.url):
            raise ValueError(
                f"target {self.name!r}: not an Apprise URL "
                f"(expected scheme://..., got {mask(self.url)!r})"
            )
        secrets.register(secrets.url_secrets(self.url))
        if self.body_format and self.body_format not in FORMATS:
            raise ValueError(
                f"target {self.name!r}: format {self.body_format!r} is not one of "
                f"{', '.join(FORMATS)}"
            )
        if not self.body_format:
            object.__setattr__(self, "body_format", native_format(self))

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower()

    def __str__(self) -> str:
        return f"{self.name} ({mask(self.url)})"

    def __repr__(self) -> str:
        return f"Target(name={self.name!r}, url={mask(self.url)!r})"


def native_format(target: Target) -> str:
    """The body format the target's Apprise service prefers."""
    return _format_of(target.name, target.url)


@lru_cache(maxsize=256)
def _format_of(name: str, url: str) -> str:
    with secrets.apprise_muted():  # its "Unparseable URL" shows parts of secrets
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValueError(
            f"target {name!r}: Apprise does not accept its URL ({mask(url)}); "
            "check the scheme and the fields the service needs"
        )
    preferred = plugin.notify_format
    if isinstance(preferred, tuple | list):
        preferred = preferred[0]
    value = str(getattr(preferred, "value", preferred))
    return value if value in FORMATS else "text"


def build_url(
    *,
    scheme: str,
    host: str,
    port: int | None = None,
    user: str | None = None,
    password: str | None = None,
    path: Sequence[str] = (),
    recipients: Sequence[str] = (),
    params: Mapping[str, str] | None = None,
) -> str:
    """Assemble an Apprise URL from fields, each percent-encoded where it goes."""
    auth = ""
    if user is not None:
        auth = _enc(user)
        if password is not None:
            auth += ":" + _enc(password)
        auth += "@"
    elif password is not None:
        auth = ":" + _enc(password) + "@"
    location = host if port is None else f"{host}:{port}"
    segments = [_enc(p) for p in path]
    query = dict(params or {})
    if recipients and scheme.lower() in MAIL_SCHEMES:
        query["to"] = ",".join(recipients)
    elif recipients:
        segments += [_enc(r) for r in recipients]
    url = f"{scheme}://{auth}{location}/" + "/".join(segments)
    if query:
        url += "?" + "&".join(f"{_enc(k)}={_enc(v)}" for k, v in query.items())
    return url


def with_header(target: Target, name: str, value: str) -> str:
    """The target's URL with one extra HTTP header, where the service takes one."""
    if target.scheme not in HEADER_SCHEMES:
        return target.url
    joiner = "&" if "?" in target.url else "?"
    return f"{target.url}{joiner}{_enc('+' + name, safe='+')}={_enc(value)}"


def mask(url: str) -> str:
    """A URL with everything after the host hidden: safe for logs and errors."""
    if "://" not in url:
        return secrets.MASK
    scheme = url.split("://", 1)[0]
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if host and not ("." in host or host == "localhost" or ":" in host):
        host = ""  # a token in the host's place (slack://, tgram://)
    return f"{scheme}://{host}/{secrets.MASK}" if host else f"{scheme}://{secrets.MASK}"


def _enc(value: str, safe: str = "") -> str:
    return quote(value, safe=safe)
