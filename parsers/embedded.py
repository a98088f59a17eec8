"""The data a Kausal Watch page embeds next to its markup.

Two carriers exist, both written by the server into inline scripts:

- the React Server Components *flight* payload, ``self.__next_f.push([1, "<chunk>"])``:
  the chunks concatenate into rows ``<hexId>:<payload>``; most payloads are JSON, text
  rows are ``T<hexLen>,<text>`` with the length counted in UTF-8 bytes, and other rows
  carry a one- or two-letter tag (``I`` import, ``HL`` hint, ``E`` error, ...).
  Strings starting with ``$`` are references or escapes;
- the Apollo SSR transport, ``(window[Symbol.for("ApolloSSRDataTransport")] ??= [])
  .push({...})``: a JavaScript object literal (it may contain ``undefined``) holding the
  query results that client components fetched during the server render.

Both formats are framework-internal and change between builds, so everything here is
lenient: a row that does not decode is skipped, never fatal.

Lookups are lazy and cached, because pages are large (a 300-row organization page
carries half a megabyte of data) and a parse asks for several keys: a row is searched
only when its text holds the key, an Apollo payload is decoded only when its text
holds a key asked for, and ``$`` strings are resolved once, in place, only inside
what a lookup returns.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec
from selectolax.lexbor import LexborHTMLParser, LexborNode

from parsers.text import whole_characters

FLIGHT_PREFIX = "self.__next_f.push("
APOLLO_PREFIX = '(window[Symbol.for("ApolloSSRDataTransport")]'


class _Syntax(NamedTuple):
    """How the carriers' scripts read, in one kind of text."""

    flight: Any  # the flight script's start
    apollo: Any  # the Apollo script's start
    push: Any  # where the Apollo literal begins
    blanks: Any  # what may follow a call's argument
    closing: Any  # what closes the call


# A script's text as the tree gives it, or as cut from the body.
_SYNTAX = {
    str: _Syntax(FLIGHT_PREFIX, APOLLO_PREFIX, ".push(", " \t\r\n;", ")"),
    bytes: _Syntax(
        FLIGHT_PREFIX.encode(), APOLLO_PREFIX.encode(), b".push(", b" \t\r\n;", b")"
    ),
}
_CUT_PREFIXES = (_SYNTAX[bytes].flight, _SYNTAX[bytes].apollo)

# Markers the UI writes into a not-found page's embedded data: 2024 and 2026 builds.
NOT_FOUND_MARKERS = ("NEXT_NOT_FOUND", "NEXT_HTTP_ERROR_FALLBACK;404")

_JSON_START = frozenset('[{"-0123456789tfn')
_TAG = re.compile(r"[A-Z]{1,2}")
# A string, or a bare `undefined`. A string the text never closes is one token to
# the end: matching it again from each quote inside (`"\\"\\"\\"...`) cost the
# square of its length (80 kB: 39 s).
_JS_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"?|\bundefined\b', re.DOTALL)
_REF = re.compile(r"\$([0-9a-f]+)((?::[^:]+)*)$")
# Escapes that need no other row, undone in the text before decoding:
# "$undefined" is undefined, "$D<iso>" a date, "$$..." a string starting with "$".
_TEXT_ESCAPES = re.compile(r'(?<!\\)"\$(undefined"|D|\$)')
_NOW = re.compile(r'"now":"\$D([^"]+)"')


class _Lazy:
    """A reference to a component or promise (``$L..``, ``$@..``): not data."""

    def __repr__(self) -> str:
        return "LAZY"


LAZY = _Lazy()


@dataclass(slots=True)
class _Apollo:
    source: str | bytes  # the object literal as written in the script
    value: Any = None
    decoded: bool = False
    _raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        """The literal in UTF-8: what ``_value_at`` reads."""
        if isinstance(self.source, bytes):
            return self.source
        if self._raw is None:
            self._raw = self.source.encode("utf-8", "surrogatepass")
        return self._raw

    @property
    def text(self) -> str:
        if isinstance(self.source, str):
            return self.source
        return self.source.decode("utf-8", "surrogatepass")

    def holds(self, needle: str) -> bool:
        if isinstance(self.source, bytes):
            return needle.encode() in self.source
        return needle in self.source

    def get(self) -> Any:
        if not self.decoded:
            self.value = _decode_apollo(self)
            self.decoded = True
        return self.value


