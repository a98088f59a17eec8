"""A page with a numeral int() cannot read (², ①) where a number goes is read, not
a parser failure.

Found trying ``planwatch parse`` on damaged pages: "² days ago" in an updated cell,
"² tasks" in a task bar, ``aria-rowcount="²"`` on the action table,
``aria-valuenow="²"`` on an action page's progress bar, an action card linking to
``/actions/①`` that the embedded data does not hold, and a flight reference
``"$1:²"`` each ended the whole page in ValueError: ``parse`` printed a traceback
and a page with ``seen: parser_error`` and no actions. The parsers took whatever
``str.isdigit`` accepts for a number ``int`` can read; ``int("²")`` cannot
(the same mistake fixed for the natural sort in 80bb31a). Such text is now no
number: the relative time and the count are unknown, the rest of the page reads.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser

from parsers import embedded, reltime
from parsers.kausal import parse_page
from parsers.records import Outcome
from tests.conftest import FIXTURES

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
LAB = FIXTURES / "lab-2024" / "before" / "html"
ORG_URL = "https://watch.example/en/organizations/3"


def _org_page(
    tasks: str = "1 tasks", updated: str = "3 days ago", rows: str = "1"
) -> str:
    """An organization page with one table row and no embedded data."""
    return f"""<!DOCTYPE html><html lang="en"><body><main data-testid="root-layout">
<h1>Environmental Services</h1><h2>Responsible in 1 actions</h2>
<table class="table" aria-rowcount="{rows}"><tbody><tr>
<th scope="row" class="row-title sticky-table-name-column" id="row-7-0">
<a href="/en/actions/7">Seven</a></th>
<td id="row-7-1"><div><div class="completed" style="width:0%"></div>
<div class="late" style="width:0%"></div><div class="on-time" style="width:100%"></div>
</div><div>{tasks}</div></td>
<td id="row-7-2" class="has-tooltip"><div>{updated}</div></td>
</tr></tbody></table></main></body></html>"""


def _fixture(name: str) -> str:
    return gzip.decompress((LAB / f"{name}.html.gz").read_bytes()).decode()


def test_the_crafted_page_reads_with_plain_digits() -> None:
    page = parse_page(_org_page(), ORG_URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    (action,) = page.actions
    assert action.tasks is not None
    assert action.tasks.total == 1
    assert action.updated_at is not None


def test_a_superscript_in_a_relative_time_is_no_time() -> None:
    assert reltime.parse_relative("² days ago", NOW) is None
    assert reltime.parse_relative("vor ² Tagen", NOW) is None
    # Decimal digits of other scripts are numbers, as before.
    assert reltime.parse_relative("٣ days ago", NOW) == reltime.parse_relative(
        "3 days ago", NOW
    )


def test_a_superscript_in_the_updated_cell_leaves_the_row_readable() -> None:
    page = parse_page(_org_page(updated="² days ago"), ORG_URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    (action,) = page.actions
    assert action.id == "7"
    assert action.updated_at is None


def test_a_superscript_task_count_is_no_count() -> None:
    page = parse_page(_org_page(tasks="² tasks"), ORG_URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    (action,) = page.actions
    assert action.id == "7"
    assert action.tasks is None


def test_a_superscript_row_count_is_no_row_count() -> None:
    page = parse_page(_org_page(rows="²"), ORG_URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    assert [a.id for a in page.actions] == ["7"]
    assert not [a for a in page.anomalies if a.code == "count_mismatch"]


def test_a_superscript_completion_is_no_completion() -> None:
    body = re.sub(
        r"<script>self\.__next_f\.push\(.*?</script>",
        "",
        _fixture("action-1.en"),
        flags=re.S,
    )
    body = re.sub(r'aria-valuenow="\d+"', 'aria-valuenow="²"', body)

    page = parse_page(body, "http://demo.localhost:3000/en/actions/1", observed_at=NOW)

    assert page.outcome is Outcome.OK
    (action,) = page.actions
    assert action.identifier == "1"
    assert action.completion is None


def test_a_card_the_data_lacks_is_named_whatever_its_identifier() -> None:
    body = _fixture("action-list.en").replace(
        'href="/en/actions/3"', 'href="/en/actions/%E2%91%A0"'
    )

    page = parse_page(body, "http://demo.localhost:3000/en/actions", observed_at=NOW)

    assert page.outcome is Outcome.OK
    assert len(page.actions) == 10
    (disagreement,) = [a for a in page.anomalies if a.code == "layer_disagreement"]
    assert "①" in disagreement.detail


def test_a_reference_step_int_cannot_read_resolves_to_nothing() -> None:
    flight = '1:["a","b","c"]\n2:{"org":"x","pick":"$1:²","ok":"$1:2"}\n'
    scripts = f"<script>self.__next_f.push({json.dumps([1, flight])})</script>"
    data = embedded.extract(LexborHTMLParser(f"<html><body>{scripts}</body></html>"))

    props = next(data.find_props("org"))

    assert props["ok"] == "c"
    assert props["pick"] is None
