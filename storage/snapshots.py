"""Snapshots: what each check saw of each page, stored compactly.

Kausal Watch pages are never byte-identical twice (every page embeds its render
time), so content addressing alone would store every page of every check: about
25 kB compressed per page. Instead a page's raw bytes and full fetch metadata are
stored as a new snapshot only when something about the page differs from its latest
snapshot: the status, the fetch or parse outcome, the language, the anomalies, or the
parsed content (the records the page shows, with the render time and the clock left
out). A page seen again unchanged costs nothing of its own: the check keeps the list
of pages it fetched (a shared ``page_sets`` row) and one or two bytes per page for its
duration (``checks.timings``). ``check_pages`` puts the full picture back together.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from parsers.jsonout import page_to_json
from parsers.records import ParsedPage
from storage import repo
from storage.models import Check, Page, PageSet, Snapshot

# Fetch outcomes (monitor.fetch.FetchOutcome) this module tells apart.
OK = "ok"
NOT_MODIFIED = "not_modified"

# Response headers worth keeping with a snapshot; the others (cookies, tracing ids,
# the middleware's rewrites) say nothing about the page.
KEPT_HEADERS = frozenset(
    {
        "age",
        "cache-control",
        "content-encoding",
        "content-language",
        "content-length",
        "content-type",
        "date",
        "etag",
        "expires",
        "last-modified",
        "location",
        "retry-after",
        "server",
    }
)


class FetchedPage(Protocol):
    """One page as one check saw it (``monitor.pipeline.PageObservation`` is one)."""

    @property
    def url(self) -> str: ...
    @property
    def fetched_at(self) -> datetime: ...
    @property
    def fetch_outcome(self) -> str: ...
    @property
    def status_code(self) -> int | None: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def page(self) -> ParsedPage | None: ...


@dataclass(frozen=True, slots=True)
class PageFetch:
    """One page of one check, as ``check_pages`` reports it."""

    url: str
    snapshot_id: int | None  # the snapshot holding this page's content and metadata
    new_snapshot: bool  # False: the page was as in an earlier check's snapshot
    fetched_at: datetime | None  # exact for new snapshots; else the check's time
    duration: float | None
    status_code: int | None
    fetch_outcome: str | None
    parse_outcome: str | None
    raw_kept: bool


def store_snapshots(
    session: Session, check: Check, fetched: Sequence[FetchedPage]
) -> list[Snapshot]:
    """Record what ``check`` saw; return the snapshots it added (changed pages)."""
    known = _known_pages(session, check.source_id, [f.url for f in fetched])
    new_pages = _add_pages(session, check.source_id, fetched, known)

    added = []
    for item in fetched:
        page_id, previous = known[item.url]
        facts = _Facts.of(item)
        if previous is not None and facts.same_as(previous):
            continue
        row = _snapshot_row(check, page_id, item, facts)
        row.blob_sha256 = (
            repo.store_blob(session, item.body, item.fetched_at) if item.body else None
        )
        session.add(row)
        added.append((page_id, row))
    session.flush()
    _point_pages_at(session, new_pages, added)

    check.page_set_id = _page_set(session, [known[f.url][0] for f in fetched]).id
    check.timings = encode_timings(
        [f.duration for f in fetched],
        [f.fetch_outcome == NOT_MODIFIED for f in fetched],
    )
    return [row for _, row in added]


# What `_Facts.same_as` compares, read as plain rows (a fraction of ORM objects'
# cost) together with each page's id.
_COMPARED = (
    Snapshot.status_code,
    Snapshot.fetch_outcome,
    Snapshot.parse_outcome,
    Snapshot.page_kind,
    Snapshot.language,
    Snapshot.content_hash,
    Snapshot.error,
    Snapshot.anomalies,
)

_Known = dict[str, tuple[int, "Row[Any] | None"]]  # url: (page id, latest snapshot)


# Built once, run with each check's values (see monitor.settled: building them
# anew cost about as much as running them).
_KNOWN_PAGES = (
    select(Page.id.label("page_id"), Page.url, Snapshot.id, *_COMPARED)
    .outerjoin(Snapshot, Snapshot.id == Page.latest_snapshot_id)
    .where(
        Page.source_id == bindparam("source"),
        Page.url.in_(bindparam("urls", expanding=True)),
    )
)
_PAGE_SET = select(PageSet).where(PageSet.digest == bindparam("digest"))


def _known_pages(session: Session, source_id: int, urls: Sequence[str]) -> _Known:
    wanted = {"source": source_id, "urls": list(set(urls))}
    rows = session.execute(_KNOWN_PAGES, wanted)
    return {row.url: (row.page_id, row if row.id is not None else None) for row in rows}


def _add_pages(
    session: Session, source_id: int, fetched: Sequence[FetchedPage], known: _Known
) -> dict[int, Page]:
    """Pages seen for the first time, added to ``known``; by id."""
    new = {}
    for item in fetched:
        if item.url not in known and item.url not in new:
            new[item.url] = Page(source_id=source_id, url=item.url)
            session.add(new[item.url])
    if not new:
        return {}
    session.flush()
    for url, page in new.items():
        known[url] = (page.id, None)
    return {page.id: page for page in new.values()}


def _point_pages_at(
    session: Session, new_pages: dict[int, Page], added: list[tuple[int, Snapshot]]
) -> None:
    """Each page's latest snapshot is the one just added, if any."""
    known = []
    for page_id, row in added:
        if page_id in new_pages:
            new_pages[page_id].latest_snapshot_id = row.id
        else:
            known.append({"page": page_id, "snapshot": row.id})
    if known:
        session.connection().execute(
            update(Page)
            .where(Page.id == bindparam("page"))
            .values(latest_snapshot_id=bindparam("snapshot")),
            known,
        )


