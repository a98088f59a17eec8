"""An action whose embedded id is missing or is no id is an unreadable value, never
an action with the id "None" or "{}".

Found changing values in the embedded data of fixture pages and running `planwatch
parse`: on an action page, ``"id":null`` gave the action the id ``"None"`` (the
text), and ``{}``, ``[1]``, ``true`` or ``{"x":1}`` anywhere gave ids ``"{}"``,
``"[1]"``, ``"True"``, ``"{'x': 1}"``, all with no anomaly; a check would have
filed a new action under that id and missed the real one. Only an action list
said "an action without an id", and only for null. The platform's ids are text
or whole numbers; anything else is now no id, said in ``unreadable_values``, and
an action page's action is keyed by its identifier meanwhile.
"""

from __future__ import annotations

import gzip
import re

import pytest

from parsers.kausal import parse_page
from parsers.records import ID_FROM_IDENTIFIER, Anomaly
from tests.conftest import FIXTURES

LAB = FIXTURES / "lab-2024" / "before" / "html"
# The flight payload is JSON inside a JS string: its quotes are escaped (\\").
ACTION_ID = '\\"action\\":{\\"id\\":\\"1\\"'
LISTED_ID = re.compile(r'(\\"actions\\":\[\{\\"id\\":)\\"1\\"')


def _page(name: str) -> str:
    return gzip.decompress((LAB / f"{name}.html.gz").read_bytes()).decode()


def _unreadable(anomalies: tuple[Anomaly, ...]) -> list[str]:
    return [a.detail for a in anomalies if a.code == "unreadable_values"]


@pytest.mark.parametrize("value", ["7", '\\"7\\"'])
def test_an_id_that_is_text_or_a_number_reads(value: str) -> None:
    body = _page("action-1.en")
    assert body.count(ACTION_ID) == 1
    body = body.replace(ACTION_ID, '\\"action\\":{\\"id\\":' + value)

    page = parse_page(body, "http://demo.localhost:3000/en/actions/1")

    assert [a.id for a in page.actions] == ["7"]
    assert _unreadable(page.anomalies) == []


@pytest.mark.parametrize("value", ["null", "{}", "[1]", "true", '{\\"x\\":1}', "1.5"])
def test_an_action_page_whose_action_has_no_id_says_so(value: str) -> None:
    body = _page("action-1.en").replace(ACTION_ID, '\\"action\\":{\\"id\\":' + value)

    page = parse_page(body, "http://demo.localhost:3000/en/actions/1")

    (action,) = page.actions
    assert action.id == ID_FROM_IDENTIFIER + "1"
    assert action.platform_id is None
    (detail,) = _unreadable(page.anomalies)
    assert "without an id" in detail


@pytest.mark.parametrize("value", ["{}", "[1]", "true", "1.5"])
def test_an_organization_page_action_with_no_id_is_left_out_and_said(
    value: str,
) -> None:
    body, count = LISTED_ID.subn(
        lambda m: m.group(1) + value.replace("\\", "\\\\"), _page("organization-2.en")
    )
    assert count == 1

    page = parse_page(body, "http://demo.localhost:3000/en/organizations/2")

    assert [a.id for a in page.actions] == ["5", "6", "7", "10"]
    (detail,) = _unreadable(page.anomalies)
    assert "without an id" in detail
