"""An id of a responsible party's organization, an action's primary organization
or a related indicator that is no id is an unreadable value, never the
organization "{}" or "True".

Found changing values in the embedded data of fixture pages and running `planwatch
parse`: with a responsible party's ``"organization":{"id":"4",...}`` given the id
``{}``, ``[1]`` or ``true``, the party came out as organization ``"{}"``,
``"[1]"`` or ``"True"``; with ``primaryOrg``'s id ``true``, the primary
organization was ``"True"`` and with ``{}`` it was null; a related indicator's id
``{}`` became the indicator ``"{}"``: all with no anomaly, so a check would report
a responsible party replaced or the primary organization gone. Such ids now give
``unreadable_values`` and are left out.
"""

from __future__ import annotations

import gzip

import pytest

from parsers.kausal import parse_page
from parsers.records import Anomaly
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-1.en.html.gz"
URL = "http://demo.localhost:3000/en/actions/1"
# The flight payload is JSON inside a JS string: its quotes are escaped (\\").
PARTY = '\\"responsibleParties\\":[{\\"id\\":\\"1\\",\\"organization\\":{\\"id\\":'
PRIMARY = '\\"primaryOrg\\":{\\"id\\":'


def _with(prefix: str, value: str) -> str:
    body = gzip.decompress(PAGE.read_bytes()).decode()
    assert body.count(prefix + '\\"4\\"') == 1
    return body.replace(prefix + '\\"4\\"', prefix + value)


def _unreadable(anomalies: tuple[Anomaly, ...]) -> list[str]:
    return [a.detail for a in anomalies if a.code == "unreadable_values"]


@pytest.mark.parametrize("value", ['\\"4\\"', "4"])
def test_ids_that_are_text_or_numbers_read(value: str) -> None:
    page = parse_page(_with(PRIMARY, value), URL)

    (action,) = page.actions
    assert action.primary_org_id == "4"
    assert action.responsible_parties is not None
    assert [p.organization_id for p in action.responsible_parties] == ["4", "2"]
    assert _unreadable(page.anomalies) == []


@pytest.mark.parametrize("value", ["{}", "[1]", "true", "1.5"])
def test_a_party_whose_organization_id_is_no_id_is_said(value: str) -> None:
    page = parse_page(_with(PARTY, value), URL)

    (action,) = page.actions
    assert action.responsible_parties is not None
    assert [p.organization_id for p in action.responsible_parties] == ["2"]
    (detail,) = _unreadable(page.anomalies)
    assert "organization id" in detail


@pytest.mark.parametrize("value", ["{}", "[1]", "true", "1.5"])
def test_a_primary_organization_id_that_is_no_id_is_said(value: str) -> None:
    page = parse_page(_with(PRIMARY, value), URL)

    (action,) = page.actions
    assert action.primary_org_id is None
    (detail,) = _unreadable(page.anomalies)
    assert "primaryOrg id" in detail


@pytest.mark.parametrize("value", ["{}", "true"])
def test_a_related_indicator_whose_id_is_no_id_is_said(value: str) -> None:
    indicator = '\\"indicator\\":{\\"id\\":'
    body = gzip.decompress(
        (FIXTURES / "ui-2026" / "html" / "action-1.en.html.gz").read_bytes()
    ).decode()
    whole = parse_page(body, URL)
    (action,) = whole.actions
    assert action.related_indicators is not None
    assert [i.id for i in action.related_indicators] == ["1"]
    assert body.count(indicator + '\\"1\\"') == 1

    page = parse_page(body.replace(indicator + '\\"1\\"', indicator + value), URL)

    (action,) = page.actions
    assert action.related_indicators == ()
    (detail,) = _unreadable(page.anomalies)
    assert "indicator's id" in detail
