"""Whatever bytes a site answers with, parsing ends in an outcome, never a crash.

Real pages cut short, with bytes changed, with parts of their embedded data broken
or swapped, and made-up fragments: ``parse_page`` returns a ``ParsedPage`` for each.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.localserve import read_fixture
from parsers.kausal import parse_page
from parsers.records import Outcome, ParsedPage
from tests.conftest import FIXTURES

SEEN = datetime(2026, 5, 1, tzinfo=UTC)
HOST = "http://demo.localhost:3000"
PAGES = [
    ("lab-2024/before", "action-1.fi", "/actions/1"),
    ("lab-2024/before", "action-list.en", "/en/actions"),
    ("lab-2024/before", "organization-2.fi", "/organizations/2"),
    ("ui-2026", "action-1.en", "/en/actions/1"),
    ("ui-2026", "action-list.fi", "/actions"),
    ("ui-2026", "organization-1.fi", "/organizations/1"),
]


@functools.cache
def _pages() -> list[tuple[bytes, str]]:
    return [
        (read_fixture(FIXTURES / folder / "html" / f"{stem}.html"), HOST + path)
        for folder, stem, path in PAGES
    ]


def _check(page: ParsedPage) -> None:
    assert isinstance(page, ParsedPage)
    if page.outcome is not Outcome.OK:
        assert page.actions == ()
    for action in page.actions:
        assert isinstance(action.id, str)
        assert action.id
    # Every text has a UTF-8 form, which storing, showing and sending it needs.
    msgspec.json.encode(page)


# Pieces of the embedded data's own syntax: a mutation that lands among them can
# break a row, a reference, an escape or the Apollo literal in every way.
_JUNK = st.sampled_from(
    [
        b'"$1"',
        b'"$L2"',
        b'"$D',
        b"$undefined",
        b"undefined",
        b"\\ud800",
        b"\\\\udc00",
        b"\xed\xa0\x80",
        b"\\",
        b'"',
        b"{",
        b"]",
        b"\n",
        b"T5,",
        b"NaN",
        b"1e999",
        b"</script>",
        b"<script>",
        b'"id":null',
        b'"tasks":{}',
        b'"status":"x"',
        b"\xff\xfe",
        b"\xc3",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, 5),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 40), _JUNK), min_size=1, max_size=6
    ),
)
def test_damaged_real_pages_end_in_an_outcome(
    index: int, edits: list[tuple[float, int, bytes]]
) -> None:
    body, url = _pages()[index]
    for where, cut, junk in edits:
        at = int(where * len(body))
        body = body[:at] + junk + body[at + cut :]

    _check(parse_page(body, url, observed_at=SEEN))


@settings(max_examples=30, deadline=None)
@given(index=st.integers(0, 5), where=st.floats(0, 1))
def test_pages_cut_short_end_in_an_outcome(index: int, where: float) -> None:
    body, url = _pages()[index]

    _check(parse_page(body[: int(where * len(body))], url, observed_at=SEEN))


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=300)
    | st.lists(_JUNK, max_size=30).map(b"".join)
    | st.lists(_JUNK, max_size=20).map(
        lambda parts: b'<script>self.__next_f.push([1,"' + b"".join(parts) + b'"])'
    ),
    url=st.sampled_from([HOST + p for *_, p in PAGES] + ["not a url", ""]),
)
def test_made_up_bodies_end_in_an_outcome(body: bytes, url: str) -> None:
    _check(parse_page(body, url, observed_at=SEEN))


def _flight(rows: str) -> bytes:
    script = f"<script>self.__next_f.push({json.dumps([1, rows])})</script>"
    return f"<html><body>{script}</body></html>".encode()


def _apollo(literal: str) -> bytes:
    return (
        '<html><body><script>(window[Symbol.for("ApolloSSRDataTransport")] ??= [])'
        f".push({literal})</script></body></html>"
    ).encode()


_DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(_flight(f"0:{_DEEP}\n"), "/organizations/2", id="flight-row"),
        pytest.param(
            _flight(f'0:{{"planFromOrgQuery":{{}},"x":{_DEEP}}}\n'),
            "/organizations/2",
            id="flight-props",
        ),
        pytest.param(
            _apollo(f'{{"rehydrate":{{}},"results":[{{"planActions":{_DEEP}}}]}}'),
            "/actions",
            id="apollo-value",
        ),
        pytest.param(
            _apollo(f'{{"rehydrate":{{}},"x":undefined,"planActions":1,"y":{_DEEP}}}'),
            "/actions",
            id="apollo-literal",
        ),
    ],
)
def test_embedded_data_nested_past_the_recursion_limit_is_unreadable(
    body: bytes, path: str
) -> None:
    # msgspec and json both recurse: this nesting raised RecursionError.
    page = parse_page(body, HOST + path, observed_at=SEEN)

    _check(page)
    assert page.outcome is Outcome.LAYOUT_UNRECOGNISED


@pytest.mark.parametrize("value", ["5", "true", "1.5"])
def test_a_plan_context_of_numbers_where_lists_belong_is_read_without_them(
    value: str,
) -> None:
    # actionStatuses: 5 (or the phases, the timeliness classes, the languages)
    # was a TypeError out of the parse.
    keys = ("actionStatuses", "actionImplementationPhases", "actionTimelinessClasses")
    context = ",".join(f'"{key}":{value}' for key in (*keys, "otherLanguages"))
    body = _flight(
        '0:{"planFromOrgQuery":{"actions":[]},"org":{"id":"9"}}\n'
        f'1:{{"primaryLanguage":"fi",{context}}}\n'
    )

    page = parse_page(body, HOST + "/organizations/9", observed_at=SEEN)

    _check(page)
    assert page.plan is not None
    assert (page.plan.languages, page.plan.statuses, page.plan.phases) == (
        ("fi",),
        (),
        (),
    )
