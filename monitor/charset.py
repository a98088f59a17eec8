"""Turn response bytes into text the same way every time.

The order follows the WHATWG encoding sniffing steps, with detection at the end:

1. a byte order mark (it cannot be wrong, so it beats any label);
2. the ``charset`` parameter of ``Content-Type``;
3. ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` in the first 4 KB;
4. detection: valid UTF-8 first, then charset-normalizer over common web code pages,
   then windows-1252.

A label is only believed when the bytes decode cleanly under it. A Western single-byte
label (ISO-8859-1, ASCII, windows-1252) on bytes that are valid, non-ASCII UTF-8 is
taken to be a wrong header: Western text practically never forms valid UTF-8
sequences by accident, while servers that send UTF-8 under a Latin-1 default are
common. UTF-8 with a few bad bytes among many good sequences (a stray byte of
another code page, a body cut inside a character) is still UTF-8, each bad byte a
U+FFFD, labelled or not.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

import charset_normalizer

logger = logging.getLogger(__name__)

META_WINDOW = 4096

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG decodes these labels as windows-1252; Python's strict cp1252 leaves five
# bytes undefined, so latin-1 (which defines all 256) is the last resort.
_WESTERN = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})

# Code pages seen on the web. Mac and DOS code pages are left out on purpose:
# charset-normalizer otherwise picks mac_iceland for plain Finnish Latin-1 text.
_WEB_CODE_PAGES = (
    "cp1252",
    "iso8859_15",
    "cp1250",
    "iso8859_2",
    "cp1257",
    "iso8859_13",
    "cp1251",
    "koi8_r",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
    "euc_kr",
)
_MULTIBYTE = frozenset(
    codecs.lookup(name).name
    for name in ("shift_jis", "euc_jp", "gb18030", "big5", "euc_kr")
)
_ASCII = bytes(range(0x80))

# Short samples are too little evidence for a multibyte guess: six Latin-1 bytes of
# "Päätös" read as valid Big5.
_MIN_MULTIBYTE_EVIDENCE = 64

_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_META = re.compile(rb"<meta\b[^>]*>", re.I)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text together with the codec that produced it and where the choice came from."""

    text: str
    encoding: str
    source: str  # "bom", "header", "meta" or "detected"


def decode_body(body: bytes, content_type: str | None) -> Decoded:
    """Decode *body*; never raises, and the same input always gives the same output."""
    bom = _from_bom(body)
    if bom is not None:
        return bom

    header_label = charset_from_content_type(content_type)
    if header_label is not None:
        decoded = _try_label(body, header_label, "header")
        if decoded is not None:
            return decoded
        logger.debug("declared charset %r does not fit the body", header_label)

    meta_label = charset_from_meta(body[:META_WINDOW])
    if meta_label is not None:
        decoded = _try_label(body, meta_label, "meta")
        if decoded is not None:
            return decoded
        logger.debug("meta charset %r does not fit the body", meta_label)

    return detect(body)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, if any."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type.encode("latin-1", "replace"))
    return match.group(1).decode("ascii").lower() if match else None


def charset_from_meta(head: bytes) -> str | None:
    """The charset named by the first ``<meta>`` tag that names one."""
    for tag in _META.finditer(head):
        match = _CHARSET_PARAM.search(tag.group(0))
        if match:
            return match.group(1).decode("ascii").lower()
    return None


def detect(body: bytes) -> Decoded:
    """Guess the encoding of undeclared bytes."""
    if _is_utf8(body):
        return Decoded(body.decode("utf-8"), "utf-8", "detected")
    if _mostly_utf8(body):
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "detected")

    candidates = list(_WEB_CODE_PAGES)
    best = charset_normalizer.from_bytes(body, cp_isolation=candidates).best()
    western = _western(body, "detected")
    if best is None or not _believable(best.encoding, body):
        return western

    if western.text == str(best):
        # Central European and Western code pages agree on most letters; when the
        # text is the same, name the web's default rather than the guess of the day.
        return western
    return Decoded(str(best), codecs.lookup(best.encoding).name, "detected")


def _from_bom(body: bytes) -> Decoded | None:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(encoding, errors="replace")
            return Decoded(text, encoding, "bom")
    return None


def _try_label(body: bytes, label: str, source: str) -> Decoded | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None

    if name.startswith("utf-16") or name.startswith("utf-32"):
        # Without a BOM a UTF-16 label on an HTML byte stream is a mistake; WHATWG
        # reads such documents as UTF-8.
        name = "utf-8"
    if name in _WESTERN:
        if _is_utf8(body) and not body.isascii():
            return Decoded(body.decode("utf-8"), "utf-8", source)
        return _western(body, source)

    try:
        return Decoded(body.decode(name), name, source)
    except (UnicodeError, LookupError):
        # Bytes the label does not fit; or a codec that is no text encoding
        # (rot13, base64, zlib: LookupError) or that decodes nothing (undefined).
        pass
    if name == "utf-8" and _mostly_utf8(body):
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", source)
    return None


def _western(body: bytes, source: str) -> Decoded:
    try:
        return Decoded(body.decode("cp1252"), "cp1252", source)
    except UnicodeDecodeError:
        return Decoded(body.decode("latin-1"), "latin-1", source)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(body: bytes) -> bool:
    """UTF-8 with a few bad bytes: a stray byte of another code page pasted into
    one name, or a body cut inside a character. Read as UTF-8 they cost one U+FFFD
    each; read as a single-byte code page every letter of every name would change.
    Bytes of a single-byte page form valid UTF-8 sequences practically never, so
    at least four good sequences for each bad one, or only the last character cut,
    is taken for UTF-8."""
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - body.count("\ufffd".encode())
    non_ascii = len(text) - (len(body) - len(body.translate(None, _ASCII)))
    good = non_ascii - bad
    return bad * 4 <= good or _is_utf8(body[: _last_lead(body)])


def _last_lead(body: bytes) -> int:
    """Where the body's last multi-byte character starts, if it is cut short."""
    for back in range(1, min(4, len(body)) + 1):
        byte = body[-back]
        if byte & 0xC0 == 0xC0:  # a lead byte: the character starts here
            return len(body) - back
        if byte & 0xC0 != 0x80:  # ASCII: nothing is cut
            break
    return len(body)


def _believable(encoding: str, body: bytes) -> bool:
    if codecs.lookup(encoding).name not in _MULTIBYTE:
        return True
    high_bytes = len(body.translate(None, _ASCII))
    return high_bytes >= _MIN_MULTIBYTE_EVIDENCE
