"""Text normalisation shared by the parsers."""

from __future__ import annotations

import html
import re

SOFT_HYPHEN = "\u00ad"
_SPACE = re.compile(r"\s+")
# What ``clean`` changes: entities, soft hyphens, runs of or unusual whitespace.
_DIRTY = re.compile(r"[&\u00ad\ud800-\udfff]|\s\s|[^\S ]")
# Half an emoji, from escaped JSON cut between the two: it has no UTF-8 form, so it
# could be neither stored, shown nor sent.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
    text = html.unescape(text).replace(SOFT_HYPHEN, "")
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return _SPACE.sub(" ", text).strip()
