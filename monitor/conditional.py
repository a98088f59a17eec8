"""Conditional requests, and pages seen again unchanged.

For every page planwatch keeps the validators of its latest full answer (ETag,
Last-Modified: table ``page_validators``) and sends them back. A page is *unchanged*
when its server answers 304 Not Modified, or answers 200 with a body whose normalised
hash (`body_hash`: the body without its render time and tracing ids) equals that of
the body planwatch last parsed. Servers that never send validators (Kausal Watch
sends none, and ``cache-control: no-store``) are covered by the second rule.

An unchanged page is not parsed again: its observation carries the page's last
parsed result, so the check sees exactly what a full fetch would have shown. Its
actions are neither missing (removal needs an action seen nowhere) nor changed, and
the page counts as read, not failed. The parsed results live in this process's
memory (`PageMemory`); a process without one for a page (a one-shot ``check``, a
process new to a source) parses the page's latest stored body instead, and sends
validators only when there is such a body.

A server may answer 304 wrongly. Each page is fetched in full at least every
`FULL_FETCH_EVERY`, and whatever the answer, what is stored is decided by comparing
parsed records with the stored state, never by the status alone.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from monitor.charset import decode_body
from monitor.fetch import Fetcher, FetchOutcome, FetchResult, Validators, redact_url
from monitor.pipeline import PageObservation, observation, parse_fetched, read_page
from parsers.records import ParsedPage
from storage import repo
from storage.db import Database
from storage.models import Page, PageValidators, Snapshot, Source

logger = logging.getLogger(__name__)

FULL_FETCH_EVERY = timedelta(days=1)
MAX_REMEMBERED = 50_000

# Parts of a body that change on every request while the page stays the same: the
# render time in the embedded data (escaped inside the flight payload:
# \"now\":\"$D2026-12-03T16:07:04.039Z) and, in the head, today's UI's Sentry
# tracing meta tags. Row ids that today's UI renumbers per request are not among
# them: such pages hash differently each time and are parsed.
_RENDER_TIME = b'now\\":\\"$D'
_TIMESTAMP = re.compile(rb"[0-9T:.Z+-]{10,40}")
_TRACING = re.compile(rb'<meta name="(?:sentry-trace|baggage)" content="[^"]{0,2000}')
_HEAD = 64 * 1024


def body_hash(body: bytes) -> str:
    """SHA-256 of ``body`` with what changes on every request left out."""
    digest = hashlib.sha256()
    view = memoryview(body)
    position = 0
    for start, end in sorted(_volatile(body)):
        digest.update(view[position:start])
        position = max(position, end)
    digest.update(view[position:])
    return digest.hexdigest()


def _volatile(body: bytes) -> Iterator[tuple[int, int]]:
    # bytes.find and a pattern anchored at a literal: a 300 kB page costs well
    # under a millisecond, most of it the hash itself.
    for match in _TRACING.finditer(body, 0, _HEAD):
        yield match.start(), match.end()
    found = body.find(_RENDER_TIME)
    while found >= 0:
        start = found + len(_RENDER_TIME)
        stamp = _TIMESTAMP.match(body, start)
        end = stamp.end() if stamp else start
        yield start, end
        found = body.find(_RENDER_TIME, end)


@dataclass(frozen=True, slots=True)
class Known:
    """What planwatch knows of one page's latest full answer.

    ``page`` is the parse of that answer when this process has it; ``snapshot_id``
    names a stored body that parses to the same records when it does not.
    """

    validators: Validators
    full_fetch_at: datetime | None
    body_hash: str | None = None
    page: ParsedPage | None = None
    snapshot_id: int | None = None

    def can_reuse(self) -> bool:
        return self.page is not None or self.snapshot_id is not None


@dataclass(slots=True)
class Tally:
    """How a check's pages came back, for the log line."""

    fetched: int = 0  # 200, parsed
    not_modified: int = 0  # 304, last parse reused
    same_body: int = 0  # 200 with the same normalised body, last parse reused
    failed: int = 0

    def add(self, other: Tally) -> None:
        self.fetched += other.fetched
        self.not_modified += other.not_modified
        self.same_body += other.same_body
        self.failed += other.failed

    def describe(self) -> str:
        parts = [f"{self.fetched} parsed"]
        if self.not_modified:
            parts.append(f"{self.not_modified} not modified")
        if self.same_body:
            parts.append(f"{self.same_body} same body")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)