class _Lookup:
    """A search's results, found on demand and kept: ``next()`` walks no further."""

    def __init__(self, search: Iterator[dict[str, Any]]) -> None:
        self.items: list[dict[str, Any]] = []
        self.search: Iterator[dict[str, Any]] | None = search

    def __iter__(self) -> Iterator[dict[str, Any]]:
        index = 0
        while True:
            if index < len(self.items):
                yield self.items[index]
                index += 1
                continue
            if self.search is None:
                return
            found = next(self.search, None)
            if found is None:
                self.search = None
                return
            self.items.append(found)


@dataclass(slots=True)
class EmbeddedData:
    """Decoded embedded data of one page."""

    rows: dict[str, Any] = field(default_factory=dict)
    raw_rows: dict[str, str] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)  # rows with references
    flight_text: str = ""
    chunks: int = 0
    apollo_scripts: list[_Apollo] = field(default_factory=list)
    _resolver: _Resolver | None = None
    _found: dict[str, _Lookup] = field(default_factory=dict)

    @property
    def apollo(self) -> list[Any]:
        """Every Apollo payload, decoded (those that do not decode are left out)."""
        return [v for v in (a.get() for a in self.apollo_scripts) if v is not None]

    @property
    def empty(self) -> bool:
        return not self.rows and not self.apollo_scripts

    @property
    def not_found(self) -> bool:
        return any(marker in self.flight_text for marker in NOT_FOUND_MARKERS)

    @property
    def resolver(self) -> _Resolver:
        if self._resolver is None:
            self._resolver = _Resolver(self.rows, self.linked)
        return self._resolver

    def resolved_rows(self) -> Iterator[Any]:
        for key in self.rows:
            yield self.resolver.resolve_row(key)

    def has(self, key: str) -> bool:
        """Whether any carrier's text holds ``key`` as an object key (cheap)."""
        needle = f'"{key}":'
        return any(needle in text for text in self.raw_rows.values()) or any(
            a.holds(needle) for a in self.apollo_scripts
        )

    def find_props(self, key: str, *, apollo: bool = True) -> Iterator[dict[str, Any]]:
        """Every dict (flight props, then Apollo results) that has ``key``, resolved.

        Shallow dicts come first, so ``next(find_props(k))`` is the outermost one.
        """
        cache_key = key if apollo else f"{key}\0flight"
        found = self._found.get(cache_key)
        if found is None:
            found = self._found[cache_key] = _Lookup(self._search(key, apollo))
        return iter(found)

    def first_list(
        self, key: str, typed: msgspec.json.Decoder[Any] | None = None
    ) -> list[Any] | None:
        """The first list under ``key``, decoding as little of the data as it can.

        An Apollo payload (megabytes on a large plan's action list) is not decoded
        whole when the value after the key reads as JSON on its own; ``typed``
        decodes that value into structs where it can (the items are dicts where not).
        """
        for props in self.find_props(key, apollo=False):
            if isinstance(props[key], list):
                return list(props[key])
        needle = f'"{key}":'.encode()
        for apollo in self.apollo_scripts:
            if apollo.decoded:
                continue
            raw = apollo.raw
            at = raw.find(needle)
            while at >= 0:
                value = _value_at(raw, at + len(needle), typed)
                if isinstance(value, list):
                    return value
                at = raw.find(needle, at + 1)
        for props in self.find_props(key):
            if isinstance(props[key], list):
                return list(props[key])
        return None

    def _search(self, key: str, apollo: bool) -> Iterator[dict[str, Any]]:
        needle = f'"{key}":'
        walked: set[int] = set()  # shared: rows refer to the same rows
        for row_id, text in self.raw_rows.items():
            if needle in text and row_id in self.rows:
                root = self.resolver.resolve_row(row_id)
                yield from _dicts_with(root, key, walked)
        if not apollo:
            return
        for script in self.apollo_scripts:
            if script.holds(needle):
                yield from _dicts_with(script.get(), key, walked)


