"""An organization page whose embedded action list is no list, or whose plan is no
object, is an unreadable page, not a parser failure.

Found changing values in the embedded data of fixture pages and running `planwatch
parse`: with the organization query's ``"actions"`` holding a number (``5``, ``true``)
the parse ended in TypeError ("'int' object is not iterable"), and with
``"planFromOrgQuery"`` holding a string, in AttributeError: a traceback and ``seen:
parser_error`` where a changed format of a field is documented to give
``unreadable_values`` (as it does for a string there, or on action lists and API
answers). Both now name the value in an ``unreadable_values`` anomaly.
"""

from __future__ import annotations

import gzip
import re

import pytest

from parsers.kausal import parse_page
from parsers.records import Anomaly, Outcome, PageKind
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "organization-4.en.html.gz"
URL = "http://demo.localhost:3000/en/organizations/4"
# The embedded data is a JSON text inside a JavaScript string: quotes are escaped.
ACTIONS = re.compile(r'(\\"planFromOrgQuery\\":\{.*?\\"actions\\":)\[')


def _body() -> str:
    return gzip.decompress(PAGE.read_bytes()).decode()


def _with_actions(value: str) -> str:
    body = _body()
    found = ACTIONS.search(body)
    assert found is not None
    # Drop the list: from its "[" to the matching "]".
    start = found.end() - 1
    depth = 0
    for end in range(start, len(body)):
        depth += {"[": 1, "]": -1}.get(body[end], 0)
        if depth == 0:
            break
    return body[:start] + value + body[end + 1 :]


def _unreadable(anomalies: tuple[Anomaly, ...]) -> list[str]:
    return [a.detail for a in anomalies if a.code == "unreadable_values"]


def test_the_page_reads_as_it_is() -> None:
    page = parse_page(_body(), URL)

    assert page.outcome is Outcome.OK
    assert page.actions
    assert _unreadable(page.anomalies) == []


@pytest.mark.parametrize("value", ["5", "0", "false", "true", "1.5", '\\"five\\"'])
def test_actions_that_are_no_list_are_unreadable(value: str) -> None:
    page = parse_page(_with_actions(value), URL)

    assert page.kind is PageKind.ORGANIZATION
    assert page.actions == ()
    (detail,) = _unreadable(page.anomalies)
    assert "actions" in detail


def test_a_plan_that_is_no_object_is_unreadable() -> None:
    body = _body().replace(
        '\\"planFromOrgQuery\\":{', '\\"planFromOrgQuery\\":\\"x\\",\\"was\\":{', 1
    )

    page = parse_page(body, URL)

    assert page.kind is PageKind.ORGANIZATION
    assert page.actions == ()
    (detail,) = _unreadable(page.anomalies)
    assert "planFromOrgQuery" in detail