class PageMemory:
    """This process's knowledge of pages, backed by the database; bounded LRU."""

    def __init__(self, max_pages: int = MAX_REMEMBERED) -> None:
        self._known: OrderedDict[str, Known] = OrderedDict()
        self._max = max_pages

    def __len__(self) -> int:
        return len(self._known)

    def get(self, url: str) -> Known | None:
        known = self._known.get(url)
        if known is not None:
            self._known.move_to_end(url)
        return known

    def put(self, url: str, known: Known) -> None:
        self._known[url] = known
        self._known.move_to_end(url)
        while len(self._known) > self._max:
            self._known.popitem(last=False)

    def forget(self, url: str) -> None:
        self._known.pop(url, None)

    def load(self, db: Database, source: str, urls: Sequence[str]) -> dict[str, Known]:
        """What is known of ``urls``: this process's memory, else the database."""
        found = {url: k for url in urls if (k := self.get(url)) is not None}
        missing = [url for url in urls if url not in found]
        if missing:
            with db.readers() as session:
                found.update(_stored(session, source, missing))
        return found


def validators_to_send(known: Known | None, now: datetime) -> Validators | None:
    """The validators for a conditional request, or None for a full fetch."""
    if known is None or known.validators.empty or not known.can_reuse():
        return None
    if known.full_fetch_at is None or now - known.full_fetch_at >= FULL_FETCH_EVERY:
        return None
    return known.validators


