"""The embedded data read from the body before the HTML parse reads as the whole page.

``parse_page`` takes the embedded-data scripts out of the body and parses the markup
without them (``parsers.embedded.cut_scripts``); ``parsers.kausal.parse_whole``
parses the page as it came. Both must give the same page for every body: the real
pages, and real pages with the text around their scripts made awkward for a cut
(markup, comments, references, CR, NUL, bytes that are no UTF-8, foreign content).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from monitor.localserve import read_fixture
from parsers import embedded, markup
from parsers.kausal import _parse_cut, parse_page, parse_whole
from tests.conftest import FIXTURES

SEEN = datetime(2026, 5, 1, tzinfo=UTC)
HOST = "http://demo.localhost:3000"
FLIGHT = b"<script>self.__next_f.push("


def _url(path: Path) -> str:
    stem = path.name.split(".html")[0]
    name, lang = stem.rsplit(".", 1)
    prefix = HOST + ("" if lang == "fi" else f"/{lang}")
    if name.startswith("action-list"):
        view = "?view=dashboard" if name.endswith("dashboard") else ""
        return f"{prefix}/actions{view}"
    kind, _, ident = name.partition("-")
    section = "organizations" if kind == "organization" else "actions"
    return f"{prefix}/{section}/{ident}"


def _fixture_pages() -> list[Path]:
    found = sorted(FIXTURES.glob("lab-2024/*/html/*.html.gz"))
    found += sorted(FIXTURES.glob("ui-2026/html/*.html.gz"))
    found += sorted(FIXTURES.glob("series-2024/r06/html/*.html.gz"))
    return [path.with_name(path.name.removesuffix(".gz")) for path in found]


@functools.cache
def _page(path: Path) -> tuple[bytes, str]:
    return read_fixture(path), _url(path)


def _same(body: bytes | str, url: str) -> None:
    assert parse_page(body, url, observed_at=SEEN) == parse_whole(
        body, url, (SEEN, None)
    )


@pytest.mark.parametrize("path", _fixture_pages(), ids=lambda p: p.name)
def test_every_fixture_page_reads_the_same_cut_or_whole(path: Path) -> None:
    body, url = _page(path)

    _same(body, url)
    _same(body.decode("utf-8"), url)


def test_real_pages_take_the_cut() -> None:
    body, url = _page(FIXTURES / "lab-2024/before/html/organization-2.fi.html")

    cut = embedded.cut_scripts(body)

    assert cut is not None
    assert len(cut.texts) == body.count(FLIGHT)
    assert FLIGHT not in cut.markup
    assert len(cut.markup) < len(body) / 2
    assert _parse_cut(body, url, (SEEN, None)) is not None


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(b'<script>self.__next_f.push([1,"<b>"])</script>', id="markup"),
        pytest.param(b'<script>self.__next_f.push([1,"&amp;"])</script>', id="entity"),
        pytest.param(b'<script>self.__next_f.push([1,"a"])\r</script>', id="cr"),
        pytest.param(b'<script>self.__next_f.push([1,"\x00"])</script>', id="nul"),
        pytest.param(b'<script>self.__next_f.push([1,"\xff"])</script>', id="utf8"),
        pytest.param(b'<script>self.__next_f.push([1,"a"])</scripts>', id="end"),
    ],
)
def test_a_script_whose_text_the_parser_would_change_is_not_cut(script: bytes) -> None:
    body = b"<html><body><p>x</p>" + script + b"</body></html>"

    assert embedded.cut_scripts(body) is None
    _same(body, HOST + "/actions")


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(b"<!-- ", id="comment"),
        pytest.param(b"<textarea>", id="textarea"),
        pytest.param(b'<div title="', id="attribute"),
        pytest.param(b"<style>", id="style"),
        pytest.param(b"<xmp>", id="xmp"),
    ],
)
def test_a_cut_the_parser_does_not_confirm_is_undone(before: bytes) -> None:
    body, url = _page(FIXTURES / "lab-2024/before/html/organization-2.fi.html")
    at = body.index(FLIGHT)
    body = body[:at] + before + body[at:]

    cut = embedded.cut_scripts(body)

    assert cut is not None  # the bytes look like scripts; the tree says otherwise
    assert cut.data(markup.Scan(LexborHTMLParser(cut.markup)).scripts) is None
    _same(body, url)


# A flight script inside a comment: bytes a cut takes for a script, the tree does not.
_HIDDEN = (
    b"<!-- <script>self.__next_f.push("
    b'[1,"0:{\\"planFromOrgQuery\\":{},\\"org\\":{\\"id\\":\\"9\\"}}\\n"]'
    b")</script> -->"
)


@pytest.mark.parametrize(
    "own",
    [
        pytest.param(b"<script>planwatch:cut:0</script>", id="script"),
        pytest.param(b"<svg><script>planwatch&#58;cut:0</script></svg>", id="svg"),
    ],
)
def test_no_script_of_the_page_passes_for_a_placeholder(own: bytes) -> None:
    body = b"<html><body>" + _HIDDEN + own + b"</body></html>"
    url = HOST + "/organizations/9"

    page = parse_page(body, url, observed_at=SEEN)

    assert page.organization is None  # the data in the comment is not read
    _same(body, url)


def test_a_script_around_a_cut_one_is_read_whole() -> None:
    # In MathML the outer script holds the inner one: its text held the
    # placeholder, so its "planActions":[] was missing cut, and the second
    # script's unreadable action read instead.
    apollo = '(window[Symbol.for("ApolloSSRDataTransport")] ??= []).push('
    body = (
        f"<math><script>{apollo}"
        '<script>self.__next_f.push("planActions":[])</script></math>'
        f'<script>{apollo}{{"planActions":[{{}}]}})</script>'
    )

    page = parse_page(body, HOST + "/actions", observed_at=SEEN)

    assert page.anomalies == ()
    _same(body, HOST + "/actions")


_BOM_FLIGHT = (
    '<script>self.__next_f.push(\ufeff[1,"0:{\\"planFromOrgQuery\\":{},'
    '\\"org\\":{\\"id\\":\\"9\\"}}\\n"])</script>'
)
_BOM_APOLLO = (
    '<script>self.__next_f.push([1,"0:{\\"planActions\\":[]}\\n"])</script>'
    '<script>(window[Symbol.for("ApolloSSRDataTransport")] ??= [])'
    '.push(\ufeff{"rehydrate":{},"results":[{"primaryLanguage":"fi"}]})</script>'
)


@pytest.mark.parametrize(
    ("script", "path"),
    [
        pytest.param(_BOM_FLIGHT, "/organizations/9", id="flight"),
        pytest.param(_BOM_APOLLO, "/actions", id="apollo"),
    ],
)
@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "text"])
def test_a_byte_order_mark_inside_a_script_reads_as_in_the_tree(
    script: str, path: str, as_text: bool
) -> None:
    # json.loads takes bytes that start with a byte order mark, not such text.
    body = f"<html><body>{script}</body></html>"

    _same(body if as_text else body.encode(), HOST + path)


_AWKWARD = st.sampled_from(
    [
        b"<",
        b"</script>",
        b"</SCRIPT >",
        b"<script>",
        b'<script>self.__next_f.push([1,"9:{}\\n"])</script>',
        b"<!--",
        b"-->",
        b"&",
        b"&lt;",
        b"\r",
        b"\x00",
        b"\xff",
        b"\xc3",
        b"<svg>",
        b"<math>",
        b"<template>",
        b"<textarea>",
        b"<title>",
        b"<style>",
        b'"',
        b"'",
        b">",
        b"planwatch:cut:0",
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    index=st.integers(0, 2),
    splices=st.lists(st.tuples(st.floats(0, 1), _AWKWARD), min_size=1, max_size=4),
    as_text=st.booleans(),
)
def test_awkward_text_anywhere_reads_the_same_cut_or_whole(
    index: int, splices: list[tuple[float, bytes]], as_text: bool
) -> None:
    paths = [
        FIXTURES / "lab-2024/before/html/organization-2.fi.html",
        FIXTURES / "lab-2024/after/html/action-list.en.html",
        FIXTURES / "ui-2026/html/action-1.en.html",
    ]
    body, url = _page(paths[index])
    # Near the scripts, where a cut could go wrong, as often as anywhere else.
    scripts = body.index(FLIGHT)
    for where, piece in splices:
        at = int(scripts + where * (len(body) - scripts))
        body = body[:at] + piece + body[at:]

    _same(body.decode("utf-8", "surrogateescape") if as_text else body, url)
