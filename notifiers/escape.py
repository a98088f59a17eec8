"""Making untrusted page content inert in text, Markdown and HTML messages.

Names, labels and reasons come from watched pages, which anyone with edit rights
on a plan (or on the server) controls. Whatever they hold, a message shows them as
plain words on one line:

- newlines and control characters go, so a name cannot start a fake entry;
- anything a mail or chat client would turn into a link is defanged
  (``https://x.example`` reads ``https[:]//x[.]example``), in every format,
  because clients link bare addresses in plain text too;
- Markdown punctuation is backslash-escaped, HTML is entity-escaped (by Jinja's
  autoescape).

Links planwatch itself vouches for (an action's page on a site it fetched) are
built by :func:`link` and marked safe; nothing else is.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from markupsafe import Markup, escape

_SPACE = re.compile(r"\s+")
# A dot between a word and two or more letters reads as a domain to autolinkers
# ("example.org", "www.x.fi"); "2.5", "e.g." and "No. 3" are left alone.
_DOMAIN_DOT = re.compile(r"(?<=\w)\.(?=[^\W\d_]{2,})")
_SCHEME_SEP = re.compile(r":(?=//)")
# Backslash escapes for the characters that open Markdown markup mid-line: emphasis,
# code, links and images, strikethrough.
_MARKDOWN = re.compile(r"([\\`*_\[\]~])")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
_BLOCK_START = re.compile(r"^([-+#=|])")
# Characters that only lay a line out: keep nothing that can reorder or hide text.
_LAYOUT = {"Cc", "Cf", "Zl", "Zp"}


def one_line(value: str) -> str:
    """Whitespace collapsed, control and bidirectional-override characters gone."""
    kept = "".join(
        " " if unicodedata.category(c) in _LAYOUT else c
        for c in value
        if c not in "\u00ad"  # soft hyphens: invisible, never meaningful here
    )
    return _SPACE.sub(" ", kept).strip()


def defang(value: str) -> str:
    value = _SCHEME_SEP.sub("[:]", value)
    return _DOMAIN_DOT.sub("[.]", value)


def as_text(value: object) -> str:
    return defang(one_line(str(value)))


def as_markdown(value: object) -> str:
    text = as_text(value)
    # Entities for what opens HTML (every Markdown dialect, Slack's too, reads
    # them as text), backslashes for what opens emphasis, code and links.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(r"\\\1", text)
    # A value may open a list item's text, where "3." or "-" would start a list.
    text = _LIST_NUMBER.sub(r"\1\\\2", text)
    return _BLOCK_START.sub(r"\\\1", text)


def as_html_text(value: object) -> str:
    """Defanged and on one line; Jinja's autoescape does the entities."""
    return as_text(value)


def link(url: str, body_format: str) -> Markup:
    """A vetted http(s) URL, encoded so that it cannot leave its place."""
    # Percent-encode what could end a Markdown link or an HTML attribute early.
    safe = quote(url, safe="/:?#[]@!$&'*+,;=%-._~")
    safe = safe.replace("'", "%27").replace("[", "%5B").replace("]", "%5D")
    if body_format == "html":
        return Markup(escape(safe))  # noqa: S704 (percent-encoded, then escaped)
    return Markup(safe)  # noqa: S704 (percent-encoded: nothing can close the link)


def finalizer(body_format: str) -> object:
    """Jinja ``finalize`` for a format: escape every value not marked safe."""
    convert = {"text": as_text, "markdown": as_markdown, "html": as_html_text}[
        body_format
    ]

    def finalize(value: object) -> object:
        if isinstance(value, Markup) or value is None:
            return "" if value is None else value
        return convert(value)

    return finalize