async def fetch_all(
    fetcher: Fetcher,
    urls: Sequence[str],
    known: Mapping[str, Known],
    now: datetime,
    on_page: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch ``urls`` one after the other (the fetcher paces each host)."""
    results = []
    for url in urls:
        result = await fetcher.fetch(url, validators_to_send(known.get(url), now))
        results.append(result)
        if on_page is not None:
            on_page(result)
    return results


def observe_all(
    db: Database,
    results: Sequence[FetchResult],
    known: Mapping[str, Known],
    memory: PageMemory,
) -> tuple[list[PageObservation], Tally]:
    """Observations of ``results``; unchanged pages reuse their last parse."""
    tally = Tally()
    observations = []
    for result in results:
        observation = _observe(db, result, known.get(result.url), memory, tally)
        observations.append(observation)
    return observations, tally


def _observe(
    db: Database,
    result: FetchResult,
    known: Known | None,
    memory: PageMemory,
    tally: Tally,
) -> PageObservation:
    if result.outcome is FetchOutcome.NOT_MODIFIED:
        page = _reuse(db, result.url, known)
        if page is None:
            memory.forget(result.url)
            tally.failed += 1
            return observation(
                result,
                None,
                error=f"{redact_url(result.url)} answered 304 Not Modified, but no "
                "stored copy of it is left to reuse; the next check fetches it in full",
            )
        assert known is not None
        memory.put(result.url, replace(known, validators=result.validators, page=page))
        tally.not_modified += 1
        return observation(result, page)

    if not result.ok:
        tally.failed += 1
        return observation(result, None, error=result.error)

    digest = body_hash(result.body)
    if known is not None and known.body_hash == digest and known.page is not None:
        page = known.page
        tally.same_body += 1
    else:
        page = parse_fetched(result)
        tally.fetched += 1
    memory.put(
        result.url, Known(result.validators, result.started_at, digest, page, None)
    )
    return observation(result, page)


def _reuse(db: Database, url: str, known: Known | None) -> ParsedPage | None:
    if known is None:
        return None
    if known.page is not None:
        return known.page
    if known.snapshot_id is None:
        return None
    with db.readers() as session:
        snapshot = session.get(Snapshot, known.snapshot_id)
        if snapshot is None or snapshot.blob_sha256 is None:
            return None
        body = repo.load_blob(session, snapshot.blob_sha256)
        headers = snapshot.headers or {}
        fetched_at = snapshot.fetched_at
    if body is None:
        return None
    decoded = decode_body(body, headers.get("content-type"))
    logger.debug("%s: reusing the stored body of %s", url, fetched_at.isoformat())
    return read_page(decoded.text, url, date_header=headers.get("date"))


# -- the database side --------------------------------------------------------------


def _stored(session: Session, source: str, urls: Sequence[str]) -> dict[str, Known]:
    rows = session.execute(
        select(
            Page.url,
            Page.id,
            PageValidators.etag,
            PageValidators.last_modified,
            PageValidators.full_fetch_at,
        )
        .join(Source, Source.id == Page.source_id)
        .outerjoin(PageValidators, PageValidators.page_id == Page.id)
        .where(Source.name == source, Page.url.in_(urls))
    ).all()
    bodies = _latest_bodies(session, [row.id for row in rows])
    return {
        row.url: Known(
            Validators(row.etag, row.last_modified),
            row.full_fetch_at,
            snapshot_id=bodies.get(row.id),
        )
        for row in rows
    }


def _latest_bodies(session: Session, page_ids: Sequence[int]) -> dict[int, int]:
    """Per page, the latest snapshot of a full answer whose raw bytes are kept."""
    if not page_ids:
        return {}
    rows = session.execute(
        select(Snapshot.page_id, func.max(Snapshot.id))
        .where(
            and_(
                Snapshot.page_id.in_(page_ids),
                Snapshot.fetch_outcome == FetchOutcome.OK.value,
                Snapshot.blob_sha256.is_not(None),
                Snapshot.pruned_at.is_(None),
            )
        )
        .group_by(Snapshot.page_id)
    ).all()
    return {page_id: snapshot_id for page_id, snapshot_id in rows if page_id}


def save_validators(
    db: Database,
    source: str,
    results: Iterable[FetchResult],
    known: Mapping[str, Known] | None = None,
) -> int:
    """Store what to send next time, for pages that answered 200 or 304.

    Call after the check is recorded: validators saved before their page's body would
    let a 304 stand for content planwatch never stored. A 304 that leaves the
    ``known`` validators as they were has nothing to store.
    """
    known = known or {}
    answered = {
        r.url: r
        for r in results
        if r.outcome is FetchOutcome.OK
        or (r.outcome is FetchOutcome.NOT_MODIFIED and not _same_validators(r, known))
    }
    if not answered:
        return 0
    with db.sessions.begin() as session:
        pages = session.execute(
            select(Page.url, Page.id)
            .join(Source, Source.id == Page.source_id)
            .where(Source.name == source, Page.url.in_(list(answered)))
        ).all()
        ids = [page_id for _, page_id in pages]
        rows = {
            row.page_id: row
            for row in session.scalars(
                select(PageValidators).where(PageValidators.page_id.in_(ids))
            )
        }
        for url, page_id in pages:
            _save_one(session, rows.get(page_id), page_id, answered[url])
    return len(pages)


def _same_validators(result: FetchResult, known: Mapping[str, Known]) -> bool:
    before = known.get(result.url)
    return before is not None and before.validators == result.validators


def _save_one(
    session: Session, row: PageValidators | None, page_id: int, result: FetchResult
) -> None:
    if row is None:
        row = PageValidators(page_id=page_id)
        session.add(row)
    row.etag = result.validators.etag
    row.last_modified = result.validators.last_modified
    if result.ok:
        row.full_fetch_at = result.started_at
