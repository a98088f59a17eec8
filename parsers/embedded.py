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
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser

FLIGHT_PREFIX = "self.__next_f.push("
APOLLO_PREFIX = '(window[Symbol.for("ApolloSSRDataTransport")]'

# Markers the UI writes into a not-found page's embedded data: 2024 and 2026 builds.
NOT_FOUND_MARKERS = ("NEXT_NOT_FOUND", "NEXT_HTTP_ERROR_FALLBACK;404")

_JSON_START = frozenset('[{"-0123456789tfn')
_TAG = re.compile(r"[A-Z]{1,2}")
_JS_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\bundefined\b')
_REF = re.compile(r"\$([0-9a-f]+)((?::[^:]+)*)$")


class _Lazy:
    """A reference to a component or promise (``$L..``, ``$@..``): not data."""


LAZY = _Lazy()


@dataclass(slots=True)
class EmbeddedData:
    """Decoded embedded data of one page."""

    rows: dict[str, Any] = field(default_factory=dict)
    apollo: list[Any] = field(default_factory=list)
    flight_text: str = ""
    chunks: int = 0

    @property
    def empty(self) -> bool:
        return not self.rows and not self.apollo

    @property
    def not_found(self) -> bool:
        return any(marker in self.flight_text for marker in NOT_FOUND_MARKERS)

    def resolved_rows(self) -> Iterator[Any]:
        resolver = _Resolver(self.rows)
        for key in self.rows:
            yield resolver.resolve_row(key)

    def find_props(self, key: str) -> Iterator[dict[str, Any]]:
        """Every dict (flight props or Apollo results) that has ``key``."""
        for root in self.resolved_rows():
            yield from _dicts_with(root, key)
        for root in self.apollo:
            yield from _dicts_with(root, key)


def extract(tree: LexborHTMLParser) -> EmbeddedData:
    data = EmbeddedData()
    parts: list[str] = []
    for script in tree.css("script"):
        text = script.text(deep=True, separator="", strip=False)
        if text.startswith(FLIGHT_PREFIX):
            chunk = _flight_chunk(text)
            if chunk is not None:
                parts.append(chunk)
                data.chunks += 1
        elif text.startswith(APOLLO_PREFIX):
            payload = _apollo_payload(text)
            if payload is not None:
                data.apollo.append(payload)
    data.flight_text = "".join(parts)
    data.rows = parse_rows(data.flight_text)
    return data


def _flight_chunk(script: str) -> str | None:
    argument = script[len(FLIGHT_PREFIX) :].rstrip().rstrip(";").removesuffix(")")
    try:
        decoded = json.loads(argument)
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


def _apollo_payload(script: str) -> Any:
    start = script.find(".push(")
    if start < 0:
        return None
    literal = script[start + len(".push(") :].rstrip().rstrip(";").removesuffix(")")
    # A JS literal, not JSON: turn bare `undefined` (outside strings) into null.
    as_json = _JS_TOKEN.sub(
        lambda m: m.group(0) if m.group(0).startswith('"') else "null", literal
    )
    try:
        payload = json.loads(as_json)
    except ValueError:
        return None
    # The 2024 transport wrapped the value in superjson's {"json": ..., "meta": ...}.
    if isinstance(payload, dict) and "json" in payload and "rehydrate" not in payload:
        return payload["json"]
    return payload


def parse_rows(text: str) -> dict[str, Any]:
    """Split a flight payload into its rows, decoding the JSON ones."""
    raw = text.encode("utf-8")
    rows: dict[str, Any] = {}
    pos, end = 0, len(raw)
    while pos < end:
        colon = raw.find(b":", pos)
        if colon < 0:
            break
        row_id = raw[pos:colon].decode("ascii", "replace").strip()
        pos = colon + 1
        if raw[pos : pos + 1] == b"T":
            comma = raw.find(b",", pos)
            try:
                length = int(raw[pos + 1 : comma], 16)
            except ValueError:
                length = -1
            if comma > 0 and length >= 0:
                rows[row_id] = raw[comma + 1 : comma + 1 + length].decode(
                    "utf-8", "replace"
                )
                pos = comma + 1 + length
                continue
        newline = raw.find(b"\n", pos)
        if newline < 0:
            newline = end
        payload = raw[pos:newline].decode("utf-8", "replace")
        pos = newline + 1
        value = _decode_row(payload)
        if value is not None:
            rows[row_id] = value
    return rows


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
        return json.loads(text)
    except ValueError:
        return None


class _Resolver:
    """Resolves ``$`` strings against the rows, memoised and safe against cycles."""

    def __init__(self, rows: dict[str, Any]) -> None:
        self.rows = rows
        self.done: dict[str, Any] = {}
        self.active: set[str] = set()

    def resolve_row(self, key: str) -> Any:
        if key in self.done:
            return self.done[key]
        if key in self.active or key not in self.rows:
            return None
        self.active.add(key)
        value = self.resolve(self.rows[key])
        self.active.discard(key)
        self.done[key] = value
        return value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._string(value) if value.startswith("$") else value
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def _string(self, value: str) -> Any:
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
                isinstance(target, list) and step.isdigit() and int(step) < len(target)
            ):
                target = target[int(step)]
            else:
                return None
        return target


def _dicts_with(root: Any, key: str) -> Iterator[dict[str, Any]]:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if key in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def render_time(data: EmbeddedData) -> str | None:
    """The ISO time the server rendered the page at (2024 builds only)."""
    match = re.search(r'"now":"\$D([^"]+)"', data.flight_text)
    return match.group(1) if match else None
