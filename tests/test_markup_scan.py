"""A scan's root is the document's first <html> element, on real and odd documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.localserve import read_fixture
from parsers import markup
from tests.conftest import FIXTURES

PAGES = sorted(
    [
        *(FIXTURES / "lab-2024" / "before" / "html").glob("*.html*"),
        *(FIXTURES / "ui-2026" / "html").glob("*.html*"),
        *(FIXTURES / "series-2024" / "r06" / "html").glob("*.html*"),
        *(FIXTURES / "bigcity-2024" / "before" / "html").glob("*.html*"),
    ]
)


def _read(path: Path) -> bytes:
    return read_fixture(path.with_name(path.name.removesuffix(".gz")))


@pytest.mark.parametrize(
    "path", PAGES, ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_the_root_is_the_first_html_element(path: Path) -> None:
    # The scan takes the document element rather than walking for <html>.
    tree = LexborHTMLParser(_read(path))

    root = markup.Scan(tree).root

    assert root is not None
    first = tree.css_first("html")
    assert first is not None
    assert root.html == first.html


@pytest.mark.parametrize(
    "markup_text",
    ["", "text", "<svg><html lang=x></html></svg>", "<html lang=fi><html lang=sv>"],
)
def test_odd_documents_have_their_root_too(markup_text: str) -> None:
    tree = LexborHTMLParser(markup_text)

    root = markup.Scan(tree).root

    first = tree.css_first("html")
    assert root is not None
    assert first is not None
    assert (root.tag, root.attributes) == (first.tag, first.attributes)


def test_contains_looks_below_every_level() -> None:
    tree = LexborHTMLParser(
        "<a id='deep'><span><b><div>x</div></b></span></a><a id='flat'>text</a>"
    )
    deep, flat = tree.css_first("#deep"), tree.css_first("#flat")

    assert deep is not None
    assert flat is not None
    assert markup._contains(deep, "div")
    assert not markup._contains(deep, "table")
    assert not markup._contains(flat, "div")
