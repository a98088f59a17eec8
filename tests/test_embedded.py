"""The embedded-data decoder: flight rows, references, escapes, the Apollo transport."""

from __future__ import annotations

import json
import re
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from parsers import embedded


def _page(*payloads: str, apollo: str | None = None) -> LexborHTMLParser:
    scripts = "".join(
        f"<script>self.__next_f.push({json.dumps([1, chunk])})</script>"
        for chunk in payloads
    )
    if apollo is not None:
        scripts += (
            '<script>(window[Symbol.for("ApolloSSRDataTransport")] ??= [])'
            f".push({apollo})</script>"
        )
    return LexborHTMLParser(f"<html><body>{scripts}</body></html>")


def test_rows_references_and_escapes() -> None:
    flight = (
        '1:{"name":"Shared org","id":"4"}\n'
        '2:["$","$L3",null,{"org":"$1","price":"$$5","when":"$D2026-12-03T16:21:08Z",'
        '"gone":"$undefined","who":"$1:name","lazy":"$L9"}]\n'
        "3:T6,héllo\n"  # a text row: the length counts UTF-8 bytes
        '4:I["chunk.js"]\n'
    )
    # Chunks split anywhere, even inside a row.
    data = embedded.extract(_page(flight[:30], flight[30:]))

    props = next(data.find_props("org"))
    assert props["org"] == {"name": "Shared org", "id": "4"}
    assert props["price"] == "$5"
    assert props["when"] == "2026-12-03T16:21:08Z"
    assert props["gone"] is None
    assert props["who"] == "Shared org"
    assert props["lazy"] is embedded.LAZY
    assert data.rows["3"] == "héllo"
    assert "4" not in data.rows  # imports carry no data
    assert data.chunks == 2


def test_rows_without_references_are_unescaped_in_the_text() -> None:
    flight = '5:{"a":"$$x","b":"$undefined","c":"$D2026-01-01","d":"plain \\"$$\\""}\n'

    rows = embedded.parse_rows(flight)

    assert rows["5"] == {"a": "$x", "b": None, "c": "2026-01-01", "d": 'plain "$$"'}


def test_cycles_do_not_hang() -> None:
    data = embedded.extract(_page('1:{"self":"$2"}\n2:{"back":"$1","key":1}\n'))

    found = next(data.find_props("key"))

    assert found["key"] == 1


def _chain(length: int, link: str) -> str:
    """Rows 0, 1, ... each referring to the next, ending in the text "end"."""
    rows = "".join(f"{i:x}:{link % (i + 1)}\n" for i in range(length))
    return f'a0000:{{"key":"$0"}}\n{rows}{length:x}:"end"\n'


@pytest.mark.parametrize("link", ['"$%x"', '["$%x"]', '{"to":"$%x"}'])
def test_a_chain_of_references_ends_where_no_real_page_goes(link: str) -> None:
    # 3,000 rows deep: resolving it recursed past the interpreter's limit, a
    # RecursionError out of parse_page. A real page's rows refer 4 deep.
    deep = embedded.extract(_page(_chain(3000, link)))
    real = embedded.extract(_page(_chain(10, link)))

    assert "key" in next(deep.find_props("key"))
    assert json.dumps(next(real.find_props("key"))).count("end") == 1


def test_lookups_are_shallow_first_and_cached() -> None:
    flight = '1:{"plan":{"inner":{"plan":{"deep":true}}},"x":1}\n'
    data = embedded.extract(_page(flight))

    first = next(data.find_props("plan"))
    again = list(data.find_props("plan"))

    assert first["x"] == 1
    assert again[0] is first
    assert again[1] == {"plan": {"deep": True}}


def test_a_text_rows_header_is_read_within_its_first_bytes() -> None:
    # Sixteen hex digits at most: "T" and a comma further on is no text row.
    rows = embedded.parse_rows(
        "1:T0000000000000003,abc\n2:T00000000000000003,abc\n3:T\n4:[1]\n"
    )

    assert rows == {"1": "abc", "4": [1]}


def test_rows_that_refer_to_one_row_walk_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each of 300 rows walked the shared list again: a page of 2,000 such rows
    # (125 kB) took 34 s to parse.
    walked: list[object] = []

    class Counting(deque[object]):
        def popleft(self) -> object:
            walked.append(node := super().popleft())
            return node

    monkeypatch.setattr(embedded, "deque", Counting)
    shared = "1:[" + ",".join(["[]"] * 1000) + "]\n"
    rows = "".join(f'{i + 2:x}:{{"key":{i},"to":"$1"}}\n' for i in range(300))
    data = embedded.extract(_page(shared + rows))

    found = [props["key"] for props in data.find_props("key")]

    assert found == list(range(300))
    assert len(walked) < 2 * (1000 + 300 * 2)


def test_apollo_literal_with_undefined_and_partial_decoding() -> None:
    literal = (
        '{"rehydrate":{"r1":{"data":{"planActions":[{"id":"1","note":"undefined"}],'
        '"other":undefined},"loading":false}},"events":[]}'
    )
    data = embedded.extract(_page(apollo=literal))

    actions = data.first_list("planActions")

    assert actions == [{"id": "1", "note": "undefined"}]
    # Only the list was decoded; the whole payload still reads when asked for.
    assert not data.apollo_scripts[0].decoded
    whole = data.apollo[0]
    assert whole["rehydrate"]["r1"]["data"]["other"] is None


