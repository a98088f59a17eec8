"""Page kinds, both layers, and pages that are no page we know.

Real fixture pages where the fixtures have the case (not-found bodies with HTTP 200,
redirects with the backend down, a heading above an emptied table), pages built here
for the others (error pages, login walls, maintenance notices, loading shells,
truncated tables, labels in the wrong language).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.localserve import read_fixture
from parsers.kausal import parse_page, resolve_identifier_keys
from parsers.records import Layer, Outcome, PageKind
from tests.conftest import FIXTURES
from tests.fidelity_corpus import SERIES, UI_2026, strip_embedded

HOST = "http://demo.localhost:3000"
HOST_2026 = "http://demo.localhost:3100"
DATE_2026 = "Fri, 15 Jan 2027 17:25:48 GMT"  # ui-2026's Date header
R03_TIME = datetime(2026, 12, 6, 16, 26, tzinfo=UTC)
BIGCITY = FIXTURES / "bigcity-2024" / "before" / "html"


def _page(folder: Path, stem: str) -> bytes:
    return read_fixture(folder / "html" / f"{stem}.html")


def _without(body: bytes, selector: str) -> bytes:
    """The page with every element matching ``selector`` removed."""
    tree = LexborHTMLParser(body)
    for node in tree.css(selector):
        node.decompose()
    return (tree.html or "").encode()


# -- not found, redirects, the emptied table (series-2024) ----------------------------


@pytest.mark.parametrize(
    ("stem", "path"),
    [
        ("action-nonexistent.fi", "/actions/does-not-exist"),
        ("action-nonexistent.en", "/en/actions/does-not-exist"),
        ("organization-nonexistent.fi", "/organizations/999"),
        ("organization-nonnumeric.en", "/en/organizations/abc"),
        ("path-nonexistent.fi", "/no/such/page"),
        ("unknown-locale.fr", "/fr/actions"),
    ],
)
@pytest.mark.parametrize("layer", ["embedded", "markup"])
def test_not_found_bodies_with_http_200_are_not_found(
    stem: str, path: str, layer: str
) -> None:
    body = _page(SERIES / "extra", stem)
    if layer == "markup":
        body = strip_embedded(body)

    page = parse_page(body, HOST + path, observed_at=R03_TIME)

    assert page.kind is PageKind.NOT_FOUND
    assert page.outcome is Outcome.NOT_FOUND
    assert page.actions == ()


@pytest.mark.parametrize("stem", ["action-12.en", "action-15.fi"])
def test_2026_not_found_marker(stem: str) -> None:
    page = parse_page(
        _page(UI_2026, stem), f"{HOST_2026}/actions/12", date_header=DATE_2026
    )

    assert page.outcome is Outcome.NOT_FOUND
    assert page.extra["detail"] == "the embedded data says not found"


@pytest.mark.parametrize(
    ("folder", "stem"),
    [
        (SERIES / "r05", "organization-2.fi"),
        (SERIES / "r05b", "action-list.en"),
        (SERIES / "extra", "unknown-host.fi"),
        (SERIES / "extra", "home.fi"),
    ],
)
def test_redirect_bodies_are_named_not_read(folder: Path, stem: str) -> None:
    page = parse_page(_page(folder, stem), f"{HOST}/organizations/2")

    assert page.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert page.extra["seen"] == "redirect_stub"
    assert page.actions == ()
    assert "redirect target" in page.anomalies[0].detail


def test_a_byte_order_mark_before_the_page_changes_nothing() -> None:
    # A saved copy (import, parse) keeps the mark the fetcher's decoding drops:
    # the redirect stub was "not_kausal", the JSON answer too.
    stub = _page(SERIES / "extra", "home.fi")
    pages = [
        (stub, "redirect_stub"),
        (b'{"errors": [{"message": "boom"}]}', "not_html"),
        (_page(SERIES / "r03", "organization-2.fi"), None),
    ]
    for body, seen in pages:
        for marked in (b"\xef\xbb\xbf" + body, "\ufeff" + body.decode()):
            page = parse_page(marked, f"{HOST}/organizations/2", observed_at=R03_TIME)

            assert page == parse_page(
                body, f"{HOST}/organizations/2", observed_at=R03_TIME
            )
            assert page.extra.get("seen") == seen


@pytest.mark.parametrize(("org", "count"), [("1", 2), ("2", 8), ("6", 1)])
def test_heading_above_an_emptied_table(org: str, count: int) -> None:
    body = _page(SERIES / "r06", f"organization-{org}.en")
    url = f"{HOST}/en/organizations/{org}"

    with_data = parse_page(body, url)
    markup_only = parse_page(strip_embedded(body), url, observed_at=R03_TIME)

    # With its data the page is read, and the empty table is a layout anomaly.
    assert with_data.outcome is Outcome.OK
    assert len(with_data.actions) == count
    assert [a.code for a in with_data.anomalies] == ["table_missing"]
    assert f"heading says {count} actions" in with_data.anomalies[0].detail
    # From the markup alone the page cannot be read, and says what it saw.
    assert markup_only.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert markup_only.actions == ()
    assert markup_only.extra["seen"] == "empty_table"
    assert f"heading says {count} actions" in markup_only.anomalies[0].detail


def test_dashboard_whose_columns_were_emptied() -> None:
    body = _page(SERIES / "r06", "action-list-dashboard.fi")
    url = f"{HOST}/actions?view=dashboard"

    with_data = parse_page(body, url)
    markup_only = parse_page(strip_embedded(body), url, observed_at=R03_TIME)

    assert with_data.outcome is Outcome.OK
    assert "table_missing" in {a.code for a in with_data.anomalies}
    assert markup_only.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert markup_only.extra["seen"] == "empty_table"


def test_sitemap_and_indicator_pages_are_not_plan_pages() -> None:
    sitemap = parse_page(_page(SERIES / "extra", "sitemap.xml"), f"{HOST}/sitemap.xml")
    indicator = parse_page(
        _page(SERIES / "extra", "indicator-1.fi"), f"{HOST}/indicators/1"
    )

    assert sitemap.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert sitemap.extra["seen"] == "not_html"
    assert indicator.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert indicator.extra["seen"] == "indicator_page"


# -- pages built here -----------------------------------------------------------------

NGINX_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center>"
    b"<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)
NEXT_ERROR = (
    b"<!DOCTYPE html><html lang='en'><head></head><body><div><div><h2>Application "
    b"error: a server-side exception has occurred (see the server logs for more "
    b"information).</h2><p>Digest: 1234567</p></div></div></body></html>"
)
LOGIN = (
    b"<html><head><title>Kirjaudu sis\xc3\xa4\xc3\xa4n</title></head><body>"
    b"<form method='post'><input name='username'><input type='password' "
    b"name='password'><button>Sign in</button></form></body></html>"
)
MAINTENANCE = (
    "<html><head><title>Ilmastovahti</title></head><body><h1>Huoltokatko</h1>"
    "<p>Palvelu on tilapäisesti poissa käytöstä. We'll be back soon.</p>"
    "</body></html>"
).encode()
OTHER_SITE = (
    b"<html><body><h1>Ymp\xc3\xa4rist\xc3\xb6vahti</h1><table><tr><td>Mittari</td>"
    b"<td>12 %</td></tr></table></body></html>"
)


@pytest.mark.parametrize(
    ("body", "seen"),
    [
        (b"", "empty"),
        (NGINX_502, "error_page"),
        (NEXT_ERROR, "error_page"),
        (LOGIN, "login_wall"),
        (MAINTENANCE, "maintenance"),
        (OTHER_SITE, "not_kausal"),
        (b'{"errors": [{"message": "boom"}]}', "not_html"),
    ],
)
def test_pages_that_are_not_plan_content_say_what_they_are(
    body: bytes, seen: str
) -> None:
    page = parse_page(body, f"{HOST}/organizations/2", observed_at=R03_TIME)

    assert page.kind is PageKind.UNKNOWN
    assert page.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert page.actions == ()
    assert page.extra["seen"] == seen
    assert page.anomalies[0].code == "layout_unrecognised"
    assert page.anomalies[0].detail


def test_loading_shell_without_its_streamed_content() -> None:
    # The streamed segments (hidden divs "S:n") and the data scripts are what a cut
    # connection or a client-only render leaves out: only "Loading" remains.
    body = _page(UI_2026, "organization-2.en")
    shell = _without(strip_embedded(body), "div[hidden]")

    page = parse_page(shell, f"{HOST_2026}/en/organizations/2", date_header=DATE_2026)

    assert page.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert page.extra["seen"] == "loading_shell"


def test_unknown_layout_of_a_kausal_page() -> None:
    body = _page(UI_2026, "organization-2.en")
    bare = _without(strip_embedded(body), "table, h2, h1")

    page = parse_page(bare, f"{HOST_2026}/en/somewhere", date_header=DATE_2026)

    assert page.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert page.extra["seen"] == "unknown_layout"
    assert "no embedded data" in page.anomalies[0].detail


def test_truncated_table_is_a_count_mismatch() -> None:
    body = strip_embedded(_page(UI_2026, "organization-2.en"))
    tree = LexborHTMLParser(body)
    for row in tree.css("tbody tr")[5:]:
        row.decompose()
    cut = (tree.html or "").encode()

    page = parse_page(cut, f"{HOST_2026}/en/organizations/2", date_header=DATE_2026)

    assert page.outcome is Outcome.OK
    assert len(page.actions) == 5
    details = [a.detail for a in page.anomalies if a.code == "count_mismatch"]
    assert any("heading says 8 actions, the table has 5 rows" in d for d in details)
    assert any("declares 8 rows and holds 5" in d for d in details)


def test_labels_in_another_language_do_not_decide() -> None:
    # The UI caches some labels per status, not per language: an English table can
    # say "Käynnissä". The identifiers (embedded data) decide; labels are shown.
    body = _page(UI_2026, "organization-2.en")
    mixed = re.sub(rb">In progress<", ">Käynnissä<".encode(), body)
    assert mixed != body
    url = f"{HOST_2026}/en/organizations/2"

    clean = parse_page(body, url, date_header=DATE_2026)
    page = parse_page(mixed, url, date_header=DATE_2026)
    markup_only = parse_page(strip_embedded(mixed), url, date_header=DATE_2026)

    assert page == clean
    assert not page.anomalies
    first = markup_only.actions[0]
    assert first.status is not None
    assert first.status.label == "Käynnissä"
    assert first.status.identifier is None


def test_english_action_page_with_a_finnish_side_label() -> None:
    # Real 2024 page: the side panel says "Käynnissä" on an English page.
    body = _page(SERIES / "r03", "action-1.en")
    assert "Käynnissä".encode() in strip_embedded(body)

    page = parse_page(body, f"{HOST}/en/actions/1")
    markup_only = parse_page(
        strip_embedded(body), f"{HOST}/en/actions/1", observed_at=R03_TIME
    )

    assert page.actions[0].status is not None
    assert page.actions[0].status.identifier == "in_progress"
    assert page.actions[0].status.label == "In progress"
    assert markup_only.actions[0].status is not None
    assert markup_only.actions[0].status.label == "In progress"  # the badge


# -- the markup alone: exact values, and None for what it cannot carry ----------------


def test_organization_table_from_the_markup_2026() -> None:
    url = f"{HOST_2026}/en/organizations/2"
    body = _page(UI_2026, "organization-2.en")
    full = parse_page(body, url, date_header=DATE_2026)

    page = parse_page(strip_embedded(body), url, date_header=DATE_2026)

    assert page.layer is Layer.HTML
    assert page.organization is not None
    assert page.organization.id == "2"
    assert page.organization.name == "Environment & Climate"
    assert page.organization.parent_id == "1"
    assert page.organization.action_count == 8
    assert [a.id for a in page.actions] == [a.id for a in full.actions]
    by_id = {a.id: a for a in full.actions}
    for action in page.actions:
        exact = by_id[action.id]
        # A merged action's row links to the action it was merged into.
        merged = exact.merged_with_identifier
        assert action.identifier == (None if merged else exact.identifier)
        assert action.merged_with_identifier == merged
        assert action.name == exact.name
        assert action.status is not None
        assert exact.status is not None
        if action.status_summary != "MERGED":
            assert action.status.label == exact.status.label
        assert action.tasks is not None
        assert exact.tasks is not None
        assert (action.tasks.total, action.tasks.completed) == (
            exact.tasks.total,
            exact.tasks.completed,
        )
        assert action.updated_at is not None
        assert exact.updated_at is not None
        assert action.updated_at.earliest is not None
        assert action.updated_at.latest is not None
        assert exact.updated_at.exact is not None
        assert (
            action.updated_at.earliest
            <= exact.updated_at.exact
            <= action.updated_at.latest
        )
        # What the table cannot carry stays None.
        assert action.status.identifier is None
        assert action.completion is None
        assert action.task_list is None
        assert action.responsible_parties is None


def test_action_page_from_the_markup_2024_finnish() -> None:
    body = strip_embedded(_page(SERIES / "r03", "action-1.fi"))

    page = parse_page(body, f"{HOST}/actions/1", observed_at=R03_TIME)

    assert page.kind is PageKind.ACTION
    (action,) = page.actions
    assert action.platform_id is None
    assert action.id == "identifier:1"
    assert action.identifier == "1"
    assert action.name == "Kaukolämmön päästöttömyys"
    assert action.status is not None
    assert action.status.label == "Käynnissä"
    assert action.phase is not None
    assert action.phase.label == "Toteutus"
    assert action.completion == 40
    assert action.start_date == date(2022, 1, 1)
    assert action.end_date == date(2030, 12, 31)
    assert action.task_list is not None
    assert [(t.name, t.state, t.completed_at) for t in action.task_list] == [
        ("Lämpöpumppulaitos", "COMPLETED", date(2026, 12, 5)),
        ("Hiilen käytön lopetus", "COMPLETED", date(2026, 2, 6)),
    ]
    assert action.responsible_parties is not None
    assert [
        (p.organization_id, p.organization_name, p.role)
        for p in action.responsible_parties
    ] == [
        ("4", 'Demokaupungin Energia Oy "DKE"', "PRIMARY"),
        ("2", "Ympäristö & ilmasto", "COLLABORATOR"),
    ]
    assert action.related_indicators is not None
    assert [(i.id, i.name) for i in action.related_indicators] == [
        ("1", "Kasvihuonekaasupäästöt")
    ]
    # "Tietoja päivitetty 05.12.2026": a day, somewhere on Earth.
    assert action.updated_at is not None
    assert action.updated_at.exact is None
    assert action.updated_at.earliest == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert action.updated_at.latest is not None
    assert action.updated_at.latest.date() == date(2026, 12, 6)
    assert {a.code for a in page.anomalies} == {"ids_missing"}


def test_open_tasks_from_the_markup_use_the_page_language() -> None:
    for lang, prefix in (("en", "/en"), ("fi", "")):
        body = strip_embedded(_page(SERIES / "r03", f"action-7.{lang}"))
        page = parse_page(body, f"{HOST}{prefix}/actions/7", observed_at=R03_TIME)
        (action,) = page.actions
        assert action.task_list is not None
        assert [(t.state, t.due_at) for t in action.task_list] == [
            ("IN_PROGRESS", date(2027, 4, 4))
        ]
        assert action.tasks is not None
        assert (action.tasks.total, action.tasks.late) == (1, 0)


def test_action_cards_from_the_markup() -> None:
    url = f"{HOST_2026}/en/actions"
    body = _page(UI_2026, "action-list.en")
    full = parse_page(body, url, date_header=DATE_2026)

    page = parse_page(strip_embedded(body), url, date_header=DATE_2026)

    assert page.kind is PageKind.ACTION_LIST
    assert [a.identifier for a in page.actions] == [a.identifier for a in full.actions]
    merged = next(a for a in page.actions if a.identifier == "14")
    assert merged.status_summary == "MERGED"
    assert merged.merged_with_identifier == "6"
    first = page.actions[0]
    assert first.name == "Emission-free district heating"
    assert first.phase is not None
    assert first.phase.label == "Implementation"
    assert first.status is not None
    assert first.status.label == "In progress"
    assert first.tasks is None
    assert first.updated_at is None
    assert {a.code for a in page.anomalies} == {"ids_missing"}

    # Another page of the same check that shows ids gives the cards theirs.
    resolved = resolve_identifier_keys([page, full])
    assert [a.id for a in resolved[0].actions] == [a.id for a in full.actions]
    assert resolved[1] is full


def test_dashboard_rows_from_the_markup_keep_platform_ids() -> None:
    url = f"{HOST}/actions?view=dashboard"
    body = _page(SERIES / "r03", "action-list-dashboard.fi")
    full = parse_page(body, url)

    page = parse_page(strip_embedded(body), url, observed_at=full.observed_at)

    assert [a.id for a in page.actions] == [a.id for a in full.actions]
    merged = next(a for a in page.actions if a.id == "14")
    # Its row links to the action it was merged into; the row shows no identifier.
    assert merged.identifier is None
    assert merged.merged_with_identifier == "6"
    assert merged.status_summary == "MERGED"


# -- large pages ------------------------------------------------------------------


@pytest.fixture(scope="module")
def organization_8() -> bytes:
    return read_fixture(BIGCITY / "organization-8.fi.html")


def test_300_row_organization_page_both_layers(organization_8: bytes) -> None:
    url = "http://bigcity.localhost:3000/organizations/8"

    full = parse_page(organization_8, url)
    markup_only = parse_page(
        strip_embedded(organization_8), url, observed_at=full.observed_at
    )

    assert full.outcome is Outcome.OK
    assert not full.anomalies
    assert full.organization is not None
    assert full.organization.action_count == len(full.actions) == 300
    totals = {a.id: a.tasks.total for a in full.actions if a.tasks}
    assert {a.id: a.tasks.total for a in markup_only.actions if a.tasks} == totals
    assert [a.code for a in markup_only.anomalies] == ["embedded_missing"]


def test_plan_context_comes_with_every_page() -> None:
    page = parse_page(
        _page(UI_2026, "action-3.en"),
        f"{HOST_2026}/en/actions/3",
        date_header=DATE_2026,
    )
    page_2024 = parse_page(
        _page(SERIES / "r03", "organization-5.en"), f"{HOST}/en/organizations/5"
    )

    for parsed in (page, page_2024):
        plan = parsed.plan
        assert plan is not None
        assert plan.identifier == "demo"
        assert plan.languages == ("fi", "en", "sv", "de")
        assert [s.identifier for s in plan.statuses][:2] == ["on_time", "late"]
        assert [p.identifier for p in plan.phases] == [
            "not_started",
            "planning",
            "implementation",
            "completed",
        ]
        assert {c.identifier: c.days for c in plan.timeliness_classes}["OPTIMAL"] == 30
        assert plan.limits is not None
        assert plan.limits.target == 30
    assert page.plan is not None
    assert page.plan.timezone == "Europe/Helsinki"
    assert page_2024.plan is not None
    assert page_2024.plan.timezone is None
    assert page_2024.organization is not None
    assert page_2024.organization.parent_id == "1"
