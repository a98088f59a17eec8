"""``parsers.text.clean``: its shortcut for clean text changes nothing."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from parsers.text import SOFT_HYPHEN, clean


def _reference(text: str) -> str:
    """The whole normalisation, done every time."""
    unescaped = html.unescape(text).replace(SOFT_HYPHEN, "")
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
