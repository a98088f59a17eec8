"""Text normalisation shared by the parsers."""

from __future__ import annotations

import html
import re

SOFT_HYPHEN = "\u00ad"
_SPACE = re.compile(r"\s+")
# What ``clean`` changes: entities, soft hyphens, runs of or unusual whitespace.
_DIRTY = re.compile(r"[&\u00ad]|\s\s|[^\S ]")


def clean(text: str | None) -> str | None:
    """Strip soft hyphens, decode stray entities and fold whitespace (NBSP included).

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
    return _SPACE.sub(" ", text).strip()