def _page_set(session: Session, page_ids: list[int]) -> PageSet:
    digest = hashlib.sha256(",".join(map(str, page_ids)).encode()).hexdigest()
    row = session.scalar(_PAGE_SET, {"digest": digest})
    if row is None:
        row = PageSet(digest=digest, page_ids={"ids": page_ids})
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True, slots=True)
class _Facts:
    """What decides whether a page differs from its latest snapshot."""

    status_code: int | None
    fetch_outcome: str
    parse_outcome: str | None
    page_kind: str | None
    language: str | None
    content_hash: str | None
    error: str | None
    anomalies: dict[str, list[str]] | None

    @classmethod
    def of(cls, item: FetchedPage) -> _Facts:
        parsed = item.page
        return cls(
            status_code=item.status_code,
            fetch_outcome=item.fetch_outcome,
            parse_outcome=parsed.outcome.value if parsed else None,
            page_kind=parsed.kind.value if parsed else None,
            language=parsed.language if parsed else None,
            content_hash=content_fingerprint(parsed, item.body),
            error=item.error,
            anomalies=(
                {"items": [f"{a.code}: {a.detail}" for a in parsed.anomalies]}
                if parsed and parsed.anomalies
                else None
            ),
        )

    def same_as(self, stored: Row[Any]) -> bool:
        return (
            stored.content_hash is not None
            and stored.content_hash == self.content_hash
            and _answer(stored.status_code, stored.fetch_outcome)
            == _answer(self.status_code, self.fetch_outcome)
            and stored.parse_outcome == self.parse_outcome
            and stored.page_kind == self.page_kind
            and stored.language == self.language
            and stored.error == self.error
            and stored.anomalies == self.anomalies
        )


def _snapshot_row(
    check: Check, page_id: int, item: FetchedPage, facts: _Facts
) -> Snapshot:
    return Snapshot(
        check_id=check.id,
        page_id=page_id,
        url=item.url,
        fetched_at=item.fetched_at,
        duration=item.duration,
        status_code=facts.status_code,
        fetch_outcome=facts.fetch_outcome,
        parse_outcome=facts.parse_outcome,
        page_kind=facts.page_kind,
        language=facts.language,
        content_hash=facts.content_hash,
        headers=kept_headers(item.headers) or None,
        error=facts.error,
        anomalies=facts.anomalies,
    )


def _answer(status_code: int | None, fetch_outcome: str) -> tuple[int | None, str]:
    # A 304 carries the page the check reused: when its records are the same, it is
    # the stored answer again (the check's timings note that it was a 304).
    if fetch_outcome == NOT_MODIFIED:
        return 200, OK
    return status_code, fetch_outcome


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS}


def content_fingerprint(page: ParsedPage | None, body: bytes | None) -> str | None:
    """A hash of what the page shows, blind to the clock.

    Parsed pages hash their records without the observation time; an interval read
    from a relative time ("3 days ago") counts as its distance from the observation
    time, so it changes when the text does, not when the clock moves. Pages that did
    not parse hash their raw bytes.
    """
    if page is None:
        return None if body is None else hashlib.sha256(body).hexdigest()
    return _FINGERPRINTS.get(page)


