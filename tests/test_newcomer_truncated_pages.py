"""A page cut short before its embedded data is not read from what markup is left.

Found cutting fixture pages short (a dropped stream, a truncated WARC record, a
download stopped midway) and running `planwatch parse` on them: the 2024 builds
put an action page's embedded data after its markup, so a page cut inside the
markup had no embedded data and was read from its markup, as an older or newer UI
build would be. It came out ``outcome: ok`` with nothing but the usual
``ids_missing`` note, and with whatever the cut had left: no responsible parties,
no update date, the task list and completion gone or half there. A check would
have stored that as the action's new state: tasks and responsible parties
removed. A page read from its markup that stops before ``</html>`` (which every
Kausal Watch page ends its document with, whatever follows) is now
``layout_unrecognised``, ``seen: truncated``.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from parsers.kausal import parse_page
from parsers.records import Outcome, PageKind
from tests.conftest import FIXTURES

NOW = datetime(2026, 12, 3, 16, 7, tzinfo=UTC)
LAB = FIXTURES / "lab-2024" / "before" / "html"
URL = "http://demo.localhost:3000/en/actions/1"
FLIGHT = re.compile(r"<script>self\.__next_f\.push\(.*?</script>", re.S)


def _page(name: str) -> str:
    return gzip.decompress((LAB / f"{name}.html.gz").read_bytes()).decode()


def _cut_inside_the_tasks(body: str) -> str:
    # Cut between the first and the second task of the task list.
    tasks = [m.start() for m in re.finditer(r"<li[^>]*class=\"[^\"]*state--", body)]
    assert len(tasks) >= 2
    return body[: tasks[1]]


def test_an_action_page_cut_in_its_task_list_is_not_read() -> None:
    whole = _page("action-1.en")
    assert parse_page(whole, URL, observed_at=NOW).outcome is Outcome.OK

    page = parse_page(_cut_inside_the_tasks(whole), URL, observed_at=NOW)

    assert page.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert page.extra["seen"] == "truncated"
    assert page.actions == ()
    assert [a.code for a in page.anomalies] == ["layout_unrecognised"]


@pytest.mark.parametrize("tail", ["", "<style>.x{}</style>", "\n<!-- proxy -->\n"])
def test_a_whole_page_read_from_its_markup_still_reads(tail: str) -> None:
    # The same page without its embedded data, ending as pages do: with what
    # styled-components (and a proxy) add after </html>.
    body = FLIGHT.sub("", _page("action-1.en"))
    assert body.count("</html>") == 1

    page = parse_page(body + tail, URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    assert page.kind is PageKind.ACTION
    (action,) = page.actions
    assert action.task_list
    assert action.responsible_parties


def test_a_page_cut_after_its_embedded_data_keeps_it() -> None:
    # 2026 builds carry the data in the page; a cut that leaves it whole loses
    # nothing the records need.
    body = gzip.decompress(
        (FIXTURES / "ui-2026" / "html" / "action-1.en.html.gz").read_bytes()
    ).decode()
    whole = parse_page(body, URL, observed_at=NOW)
    cut = body[: body.rindex("</body>")]

    page = parse_page(cut, URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    assert page.actions == whole.actions
