"""Text normalisation shared by the parsers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from html.entities import html5
from typing import Any

SOFT_HYPHEN = "\u00ad"
_SPACE = re.compile(r"\s+")
# What ``clean`` changes: entities, soft hyphens, runs of or unusual whitespace.
_DIRTY = re.compile(r"[&\u00ad\ud800-\udfff]|\s\s|[^\S ]")
# Half an emoji, from escaped JSON cut between the two: it has no UTF-8 form, so it
# could be neither stored, shown nor sent.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A whole entity reference, ended by its semicolon. ``html.unescape`` also decodes
# HTML's legacy names without one, which turned "Local&regional" into "Local®ional".
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _entity(found: re.Match[str]) -> str:
    reference = found.group(0)
    if reference[1] == "#":
        return html.unescape(reference)
    return html5.get(reference[1:], reference)


def clean(text: str | None) -> str | None:
    """Strip soft hyphens, decode stray entities, fold whitespace (NBSP included)
    and put U+FFFD in place of a lone surrogate.

    Names are otherwise kept exactly as published.
    """
    if text is None:
        return None
    # Every whitespace character but the space, and the soft hyphen, is
    # unprintable: a printable text without "&" or "  " has nothing to clean.
    if (text.isprintable() and "&" not in text and "  " not in text) or _DIRTY.search(
        text
    ) is None:
        return text.strip()
    text = _ENTITY.sub(_entity, text).replace(SOFT_HYPHEN, "")
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return _SPACE.sub(" ", text).strip()


def whole_characters(value: Any) -> Any:
    """``value`` with U+FFFD for each lone surrogate in its strings, keys included.

    Half an emoji (``"\\ud83d"`` cut from its pair) decodes to a character with no
    UTF-8 form, which nothing after the parser could hash, store, print or send.
    For what ``json.loads`` returns (msgspec refuses such text). The replacement
    has the surrogate's three UTF-8 bytes, so lengths counted in bytes still hold.
    Walked without recursion, as JSON may nest deeply; changed in place.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    stack = [value] if isinstance(value, dict | list) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if any(_LONE_SURROGATE.search(key) for key in item):
                pairs = list(item.items())
                item.clear()
                item.update((_LONE_SURROGATE.sub("\ufffd", k), v) for k, v in pairs)
            children: Iterable[tuple[Any, Any]] = list(item.items())
        else:
            children = enumerate(item)
        for key, child in children:
            if isinstance(child, str):
                if _LONE_SURROGATE.search(child):
                    item[key] = _LONE_SURROGATE.sub("\ufffd", child)
            elif isinstance(child, dict | list):
                stack.append(child)
    return value
