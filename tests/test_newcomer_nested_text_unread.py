"""An object or a list where an embedded status, phase, summary, task state or role
gives its text is an unreadable value, not a value the page left out.

Found changing values in the embedded data of fixture pages and running `planwatch
parse`: with ``"status":{"identifier":"in_progress",...}`` given the identifier
``{}`` or ``[1]``, the status came out with no identifier and no anomaly (a check
would say the status changed), and likewise a phase's or status summary's
identifier, a task's ``state`` (the task then no longer counted, the task bar's
total dropping without a word) and a responsible party's ``role``. Top-level
fields already said so (``"status":"on time"``); these, one level down, now do
too.
"""

from __future__ import annotations

import gzip
import re

import pytest

from parsers.kausal import parse_page
from parsers.records import Anomaly
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-1.en.html.gz"
URL = "http://demo.localhost:3000/en/actions/1"


def _body() -> str:
    return gzip.decompress(PAGE.read_bytes()).decode()


def _unreadable(anomalies: tuple[Anomaly, ...]) -> list[str]:
    return [a.detail for a in anomalies if a.code == "unreadable_values"]


def test_the_page_reads_as_it_is() -> None:
    page = parse_page(_body(), URL)

    (action,) = page.actions
    assert action.status is not None
    assert action.status.identifier == "in_progress"
    assert _unreadable(page.anomalies) == []


# The flight payload is JSON inside a JS string: its quotes are escaped (\\").
@pytest.mark.parametrize(
    ("given", "said"),
    [
        ('\\"status\\":{\\"id\\":\\"5\\",', "status identifier"),
        (
            '\\"implementationPhase\\":{\\"id\\":\\"3\\",',
            "implementationPhase identifier",
        ),
        ('\\"statusSummary\\":{', "statusSummary identifier"),
        ('\\"state\\":\\"IN_PROGRESS\\"', "state"),
        ('\\"role\\":\\"PRIMARY\\"', "role"),
    ],
)
@pytest.mark.parametrize("value", ["{}", "[1]"])
def test_an_object_where_text_belongs_is_said(
    given: str, said: str, value: str
) -> None:
    body = _body()
    assert body.count(given) == 1
    if given.endswith("{") or given.endswith(","):
        # An object's identifier: written right after what is given.
        damaged = re.sub(
            re.escape(given) + r'\\"identifier\\":\\"[^\\]*\\"',
            lambda _: given + '\\"identifier\\":' + value,
            body,
        )
    else:
        key = given.split(":")[0]
        damaged = body.replace(given, f"{key}:{value}")
    assert damaged != body

    page = parse_page(damaged, URL)

    assert page.actions
    (detail,) = _unreadable(page.anomalies)
    assert said in detail
