"""One walk of the document finds what the separate CSS queries would."""

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
PARTS = {
    "scripts": "script",
    "row_titles": "th.row-title[id^='row-']",
    "task_bars": "div.completed",
    "tables": "table[aria-rowcount]",
    "headings": "h2, h3",
    "links": "li > a[href]",
}


def _read(path: Path) -> bytes:
    return read_fixture(path.with_name(path.name.removesuffix(".gz")))


@pytest.mark.parametrize(
    "path", PAGES, ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_scan_matches_each_query(path: Path) -> None:
    tree = LexborHTMLParser(_read(path))

    scan = markup.Scan(tree)

    for part, selector in PARTS.items():
        found = [node.html for node in getattr(scan, part)]
        assert found == [node.html for node in tree.css(selector)], part
    root = tree.css_first("html")
    assert (scan.root.html if scan.root else None) == (root.html if root else None)


def test_pages_cover_every_part() -> None:
    # The comparison above means little unless the pages hold each kind of node.
    seen = {part: False for part in PARTS}
    for path in PAGES:
        scan = markup.Scan(LexborHTMLParser(_read(path)))
        for part in PARTS:
            seen[part] = seen[part] or bool(getattr(scan, part))
    assert all(seen.values()), seen


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
