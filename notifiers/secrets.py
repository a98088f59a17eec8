"""Keeping target secrets out of every log line, error and stored message.

A target URL carries passwords and tokens. planwatch never prints one, but the
libraries under it do: Apprise logs whole URLs (an "Unparseable URL" error, its
debug dump of a parsed URL with the password percent-encoded), and urllib3 logs
request paths where webhook tokens live. So every secret planwatch loads is
registered here, and a logging filter on those libraries' loggers rewrites any
record that contains one, in any of the spellings a URL gives it, and in the
abbreviations Apprise's privacy mode makes of it (``S...Z``, ``...WXYZ``).

While Apprise reads a URL (:func:`apprise_muted`), its own log records are dropped
in that thread: a URL it cannot read is reported once, by planwatch's error.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "***"
# Parts shorter than this are not hunted for in free text (a port, "yes", a short
# user name would blank out half a message); passwords are, from this length on.
_MIN_PASSWORD = 3
_MIN_PART = 6

# Loggers of the libraries that send messages and may write a URL or a path.
LIBRARY_LOGGERS = ("apprise", "urllib3", "urllib3.connectionpool", "requests")

_lock = threading.Lock()
_known: set[str] = set()
_thread = threading.local()


def url_secrets(url: str) -> set[str]:
    """The parts of an Apprise URL that must never be shown, in every spelling."""
    found = {url}
    try:
        parts = urlsplit(url)
    except ValueError:
        return found | _spellings(url.split("://", 1)[-1])
    rest = url.split("://", 1)[-1]
    found |= _spellings(rest)
    if parts.password and len(unquote(parts.password)) >= _MIN_PASSWORD:
        found |= _spellings(parts.password) | _abbreviations(parts.password)
    if parts.username and len(unquote(parts.username)) >= _MIN_PART:
        found |= _spellings(parts.username) | _abbreviations(parts.username)
    netloc_host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    if not _looks_like_host(netloc_host) and len(netloc_host) >= _MIN_PART:
        # Services such as slack:// and tgram:// put a token where the host goes.
        found |= _spellings(netloc_host) | _abbreviations(netloc_host)
    for segment in parts.path.split("/"):
        if len(unquote(segment)) >= _MIN_PART:
            found |= _spellings(segment) | _abbreviations(segment)
    for pair in re.split(r"[&;]", parts.query):
        value = pair.split("=", 1)[-1]
        if len(unquote(value)) >= _MIN_PART:
            found |= _spellings(value) | _abbreviations(value)
    if parts.fragment and len(parts.fragment) >= _MIN_PART:
        found |= _spellings(parts.fragment)
    return found


def register(secrets: Iterable[str]) -> None:
    """Remember secrets so that redaction and the log filter know them."""
    with _lock:
        _known.update(s for s in secrets if s)
    install_log_filter()


def known() -> frozenset[str]:
    with _lock:
        return frozenset(_known)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and ``extra`` ones) masked."""
    secrets = sorted(known() | set(extra), key=len, reverse=True)
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text


def _spellings(value: str) -> set[str]:
    """A value as given, decoded, and encoded the ways URLs and logs show it."""
    raw = unquote(value)
    forms = {value, raw, quote(raw, safe=""), quote_plus(raw), quote(raw)}
    forms |= {f.lower() for f in forms if "%" in f}
    forms |= {re.sub(r"%[0-9a-f]{2}", lambda m: m[0].upper(), f) for f in forms}
    return {f for f in forms if f}


def _abbreviations(value: str) -> set[str]:
    """What Apprise's privacy mode shows of a value: first and last character
    (``S...Z``), or the last four (``...WXYZ``)."""
    raw = unquote(value)
    return {f"{raw[0]}...{raw[-1]}", f"...{raw[-4:]}"} if raw else set()


def _looks_like_host(host: str) -> bool:
    return host == "localhost" or "." in host or host.startswith("[")


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message holds a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_thread, "apprise_muted", False) and record.name == "apprise":
            return False
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the library's problem
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks quote exception messages; keep the type, drop the text.
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


@contextmanager
def apprise_muted() -> Iterator[None]:
    """Drop Apprise's log records in this thread while it reads a URL.

    A URL it cannot read is logged, with parts of the password, and then refused
    again by planwatch's own error: the caller's error is the one line. Other
    threads (deliveries to other targets) keep their logs.
    """
    install_log_filter()
    before = getattr(_thread, "apprise_muted", False)
    _thread.apprise_muted = True
    try:
        yield
    finally:
        _thread.apprise_muted = before


def install_log_filter(names: Iterable[str] = LIBRARY_LOGGERS) -> None:
    """Attach the redacting filter to the libraries' loggers (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