def extract(
    tree: LexborHTMLParser, scripts: Iterable[LexborNode] | None = None
) -> EmbeddedData:
    """The embedded data of a page; ``scripts``, its script elements if found."""
    nodes = tree.css("script") if scripts is None else scripts
    return _gather(_script_text(node) for node in nodes)


def _script_text(node: LexborNode) -> str:
    return node.text(deep=True, separator="", strip=False)


def _gather(texts: Iterable[str | bytes]) -> EmbeddedData:
    """The embedded data in the text of a page's scripts, in page order."""
    data = EmbeddedData()
    parts: list[str] = []
    for text in texts:
        syntax = _SYNTAX[type(text)]
        if text.startswith(syntax.flight):
            chunk = _flight_chunk(text)
            if chunk is not None:
                parts.append(chunk)
                data.chunks += 1
        elif text.startswith(syntax.apollo):
            literal = _apollo_literal(text)
            if literal is not None:
                data.apollo_scripts.append(_Apollo(literal))
    data.flight_text = "".join(parts)
    data.rows, data.raw_rows, data.linked = _split_rows(data.flight_text)
    return data


# -- reading the scripts before the HTML parse -----------------------------------------

# What a cut script holds instead: this, a token drawn for the cut, and a number.
# A page cannot know the token, so no script of its own can pass for a placeholder
# (in foreign content "planwatch&#58;cut:0" is that text, written otherwise).
_PLACEHOLDER = "planwatch:cut:"
_END_TAG = re.compile(rb"</script[\t\n\f\r />]", re.IGNORECASE)
_TAG_NAME_END = frozenset(b" \t\n\f\r/>")


@dataclass(slots=True)
class Cut:
    """A page whose embedded-data scripts were taken out before the HTML parse.

    Those scripts are most of a large plan's page (four fifths of a 600-action
    list); the HTML parser would copy them into the tree only for them to be
    copied out again. Here their text is read from the body and each script keeps
    a short placeholder. ``data`` checks on the parsed tree that the cut was exact.
    """

    markup: bytes
    texts: list[bytes]
    mark: str  # what each placeholder starts with, its number following

    def data(self, scripts: Iterable[LexborNode]) -> EmbeddedData | None:
        """The embedded data, or None unless the parser found every placeholder as
        the whole text of a script element, in order, and in no other script's
        text (then the page must be parsed whole).

        In SVG or MathML a script element holds elements, scripts among them, and
        its text is theirs too: a script around a cut one would read otherwise
        whole.
        """
        texts: list[str | bytes] = []
        taken = 0
        for node in scripts:
            text = _script_text(node)
            if self.mark not in text:
                texts.append(text)
                continue
            if taken == len(self.texts) or text != f"{self.mark}{taken}":
                return None
            texts.append(self.texts[taken])
            taken += 1
        return _gather(texts) if taken == len(self.texts) else None


def cut_scripts(body: bytes | str) -> Cut | None:
    """``body`` with its embedded-data scripts cut out, or None when none can be.

    A script is cut only where its text is plain in every parser state: no ``<``
    before its end tag (so no nested markup, comment or escaped state), no ``&``
    (no character reference, in foreign content), no CR or NUL (which the parser
    rewrites), and valid UTF-8 (which the parser would repair). Anything else stays
    for the HTML parser, as does every other script.
    """
    if isinstance(body, str):
        try:
            raw = body.encode("utf-8")  # what the HTML parser reads
        except UnicodeEncodeError:  # a lone surrogate, which the parser drops
            return None
        valid = True
    else:
        raw, valid = body, False

    mark = f"{_PLACEHOLDER}{secrets.token_hex(8)}:"
    pieces: list[bytes] = []
    texts: list[bytes] = []
    done = at = 0
    while (start := raw.find(b"<script", at)) >= 0:
        at = start + 7
        close = raw.find(b">", at)
        end = raw.find(b"<", close + 1) if close >= 0 else -1
        if end < 0:
            break
        begin, at = close + 1, end
        if raw[start + 7] not in _TAG_NAME_END or not raw.startswith(
            _CUT_PREFIXES, begin
        ):
            continue
        text = raw[begin:end]
        if not _plain(text, valid) or _END_TAG.match(raw, end) is None:
            continue
        pieces += (raw[done:begin], f"{mark}{len(texts)}".encode())
        texts.append(text)
        done = end
    if not texts:
        return None
    pieces.append(raw[done:])
    return Cut(b"".join(pieces), texts, mark)


