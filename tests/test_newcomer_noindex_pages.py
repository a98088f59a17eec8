"""A page of a site that asks robots not to index it is read, not taken for "not
found", when its markup shows an action or action cards.

Found trying `planwatch parse` on pages read from their markup (no readable
embedded data) with ``<meta name="robots" content="noindex">``, which every
non-production deployment of the UI adds (staging and test sites such as
``<plan>.watch-test.kausal.tech``): an action page without tasks and the card
view of the action list came out ``kind: not_found``, ``outcome: not_found``, no
actions. Next's not-found answer also carries a bare ``noindex`` and renders no
content, and the markup path took a page with ``noindex`` and no table rows,
task items, "Responsible in N actions" heading or ``data-testid`` hook for one;
2024 builds have no ``data-testid`` hooks, and an action without tasks or a card
list has none of the others. A check takes an action page that answers not found
for the action's removal. An action page or cards in the markup are now content.
"""

from __future__ import annotations

import gzip
import re

import pytest

from parsers.kausal import parse_page
from parsers.records import Outcome, PageKind
from tests.conftest import FIXTURES

LAB = FIXTURES / "lab-2024" / "before" / "html"
SERIES = FIXTURES / "series-2024" / "r03" / "html"
EMBEDDED = re.compile(
    r"<script>[^<]*(?:self\.__next_f\.push|ApolloSSRDataTransport).*?</script>", re.S
)
NOINDEX = '<head><meta name="robots" content="noindex"/>'


def _markup_only(path: str, *, noindex: bool) -> str:
    body = gzip.decompress((FIXTURES / path).read_bytes()).decode()
    body = EMBEDDED.sub("", body)
    assert "self.__next_f" not in body
    assert "ApolloSSRDataTransport" not in body
    return body.replace("<head>", NOINDEX, 1) if noindex else body


@pytest.mark.parametrize("noindex", [False, True])
def test_an_action_page_without_tasks_is_an_action(noindex: bool) -> None:
    body = _markup_only("lab-2024/before/html/action-7.en.html.gz", noindex=noindex)
    assert "state--" not in body  # action 7 has no tasks yet

    page = parse_page(body, "http://demo.localhost:3000/en/actions/7")

    assert page.outcome is Outcome.OK, page.extra
    assert page.kind is PageKind.ACTION
    assert [a.identifier for a in page.actions] == ["7"]


@pytest.mark.parametrize("noindex", [False, True])
def test_the_card_list_is_an_action_list(noindex: bool) -> None:
    body = _markup_only("lab-2024/before/html/action-list.en.html.gz", noindex=noindex)

    page = parse_page(body, "http://demo.localhost:3000/en/actions")

    assert page.outcome is Outcome.OK, page.extra
    assert page.kind is PageKind.ACTION_LIST
    assert len(page.actions) == 10


@pytest.mark.parametrize(
    "name", ["action-12.en", "action-12.fi", "action-13.en", "action-13.fi"]
)
def test_the_platforms_not_found_answer_is_still_not_found(name: str) -> None:
    # Deleted (12) and made internal (13): a bare noindex and no content.
    body = _markup_only(f"series-2024/r03/html/{name}.html.gz", noindex=False)
    assert 'content="noindex"' in body

    page = parse_page(body, "http://sunnydale.localhost:3000/actions/12")

    assert page.outcome is Outcome.NOT_FOUND
