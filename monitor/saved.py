"""Saved pages as read from disk or an archive, before the parser sees them.

The project's fixtures, and many archives, keep pages gzip-compressed. Such a page
is recognised by its first bytes (the gzip magic 1f 8b), not by its file name, and
is opened here: the parsers take the page's bytes and do no I/O.
"""

from __future__ import annotations

import zlib

from monitor.fetch import FetchPolicy
from parsers.errors import PlanwatchError

GZIP_MAGIC = b"\x1f\x8b"
# A saved page may be no larger than a fetched one.
MAX_PAGE_BYTES = FetchPolicy.max_body_bytes


def saved_page(body: bytes, where: str, limit: int = MAX_PAGE_BYTES) -> bytes:
    """``body`` as a page: decompressed when gzip-compressed; refused past ``limit``
    either way.

    Decompression stops one byte past the limit, so a gzip bomb costs no memory.
    """
    if not body.startswith(GZIP_MAGIC):
        if len(body) > limit:
            raise PlanwatchError(
                f"{where}: page larger than {limit} bytes, the limit a fetched page has"
            )
        return body

    page = bytearray()
    rest = body
    try:
        # A gzip file may hold several members, one after the other.
        while rest.startswith(GZIP_MAGIC):
            member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            page += member.decompress(rest, limit + 1 - len(page))
            if len(page) > limit:
                raise PlanwatchError(
                    f"{where}: gzip-compressed page larger than {limit} bytes "
                    "decompressed, the limit a fetched page has"
                )
            if not member.eof:
                raise PlanwatchError(f"{where}: gzip-compressed page cut short")
            rest = member.unused_data
    except zlib.error as exc:
        raise PlanwatchError(f"{where}: unreadable gzip data ({exc})") from None

    return bytes(page)
