"""A heading that begins with the digits 404 is not a not-found notice.

Found trying `planwatch parse` on pages read from their markup (no readable
embedded data): the page of action ``404`` (or ``4041``, ``404A``; plans of a few
hundred actions number them so), whose ``h1`` reads "404 <name>", was
``kind: not_found``, ``outcome: not_found``, and so was a Finnish organization page
headed "404 toimenpiteen vastuuorganisaationa" (responsible in 404 actions). Any
``title``, ``h1`` or ``h2`` starting with "404" was taken for an error page, and a
check takes an action page that answers not found for the action's removal. Now
"404" is a not-found notice alone or with a not-found text after it ("404",
"404 Not Found", "404: This page could not be found.").
"""

from __future__ import annotations

import gzip
import re

import pytest

from parsers.kausal import parse_page
from parsers.records import Outcome, PageKind
from tests.conftest import FIXTURES

LAB = FIXTURES / "lab-2024" / "before" / "html"
FLIGHT = re.compile(r"<script>self\.__next_f\.push\(.*?</script>", re.S)


def _markup_only(name: str) -> str:
    body = gzip.decompress((LAB / f"{name}.html.gz").read_bytes()).decode()
    return FLIGHT.sub("", body)


@pytest.mark.parametrize("identifier", ["1", "404", "4041", "404A", "404.1"])
def test_an_action_numbered_404_is_an_action(identifier: str) -> None:
    body = _markup_only("action-1.en")
    assert body.count('">1</span>') == 1
    body = body.replace('">1</span>', f'">{identifier}</span>')

    page = parse_page(body, f"http://demo.localhost:3000/en/actions/{identifier}")

    assert page.outcome is Outcome.OK, page.extra
    assert page.kind is PageKind.ACTION
    assert [a.identifier for a in page.actions] == [identifier]


def test_an_organization_responsible_in_404_actions_is_an_organization() -> None:
    body = _markup_only("organization-2.fi")
    heading = "5 toimenpiteen vastuuorganisaationa"
    assert body.count(heading) == 1
    body = body.replace(heading, "404 toimenpiteen vastuuorganisaationa")

    page = parse_page(body, "http://demo.localhost:3000/organizations/2")

    assert page.outcome is Outcome.OK, page.extra
    assert page.kind is PageKind.ORGANIZATION
    assert page.organization is not None
    assert page.organization.action_count == 404


@pytest.mark.parametrize(
    "notice",
    [
        "<title>404: This page could not be found.</title>"
        "<h1>404</h1><h2>This page could not be found.</h2>",
        "<title>404 Not Found</title><h1>404 Not Found</h1>",
        "<h1>404 - Page not found</h1>",
        "<h1>404</h1>",
    ],
)
def test_a_404_notice_is_not_found(notice: str) -> None:
    body = f"<html><head></head><body>{notice}</body></html>"

    page = parse_page(body, "https://watch.example/en/actions/9")

    assert page.outcome is Outcome.NOT_FOUND