def _plain(text: bytes, valid: bool) -> bool:
    if b"&" in text or b"\r" in text or b"\0" in text:
        return False
    if not valid:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _call_argument(script: str | bytes, start: int) -> str | bytes:
    """The argument of ``f(...)`` ending ``script``, cut once (scripts are large)."""
    syntax = _SYNTAX[type(script)]
    end = len(script)
    while end > start and script[end - 1 : end] in syntax.blanks:
        end -= 1
    if end > start and script[end - 1 : end] == syntax.closing:
        end -= 1
    return script[start:end]


def _flight_chunk(script: str | bytes) -> str | None:
    argument = _call_argument(script, len(FLIGHT_PREFIX))
    try:
        decoded = loads(argument)
    except ValueError:
        return None
    if (
        isinstance(decoded, list)
        and len(decoded) == 2
        and decoded[0] == 1
        and isinstance(decoded[1], str)
    ):
        return decoded[1]
    return None


def _apollo_literal(script: str | bytes) -> str | bytes | None:
    push = _SYNTAX[type(script)].push
    start = script.find(push)
    if start < 0:
        return None
    return _call_argument(script, start + len(push))


_DECODER = json.JSONDecoder()
_FAST = msgspec.json.Decoder()
_SKIP = msgspec.json.Decoder(msgspec.Raw)
# How msgspec says where a value ended: "... trailing characters (byte N)", N
# counting the first character after the value (and the blanks after it) from 1.
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")


def _value_at(
    raw: bytes, start: int, typed: msgspec.json.Decoder[Any] | None = None
) -> Any:
    """The JSON value starting at ``raw[start:]`` (after blanks), or None.

    msgspec's skipping pass says where the value ends (nothing is built), then
    just that slice is decoded, in full: a wrong end could only fail, never
    mislead, as no proper prefix of a list or object is complete JSON. Where
    msgspec refuses, the standard library's ``raw_decode`` decides.
    """
    view = memoryview(raw)[start:]
    try:
        _SKIP.decode(view)
        end = len(view)  # the value runs to the end of the text
    except msgspec.DecodeError as error:
        found = _TRAILING.search(str(error))
        end = int(found.group(1)) - 1 if found else -1
    except RecursionError:
        return None  # nested too deeply for any decoder here
    decoders = [typed, _FAST] if typed is not None else [_FAST]
    for decoder in decoders if end > 0 else []:
        try:
            return decoder.decode(view[:end])
        except msgspec.DecodeError:
            pass
    text = bytes(view).decode("utf-8", "surrogatepass").lstrip(" \t\r\n")
    try:
        return whole_characters(_DECODER.raw_decode(text)[0])
    except (ValueError, RecursionError):
        return None


def _decode_apollo(apollo: _Apollo) -> Any:
    payload = _js_literal(apollo)
    # The 2024 transport wrapped the value in superjson's {"json": ..., "meta": ...}.
    if isinstance(payload, dict) and "json" in payload and "rehydrate" not in payload:
        return payload["json"]
    return payload


def _js_literal(apollo: _Apollo) -> Any:
    """A JS object literal as JSON: strict JSON first, then with ``undefined``.

    Strings are skipped and every bare `undefined` becomes null. (Replacing it
    wherever a value could start, six times faster, also rewrote a name such as
    "Plan:undefined,x".)
    """
    try:
        return loads(apollo.source)
    except ValueError:
        pass
    as_json = _JS_TOKEN.sub(
        lambda m: m.group(0) if m.group(0).startswith('"') else "null", apollo.text
    )
    try:
        return loads(as_json)
    except ValueError:
        return None


