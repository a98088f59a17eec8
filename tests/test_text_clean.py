"""``parsers.text.clean``: its shortcut for clean text changes nothing."""

from __future__ import annotations

import html
import re
from html.entities import html5

from hypothesis import given
from hypothesis import strategies as st

from parsers.text import SOFT_HYPHEN, clean


def _reference(text: str) -> str:
    """The whole normalisation, done every time."""
    # Whole entity references only: "&reg;" is "®", "&regional" stays as it is.
    unescaped = re.sub(
        r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);",
        lambda m: (
            html.unescape(m[0]) if m[1][0] == "#" or m[1] + ";" in html5 else m[0]
        ),
        text,
    ).replace(SOFT_HYPHEN, "")
    return re.sub(r"\s+", " ", unescaped).strip()


_TRICKY = st.sampled_from(
    [
        " ",
        "  ",
        "\u00a0",
        "\u00ad",
        "\t",
        "\n",
        "\u2028",
        "\u3000",
        "&",
        "&amp;",
        "&nbsp;",
        "&reg",
        "&reg;",
        "ional",
        "&#8211;",
        "\x85",
        "\x1f",
        "ä",
        "Käynnissä",
        "1.2.",
    ]
)


@given(st.lists(st.one_of(st.text(), _TRICKY), max_size=12).map("".join))
def test_clean_is_the_whole_normalisation(text: str) -> None:
    assert clean(text) == _reference(text)


def test_names_are_kept_as_published() -> None:
    assert clean(" Raitio\u00adtiet\u00a0ja  pyörät ") == "Raitiotiet ja pyörät"
    assert clean("A &amp; B") == "A & B"
    assert clean("1.2. Trams") == "1.2. Trams"
    assert clean(None) is None