def _page_fingerprint(page: ParsedPage) -> str:
    data = page_to_json(page)
    data.pop("observed_at", None)
    for action in data["actions"]:
        action["updated_at"] = _relative(action.get("updated_at"), page.observed_at)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Remembered:
    """Fingerprints of recent parses: a parse reused by a 304 is hashed once.

    Keyed by identity (a ParsedPage is frozen); each entry holds its page, so an id
    is not reused while it is remembered.
    """

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[int, tuple[ParsedPage, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, page: ParsedPage) -> str:
        with self._lock:
            found = self._items.get(id(page))
            if found is not None and found[0] is page:
                self._items.move_to_end(id(page))
                return found[1]
        digest = _page_fingerprint(page)
        with self._lock:
            self._items[id(page)] = (page, digest)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return digest


_FINGERPRINTS = _Remembered(50_000)


def _relative(span: Any, observed_at: datetime) -> Any:
    if not isinstance(span, dict) or span.get("exact"):
        return span
    moment = observed_at.timestamp()
    return {
        "ago": [
            None if span.get(end) is None else moment - _stamp(span[end])
            for end in ("earliest", "latest")
        ]
    }


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def encode_timings(
    durations: Sequence[float | None], revalidated: Sequence[bool] = ()
) -> bytes:
    """Per page, a varint: centiseconds plus one (0: unknown), times two, plus one
    when the server answered 304 Not Modified.

    A page fetched in under 0.63 s costs one byte.
    """
    out = bytearray()
    for index, duration in enumerate(durations):
        value = 0 if duration is None else round(max(duration, 0.0) * 100) + 1
        value = value * 2 + int(index < len(revalidated) and revalidated[index])
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def decode_timings(data: bytes | None) -> list[tuple[float | None, bool]]:
    """(duration in seconds or None, whether the answer was a 304) per page."""
    pages: list[tuple[float | None, bool]] = []
    value = shift = 0
    for byte in data or b"":
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte & 0x80:
            continue
        centis, revalidated = divmod(value, 2)
        pages.append((None if centis == 0 else (centis - 1) / 100, bool(revalidated)))
        value = shift = 0
    return pages


def check_pages(session: Session, check: Check) -> list[PageFetch]:
    """Every page ``check`` fetched, with the snapshot that holds what it saw."""
    mine = select(Snapshot).where(Snapshot.check_id == check.id)
    own = {row.page_id: row for row in session.scalars(mine)}
    page_set = session.get(PageSet, check.page_set_id) if check.page_set_id else None
    if page_set is None:  # checks stored before 0002: one snapshot per page
        return [_fetch(row, row.duration) for row in own.values()]

    ids: list[int] = list(page_set.page_ids["ids"])
    timings = decode_timings(check.timings)
    result = []
    for index, page_id in enumerate(ids):
        duration, revalidated = (
            timings[index] if index < len(timings) else (None, False)
        )
        if page_id in own:
            result.append(_fetch(own[page_id], duration))
            continue
        earlier = session.scalar(
            select(Snapshot)
            .where(Snapshot.page_id == page_id, Snapshot.check_id < check.id)
            .order_by(Snapshot.id.desc())
            .limit(1)
        )
        page = session.get(Page, page_id)
        status, outcome = (
            (304, NOT_MODIFIED)
            if revalidated
            else (earlier.status_code, earlier.fetch_outcome)
            if earlier
            else (None, None)
        )
        result.append(
            PageFetch(
                url=page.url if page else "",
                snapshot_id=earlier.id if earlier else None,
                new_snapshot=False,
                fetched_at=check.observed_at,
                duration=duration,
                status_code=status,
                fetch_outcome=outcome,
                parse_outcome=earlier.parse_outcome if earlier else None,
                raw_kept=bool(earlier and earlier.blob_sha256),
            )
        )
    return result


def _fetch(row: Snapshot, duration: float | None) -> PageFetch:
    return PageFetch(
        url=row.url,
        snapshot_id=row.id,
        new_snapshot=True,
        fetched_at=row.fetched_at,
        duration=duration,
        status_code=row.status_code,
        fetch_outcome=row.fetch_outcome,
        parse_outcome=row.parse_outcome,
        raw_kept=row.blob_sha256 is not None,
    )