def test_undefined_inside_a_string_of_an_apollo_literal_is_text() -> None:
    literal = '{"x":undefined,"name":"Plan:undefined,x","list":[undefined]}'

    value = embedded._js_literal(embedded._Apollo(literal))

    assert value == {"x": None, "name": "Plan:undefined,x", "list": [None]}


def test_a_string_the_literal_never_closes_is_scanned_once() -> None:
    # Every escaped quote of an unclosed string started a new scan to the end.
    literal = '{"planActions":"x","s":"' + '\\"' * 20 + "undefined"
    tokens = embedded._JS_TOKEN.findall(literal)

    assert tokens[-1] == '"' + '\\"' * 20 + "undefined"
    assert embedded._js_literal(embedded._Apollo(literal)) is None


def test_apollo_2024_superjson_wrapper() -> None:
    literal = '{"json":{"rehydrate":{"x":{"data":{"planActions":[]}}}},"meta":{}}'
    data = embedded.extract(_page(apollo=literal))

    assert data.apollo == [{"rehydrate": {"x": {"data": {"planActions": []}}}}]


def test_not_found_markers_of_both_generations() -> None:
    old = embedded.extract(_page('1:E{"digest":"NEXT_NOT_FOUND"}\n'))
    new = embedded.extract(_page('1:E{"digest":"NEXT_HTTP_ERROR_FALLBACK;404"}\n'))
    normal = embedded.extract(_page('1:{"org":{}}\n'))

    assert old.not_found
    assert new.not_found
    assert not normal.not_found


def test_broken_chunks_and_rows_are_skipped() -> None:
    tree = LexborHTMLParser(
        "<script>self.__next_f.push([1, broken</script>"
        '<script>self.__next_f.push([1,"1:{not json\\n2:{\\"ok\\":1}\\n"])</script>'
    )

    data = embedded.extract(tree)

    assert data.rows == {"2": {"ok": 1}}


@settings(max_examples=100, deadline=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=20,
    ),
    cut=st.integers(0, 200),
)
def test_any_json_row_survives_escaping_and_chunking(value: object, cut: int) -> None:
    # The flight encoding: strings starting with "$" are written with "$$".
    def escape(item: object) -> object:
        if isinstance(item, str):
            return "$" + item if item.startswith("$") else item
        if isinstance(item, list):
            return [escape(i) for i in item]
        if isinstance(item, dict):
            return {k: escape(v) for k, v in item.items()}
        return item

    flight = "a:" + json.dumps({"key": escape(value)}) + "\n"
    data = embedded.extract(_page(flight[:cut], flight[cut:]))

    assert next(data.find_props("key"))["key"] == value


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64, max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=_JSON_VALUES)
def test_loads_answers_as_the_standard_library_does(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)

    assert json.dumps(embedded.loads(text)) == json.dumps(json.loads(text))


def test_loads_falls_back_where_msgspec_refuses() -> None:
    # Not JSON, but what json.loads accepts; msgspec refuses each of these.
    assert str(embedded.loads("[NaN, 1e400]")) == "[nan, inf]"
    # A lone surrogate, escaped or the character itself, has no UTF-8 form: U+FFFD
    # takes its place, in keys too; a pair is one character.
    assert embedded.loads('"\\ud800"') == "\ufffd"
    assert embedded.loads('{"\ud800": ["\\udc00x"]}') == {"\ufffd": ["\ufffdx"]}
    assert embedded.loads('"\\ud83d\\ude00"') == "\U0001f600"


@settings(max_examples=200, deadline=None)
@given(
    value=_JSON_VALUES,
    before=st.text(max_size=6),
    after=st.sampled_from(["", "}", ',"x":[1]}', " ,\n\t{", "]]", "undefined}"]),
)
def test_a_value_inside_a_larger_text(value: object, before: str, after: str) -> None:
    prefix = f'{{"{before}":1,"key": '.encode()
    raw = prefix + json.dumps(value, ensure_ascii=False).encode() + after.encode()

    found = embedded._value_at(raw, len(prefix))

    assert json.dumps(found) == json.dumps(value)


def test_a_value_that_does_not_decode_is_none() -> None:
    raw = b'{"key": [1, undefined], "other": 2}'

    assert embedded._value_at(raw, raw.index(b"[")) is None


def test_a_value_is_read_when_msgspec_words_its_errors_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where the value ends comes from msgspec's error message; if a later msgspec
    # words it differently, the standard library reads the value instead.
    monkeypatch.setattr(embedded, "_TRAILING", re.compile(r"no such words"))
    raw = '{"a": 1, "key": [{"ä": "]"}, 2], "b": [3]}'.encode()

    assert embedded._value_at(raw, raw.index(b"[")) == [{"ä": "]"}, 2]


def test_a_lone_surrogate_in_a_chunk_becomes_a_replacement_character() -> None:
    # The chunk's JSON string escapes a lone surrogate: a str, but not UTF-8. A text
    # row's length counts it as the three bytes the server's encoder wrote (U+FFFD).
    tree = LexborHTMLParser(
        '<script>self.__next_f.push([1,"1:{\\"a\\":\\"\\ud800\\"}\\n'
        '2:T4,\\udc00x3:T3,abc\\n"])</script>'
    )

    data = embedded.extract(tree)

    assert data.rows == {"1": {"a": "\ufffd"}, "2": "\ufffdx", "3": "abc"}