def parse_rows(text: str) -> dict[str, Any]:
    """Split a flight payload into its rows, decoding the JSON ones (unresolved)."""
    rows, _, linked = _split_rows(text)
    resolver = _Resolver(rows, linked)
    return {key: resolver.resolve_row(key) for key in rows}


# A text row's header, "T<hexLen>,", is looked for within this many bytes: no real
# length is longer, and a search to the end made a payload of rows "0:T" with no
# comma cost the square of its size (400 kB: a second).
_TEXT_HEADER = 18


def _split_rows(text: str) -> tuple[dict[str, Any], dict[str, str], set[str]]:
    """Rows, their payload texts, and the rows that refer to other rows.

    Rows without references have their escapes undone in the text, so they need
    no walk after decoding: the large data rows of a page usually have none.
    """
    # ``loads`` gave each chunk U+FFFD for a lone surrogate; "surrogatepass" keeps
    # a text that did not come through it whole.
    raw = text.encode("utf-8", "surrogatepass")
    rows: dict[str, Any] = {}
    raw_rows: dict[str, str] = {}
    linked: set[str] = set()
    pos, end = 0, len(raw)
    while pos < end:
        colon = raw.find(b":", pos)
        if colon < 0:
            break
        row_id = raw[pos:colon].decode("ascii", "replace").strip()
        pos = colon + 1
        if raw[pos : pos + 1] == b"T":
            comma = raw.find(b",", pos, pos + _TEXT_HEADER)
            try:
                length = int(raw[pos + 1 : comma], 16) if comma > 0 else -1
            except ValueError:
                length = -1
            if comma > 0 and length >= 0:
                # A wrong length can cut a character in two: "replace" it.
                rows[row_id] = raw[comma + 1 : comma + 1 + length].decode(
                    "utf-8", "replace"
                )
                pos = comma + 1 + length
                continue
        newline = raw.find(b"\n", pos)
        if newline < 0:
            newline = end
        # A newline never ends inside a character, so the payload decodes whole.
        payload = raw[pos:newline].decode("utf-8", "surrogatepass")
        pos = newline + 1
        if '"$' in payload:
            if _has_row_ref(payload):
                linked.add(row_id)
            elif '"$u' in payload or '"$D' in payload or '"$$' in payload:
                payload = _TEXT_ESCAPES.sub(_unescape, payload)
        value = _decode_row(payload)
        if value is not None:
            rows[row_id] = value
            raw_rows[row_id] = payload
    return rows, raw_rows, linked


_HEX = frozenset("0123456789abcdef")


def _has_row_ref(payload: str) -> bool:
    """Whether a row refers to another ("$1a"); ``str.find`` over the few "$"."""
    at = payload.find('"$')
    while at >= 0:
        if payload[at + 2 : at + 3] in _HEX and payload[at - 1 : at] != "\\":
            return True
        at = payload.find('"$', at + 2)
    return False


def _unescape(found: re.Match[str]) -> str:
    kind = found.group(1)
    return "null" if kind == 'undefined"' else ('"' if kind == "D" else '"$')


def _decode_row(payload: str) -> Any:
    if not payload:
        return None
    if payload[0] in _JSON_START:
        return _loads(payload)
    tag = _TAG.match(payload)
    if tag is None or tag.group(0) in ("I", "HL", "H"):
        return None  # imports and hints carry no data
    return _loads(payload[tag.end() :])


def _loads(text: str) -> Any:
    try:
        return loads(text)
    except ValueError:
        return None


