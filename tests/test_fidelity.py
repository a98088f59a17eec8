"""Every field of every fixture page, compared with the platform's own API answers.

Each page is parsed once per session, twice over: as served (the embedded data
wins) and with its embedded-data scripts taken out (the markup alone). The report
prints agreement per field; the goal, asserted here, is 100% of what each layer
shows. "not shown" counts values a layer cannot carry (the markup has no status
identifiers, an organization table no task names): those are None, never guessed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.fidelity import Tally, Truth, compare_page
from parsers.kausal import parse_page
from parsers.records import Layer, Outcome, ParsedPage
from tests import fidelity_corpus
from tests.fidelity_corpus import FixturePage, strip_embedded

PAGES = list(fidelity_corpus.pages())
CORPORA = ("lab-2024", "series-2024", "ui-2026")
Parsed = list[tuple[FixturePage, ParsedPage]]


@pytest.fixture(scope="session")
def embedded_pages() -> Parsed:
    return [
        (page, parse_page(page.body(), page.url, date_header=page.date_header))
        for page in PAGES
    ]


@pytest.fixture(scope="session")
def markup_pages(embedded_pages: Parsed) -> Parsed:
    # Without the embedded data a 2024 page loses its render time too: the
    # observation time is then what a fetch would have given (the series' record
    # of it, else the page's own, which these fixtures keep).
    return [
        (
            page,
            parse_page(
                strip_embedded(page.body()),
                page.url,
                observed_at=page.observed_at or parsed.observed_at,
                date_header=page.date_header,
            ),
        )
        for page, parsed in embedded_pages
    ]


def _tally(parsed: Parsed, corpus: str, *, markup: bool) -> Tally:
    tally = Tally()
    for page, result in parsed:
        if not page.corpus.startswith(corpus):
            continue
        compare_page(
            result,
            fidelity_corpus.truth(page.truth),
            tally,
            where=page.where,
            expect_gone=page.expect_gone,
            expect_outcome=_markup_outcome(page) if markup else None,
            organization_id=page.organization_id,
            action_identifier=page.action_identifier,
        )
    return tally


def _markup_outcome(page: FixturePage) -> Outcome | None:
    # r06: the plan's table columns were emptied. With its embedded data such a page
    # is read with a "table_missing" anomaly; from the markup alone, a heading over
    # an empty table is a page we cannot read, and says so.
    empty_table = page.name.startswith("organization") or page.name.endswith(
        "dashboard"
    )
    if page.corpus == "series-2024/r06" and empty_table:
        return Outcome.LAYOUT_UNRECOGNISED
    return None


def _report(tally: Tally, title: str, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n" + tally.table(title))


@pytest.mark.parametrize("corpus", CORPORA)
def test_embedded_layer_agrees_with_the_api(
    embedded_pages: Parsed, corpus: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = _tally(embedded_pages, corpus, markup=False)
    _report(tally, f"embedded layer vs the API, {corpus}", capsys)

    assert tally.perfect, "\n".join(tally.disagreements())
    pages = sum(1 for page in PAGES if page.corpus.startswith(corpus))
    assert tally.compared["page.outcome"] == pages
    # The embedded layer shows every core field of every action it reads.
    for name in ("action.status.identifier", "action.updated_at", "action.tasks"):
        assert tally.not_shown[name] == 0
        assert tally.compared[name] == tally.compared["action.known"] > 0


@pytest.mark.parametrize("corpus", CORPORA)
def test_markup_layer_agrees_with_the_api_where_it_shows(
    markup_pages: Parsed, corpus: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = _tally(markup_pages, corpus, markup=True)
    _report(tally, f"markup alone vs the API, {corpus}", capsys)

    assert tally.perfect, "\n".join(tally.disagreements())
    # Not a vacuous 100%: the markup path really read these.
    for name in (
        "action.name",
        "action.identifier",
        "action.status.label",
        "action.phase.label",
        "action.tasks",
        "action.updated_at",
        "action.responsible_parties.roles",
        "action.task_list.names",
        "organization.actions",
    ):
        assert tally.compared[name] > 0, name
    # ... and never claims what it cannot see.
    for name in ("action.status.identifier", "action.phase.identifier"):
        assert tally.compared[name] == 0


def test_markup_pages_say_which_layer_they_come_from(markup_pages: Parsed) -> None:
    read = [parsed for _, parsed in markup_pages if parsed.outcome is Outcome.OK]
    assert read
    assert {parsed.layer for parsed in read} == {Layer.HTML}
    assert all(a.layer is Layer.HTML for parsed in read for a in parsed.actions)
    assert all(
        {a.code for a in parsed.anomalies} & {"embedded_missing", "ids_missing"}
        for parsed in read
    )


def test_the_report_fails_on_a_wrong_answer(embedded_pages: Parsed) -> None:
    page, parsed = next((p, r) for p, r in embedded_pages if p.name == "organization-2")
    answer = json.loads(page.truth.read_text(encoding="utf-8"))
    wrong = copy.deepcopy(answer)
    first = wrong["data"]["plan"]["actions"][0]
    first["status"]["identifier"] = "no_such_status"
    first["updatedAt"] = "2001-01-01T00:00:00+00:00"
    tally = Tally()

    compare_page(parsed, Truth(wrong), tally, where=page.where, organization_id="2")

    assert not tally.perfect
    assert (
        tally.compared["action.status.identifier"]
        > tally.agreed["action.status.identifier"]
    )
    assert tally.compared["action.updated_at"] > tally.agreed["action.updated_at"]


def _sample() -> Iterator[FixturePage]:
    seen: set[tuple[str, str]] = set()
    for page in PAGES:
        key = (page.corpus.split("/")[0], page.name.split("-")[0] + page.lang)
        if key not in seen:
            seen.add(key)
            yield page


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(page=st.sampled_from(list(_sample())), markup=st.booleans())
def test_parsing_is_deterministic(page: FixturePage, markup: bool) -> None:
    body = page.body()
    if markup:
        body = strip_embedded(body)
    first = parse_page(body, page.url, date_header=page.date_header)
    second = parse_page(
        body, page.url, observed_at=first.observed_at, date_header=page.date_header
    )
    assert first == second
