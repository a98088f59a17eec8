"""Reading saved pages out of WARC files, the format web archives use.

Each ``response`` record of an HTML page becomes one ``ArchivedPage`` at the record's
WARC-Date. ``group_crawls`` cuts a time-ordered stream of pages into crawls, so that
each crawl is imported as one check (a check sees all of a source's pages together).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed

from parsers.data import utc_time
from parsers.errors import PlanwatchError

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
_STATUS = re.compile(r"[0-9]{3}")
# The largest body read from an archive; planwatch passes its fetch limit.
MAX_BODY_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArchivedPage:
    url: str
    observed_at: datetime
    status_code: int | None
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WarcReport:
    """What a WARC file held besides the pages read from it."""

    pages: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> records


def looks_like_warc(path: Path) -> bool:
    if path.name.endswith((".warc", ".warc.gz")):
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return head.startswith(b"WARC/") or head.startswith(b"\x1f\x8b")


def read_warc(
    path: Path, max_body: int = MAX_BODY_BYTES
) -> tuple[list[ArchivedPage], WarcReport]:
    """Every HTML response in ``path``, oldest first; a body over ``max_body``
    bytes (as the archive holds it, before any gzip inside it is opened) is an
    error naming its record."""
    pages: list[ArchivedPage] = []
    skipped: dict[str, int] = {}
    try:
        with path.open("rb") as handle:
            for number, record in enumerate(ArchiveIterator(handle), start=1):
                if not record.rec_headers.get_header("WARC-Type"):
                    raise PlanwatchError(f"{path}, record {number}: no WARC-Type")
                reason = _skip_reason(record)
                page = _page(path, number, record, max_body) if not reason else None
                if page is None:
                    reason = reason or "responses the file ends inside of"
                    skipped[reason] = skipped.get(reason, 0) + 1
                    continue
                pages.append(page)
    except OSError as exc:
        raise PlanwatchError(f"cannot read {path}: {exc.strerror}") from None
    except ArchiveLoadFailed as exc:
        raise PlanwatchError(
            f"{path}: not a readable WARC file: {_load_failure(path, exc)}"
        ) from None
    pages.sort(key=lambda p: p.observed_at)
    return pages, WarcReport(pages=len(pages), skipped=skipped)


def _load_failure(path: Path, exc: ArchiveLoadFailed) -> str:
    """warcio's reason without the raw line it quotes (binary, in a junk file),
    and the file's first bytes as a short escaped repr instead."""
    reason = str(getattr(exc, "msg", None) or exc).split(", first line")[0]
    reason = ascii(reason)[1:-1][:60]
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return reason
    return f"{reason}; it begins {head!r}"


def _skip_reason(record: object) -> str | None:
    rec_type = getattr(record, "rec_type", None)
    if rec_type != "response":
        return f"{rec_type} records"
    http = getattr(record, "http_headers", None)
    if http is None:
        return "responses without HTTP headers"
    content_type = (http.get_header("Content-Type") or "").split(";")[0].strip()
    if content_type.lower() not in HTML_TYPES:
        return f"{content_type or 'untyped'} responses"
    return None


def _page(
    path: Path, number: int, record: object, max_body: int
) -> ArchivedPage | None:
    """The page a response holds; None when the file ends inside the record (a
    copy cut short), whose page would be read as a page cut short."""
    headers = record.rec_headers  # type: ignore[attr-defined]
    http = record.http_headers  # type: ignore[attr-defined]
    where = f"{path}, record {number}"
    url = headers.get_header("WARC-Target-URI")
    if not url:
        raise PlanwatchError(f"{where}: response without WARC-Target-URI")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlanwatchError(
            f"{where}: WARC-Target-URI {url[:200]!r} is not an http(s) URL"
        )
    observed_at = _warc_date(where, headers.get_header("WARC-Date"))
    _check_encoding(f"{where} ({url[:200]})", http.get_header("Content-Encoding"))
    status = _status(f"{where} ({url[:200]})", http.get_statuscode())
    body = record.content_stream().read(max_body + 1)  # type: ignore[attr-defined]
    if len(body) > max_body:
        raise PlanwatchError(
            f"{where} ({url[:200]}): body larger than {max_body} bytes, the limit "
            "a fetched page has"
        )
    # The body was read to its end: bytes the record's Content-Length promised
    # and warcio did not get mean the file ended first.
    if getattr(record.raw_stream, "limit", 0) > 0:  # type: ignore[attr-defined]
        return None
    return ArchivedPage(
        url=url,
        observed_at=observed_at,
        status_code=status,
        headers={name.lower(): value for name, value in http.headers},
        body=body,
    )


def _check_encoding(where: str, value: str | None) -> None:
    # warcio opens the encodings it has a decompressor for and hands any other
    # body over still compressed, which would be read as a page that is no page.
    encoding = (value or "").strip().lower()
    if encoding in ("", "identity"):
        return
    if encoding not in BufferedReader.get_supported_decompressors():
        raise PlanwatchError(
            f"{where}: the body is {encoding[:40]!r}-compressed (Content-Encoding), "
            "which planwatch cannot open here (for br: pip install brotli); "
            "nothing was imported"
        )


def _status(where: str, value: str | None) -> int | None:
    # str.isdigit took '²00' (int() does not) and any length (SQLite's INTEGER
    # does not); an HTTP status is three ASCII digits.
    if not value:
        return None
    if not _STATUS.fullmatch(value):
        raise PlanwatchError(
            f"{where}: HTTP status {value[:40]!r} is not a three-digit status code"
        )
    return int(value)


def _warc_date(where: str, value: str | None) -> datetime:
    if not value:
        raise PlanwatchError(f"{where}: response without WARC-Date")
    try:
        return utc_time(value)
    except ValueError:
        raise PlanwatchError(f"{where}: WARC-Date is not ISO-8601: {value!r}") from None
    except OverflowError:
        raise PlanwatchError(
            f"{where}: WARC-Date {value!r} is outside the years 1 to 9999 in UTC"
        ) from None


def group_crawls(
    pages: Iterable[ArchivedPage], gap: timedelta
) -> Iterator[list[ArchivedPage]]:
    """Cut time-ordered pages into crawls wherever ``gap`` passes with no page.

    A URL seen twice also starts a new crawl: one check sees each page once.
    """
    crawl: list[ArchivedPage] = []
    urls: set[str] = set()
    for page in pages:
        if crawl and (
            page.observed_at - crawl[-1].observed_at > gap or page.url in urls
        ):
            yield crawl
            crawl, urls = [], set()
        crawl.append(page)
        urls.add(page.url)
    if crawl:
        yield crawl