def loads(text: str | bytes) -> Any:
    """``json.loads``, with msgspec's faster decoder doing the work it can.

    The standard library decides wherever msgspec refuses (``NaN``, a lone
    surrogate, a number out of range), so the result is always ``json.loads``'s
    of the text, but for U+FFFD in place of a lone surrogate. Bytes are that text
    in UTF-8: ``json.loads`` would also take them with a byte order mark, or in
    UTF-16, which a cut script's text must not be read as when the tree's text
    would not. Nesting deeper than the
    interpreter's recursion limit is a ``ValueError`` like any text that is not
    JSON (both decoders recurse; a page can nest a row 100,000 deep).
    """
    # Known shortcoming: that limit counts the caller's frames too, so JSON nested
    # within a few levels of it (about 990 deep) reads from one call site and not
    # from another (parse_page's cut and whole paths differ there by one frame).
    try:
        return _FAST.decode(text)
    except (msgspec.DecodeError, UnicodeEncodeError):  # the latter: a surrogate
        pass
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogatepass")
    try:
        return whole_characters(json.loads(text))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


# Rows refer to rows a few deep (4 on the fixture pages); resolving a page's chain
# of thousands would recurse past the interpreter's limit.
_MAX_CHAIN = 64


class _Resolver:
    """Resolves ``$`` strings against the rows, in place, once, safe against cycles.

    Each row is resolved at most once; containers are rewritten in place (the rows
    belong to this page's ``EmbeddedData``), so a second lookup costs nothing. A
    reference that closes a cycle, or reaches past ``_MAX_CHAIN`` rows, is None.
    """

    def __init__(self, rows: dict[str, Any], linked: set[str]) -> None:
        self.rows = rows
        self.linked = linked
        self.done: dict[str, Any] = {}
        self.active: set[str] = set()

    def resolve_row(self, key: str) -> Any:
        if key in self.done:
            return self.done[key]
        if key in self.active or key not in self.rows:
            return None
        if len(self.active) == _MAX_CHAIN:  # the rows being resolved, nested
            return None
        self.active.add(key)
        value = self.rows[key]
        if isinstance(value, str):
            value = self._string(value)
        elif isinstance(value, dict | list) and key in self.linked:
            value = self._fill(value)
        self.active.discard(key)
        self.done[key] = value
        return value

    def _fill(self, root: Any) -> Any:
        """Replace every ``$`` string under ``root`` (iteratively: rows nest deep)."""
        stack = [root]
        push, pop = stack.append, stack.pop
        string = self._string
        while stack:
            node = pop()
            found: list[tuple[Any, str]] | None = None
            items = node.items() if type(node) is dict else enumerate(node)
            for slot, value in items:
                kind = type(value)
                if kind is str:
                    if value[:1] == "$":
                        found = found or []
                        found.append((slot, value))
                elif kind is dict or kind is list:
                    push(value)
            for slot, value in found or ():
                node[slot] = string(value)
        return root

    def _string(self, value: str) -> Any:
        if not value.startswith("$"):
            return value
        if value.startswith("$$"):
            return value[1:]
        if value.startswith("$D"):
            return value[2:]
        if value == "$undefined":
            return None
        if value[1:2] in ("L", "@"):
            return LAZY
        match = _REF.match(value)
        if match is None:
            return value
        target = self.resolve_row(match.group(1))
        for step in filter(None, match.group(2).split(":")):
            if isinstance(target, dict):
                target = target.get(step)
            elif (
                isinstance(target, list)
                and step.isdecimal()
                and int(step) < len(target)
            ):
                target = target[int(step)]
            else:
                return None
        return target


def _dicts_with(root: Any, key: str, walked: set[int]) -> Iterator[dict[str, Any]]:
    """Dicts under ``root`` holding ``key``, breadth first, each at most once.

    A container in ``walked`` was walked before, by this call or by an earlier one
    for another root of the same search, which went on to everything under it: it
    is skipped. (Walking each root alone, 300 rows referring to one list of a
    thousand lists walked it 300 times.)
    """
    queue: deque[Any] = deque([root])
    while queue:
        node = queue.popleft()
        if isinstance(node, dict):
            if id(node) in walked:
                continue
            walked.add(id(node))
            if key in node:
                yield node
            queue.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            if id(node) in walked:
                continue
            walked.add(id(node))
            queue.extend(v for v in node if isinstance(v, dict | list))


def render_time(data: EmbeddedData) -> str | None:
    """The ISO time the server rendered the page at (2024 builds only)."""
    match = _NOW.search(data.flight_text)
    return match.group(1) if match else None
