"""The GraphQL API as a source: same records as the pages, and a cross-check of them.

The API is a real HTTP server on 127.0.0.1 answering from the fixtures' real API
answers (tests/graphql_server.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from monitor.api_source import ApiTarget, cross_check, observe_api
from monitor.fetch import FetchPolicy
from monitor.localserve import read_fixture
from monitor.pipeline import CheckOutcome, PageObservation, observe_saved, record_check
from parsers import api
from parsers.errors import ParseError
from parsers.records import Action, Layer, Outcome, PageKind, ParsedPage
from storage.db import Database
from storage.events import EventKind
from tests.fidelity_corpus import SERIES, UI_2026
from tests.graphql_server import GraphQLState, graphql_server

NOW = datetime(2027, 1, 15, 17, 26, tzinfo=UTC)
AGENT = "planwatch-test (+watch@example.org)"


def _observe(target: ApiTarget) -> list[PageObservation]:
    return asyncio.run(observe_api(target, user_agent=AGENT, now=NOW))


def _pages(observations: list[PageObservation]) -> list[ParsedPage]:
    pages = [o.page for o in observations]
    assert all(p is not None for p in pages), [o.error for o in observations]
    return [p for p in pages if p is not None]


def _action_list(pages: list[ParsedPage], lang: str) -> ParsedPage:
    return next(
        p for p in pages if p.kind is PageKind.ACTION_LIST and p.language == lang
    )


def test_the_api_gives_the_records_the_pages_give() -> None:
    state = GraphQLState(UI_2026 / "truth")
    with graphql_server(state) as origin:
        observations = _observe(ApiTarget.of(origin + "/", languages=["fi", "en"]))
    pages = _pages(observations)

    for lang, prefix in (("fi", ""), ("en", "/en")):
        from_api = _action_list(pages, lang)
        body = read_fixture(UI_2026 / "html" / f"action-list.{lang}.html")
        from_page = observe_saved(
            f"http://demo.localhost:3100{prefix}/actions", body, NOW
        ).page
        assert from_page is not None

        assert from_api.layer is Layer.API
        assert [a.id for a in from_api.actions] == [a.id for a in from_page.actions]
        for mine, theirs in zip(from_api.actions, from_page.actions, strict=True):
            for name in (
                "identifier",
                "name",
                "status",
                "phase",
                "status_summary",
                "completion",
                "updated_at",
                "tasks",
                "responsible_parties",
                "merged_with",
                "merged_with_identifier",
                "start_date",
                "end_date",
                "primary_org_id",
            ):
                assert getattr(mine, name) == getattr(theirs, name), (mine.id, name)
            # Links point at the site the API was asked about, in that language.
            assert mine.url == f"{origin}{prefix}/actions/{mine.identifier}"
        assert from_api.plan is not None
        assert from_api.plan.languages == ("fi", "en", "sv", "de")


def test_organizations_from_the_api_match_their_pages() -> None:
    state = GraphQLState(UI_2026 / "truth")
    with graphql_server(state) as origin:
        pages = _pages(_observe(ApiTarget.of(origin, languages=["en"])))

    orgs = {
        p.organization.id: p
        for p in pages
        if p.kind is PageKind.ORGANIZATION and p.organization is not None
    }
    for org_id in ("1", "2", "5", "6"):
        body = read_fixture(UI_2026 / "html" / f"organization-{org_id}.en.html")
        page = observe_saved(
            f"http://demo.localhost:3100/en/organizations/{org_id}", body, NOW
        ).page
        assert page is not None
        assert page.organization is not None
        mine = orgs[org_id]
        assert mine.organization is not None
        assert mine.organization.name == page.organization.name
        assert mine.organization.action_count == page.organization.action_count
        assert {a.id for a in mine.actions} == {a.id for a in page.actions}


def test_queries_name_the_host_the_plan_and_the_language() -> None:
    state = GraphQLState(SERIES / "r03" / "truth")
    with graphql_server(state) as origin:
        observations = _observe(ApiTarget.of(origin + "/en"))

    first, *rest = state.requests
    assert "plansForHostname" in first["query"]
    assert first["variables"] == {"hostname": "127.0.0.1"}
    # Every language the plan has (the answers of r03 exist in fi and en only).
    asked = [r["query"].split("@locale(lang: ", 1)[1][:4] for r in rest]
    assert asked == ['"fi"', '"en"', '"sv"', '"de"']
    assert all(r["variables"] == {"plan": "demo"} for r in rest)
    assert all(h["user-agent"] == AGENT for h in state.headers)
    failed = [o for o in observations if o.page is None]
    assert [o.url.rsplit("lang=", 1)[1] for o in failed] == ["sv", "de"]
    assert all(o.fetch_outcome == "http_error" for o in failed)


def test_the_truth_files_read_verbatim() -> None:
    # The real answers, in the truth query's own shape (data.plan.actions).
    answer = json.loads((SERIES / "r03" / "truth" / "plan-actions.fi.json").read_text())
    plan = api.ApiPlan("demo", None, "fi", ("fi", "en"), "")

    pages = api.pages_from_answer(
        answer,
        url="https://example.org/api/graphql?plan=demo&lang=fi",
        lang="fi",
        prefix=api.site_prefix("https://example.org", plan, "fi"),
        observed_at=NOW,
    )

    listed = _action_list(pages, "fi")
    assert len(listed.actions) == len(answer["data"]["plan"]["actions"])
    assert listed.actions[0].url == "https://example.org/actions/1"
    assert api.site_prefix("https://x.org", plan, "en") == "https://x.org/en"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"fail_with": 500}, "HTTP 500"),
        ({"fail_with": 503}, "HTTP 503"),
        ({"errors": ["Cannot query field 'x'"]}, "Cannot query field 'x'"),
        ({"hostname": "elsewhere.example"}, "no plan is published"),
    ],
)
def test_failures_are_failed_observations(
    setup: dict[str, object], message: str
) -> None:
    state = GraphQLState(SERIES / "r03" / "truth", **setup)  # type: ignore[arg-type]
    with graphql_server(state) as origin:
        observations = _observe(ApiTarget.of(origin))

    (failed,) = observations
    assert failed.page is None
    assert failed.failed
    assert failed.error is not None
    assert message in failed.error


def test_an_answer_nested_past_the_recursion_limit_is_a_failed_observation() -> None:
    # json.loads raised RecursionError out of the check.
    deep = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=deep))
    target = ApiTarget.of("https://x.example")

    (failed,) = asyncio.run(
        observe_api(target, user_agent=AGENT, now=NOW, transport=transport)
    )

    assert failed.failed
    assert failed.error is not None
    assert "nests too deeply" in failed.error


def test_an_answer_past_the_page_limit_is_a_failed_observation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The whole answer was read into memory, however large.
    monkeypatch.setattr(FetchPolicy, "max_body_bytes", 1000)
    big = json.dumps({"data": {"plansForHostname": [], "pad": "x" * 2000}}).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=big))

    (failed,) = asyncio.run(
        observe_api(
            ApiTarget.of("https://x.example"),
            user_agent=AGENT,
            now=NOW,
            transport=transport,
        )
    )

    assert failed.failed
    assert failed.error is not None
    assert "the answer is larger than 1000 bytes" in failed.error


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"errors": 5}, "the API answered with errors: 5"),
        ({"errors": {"message": "boom"}}, "the API answered with errors: boom"),
        ({"data": {"plansForHostname": [{"id": "1", "domain": "x"}]}}, "no language"),
        (
            {"data": {"plansForHostname": [{"id": "1", "domain": {"basePath": 5}}]}},
            "no plan is published",
        ),
        (
            {"data": {"plansForHostname": [{"id": "1", "otherLanguages": 5}]}},
            "no language",
        ),
        (
            {"data": {"plansForHostname": [{"id": "1", "primaryLanguage": {}}]}},
            "no language",
        ),
    ],
)
def test_an_odd_plans_answer_is_a_parse_error(
    answer: dict[str, object], message: str
) -> None:
    # Each raised TypeError or AttributeError out of the check (the last one
    # gave a check of no pages at all).
    with pytest.raises(ParseError, match=message):
        api.plan_for_site(answer, "https://x.example")


def test_organizations_that_are_no_list_are_none() -> None:
    # "planOrganizations": 5 was a TypeError out of the check.
    data = {"plan": {"id": "1"}, "planActions": [], "planOrganizations": 5}

    pages = api.pages_from_answer(
        {"data": data},
        url="https://x.example/api",
        lang="fi",
        prefix="",
        observed_at=NOW,
    )

    assert [p.kind for p in pages] == [PageKind.ACTION_LIST]


def test_answer_errors_name_what_went_wrong() -> None:
    with pytest.raises(ParseError, match="not a GraphQL answer"):
        api.answer_data([], "planActions (fi)")
    with pytest.raises(ValueError, match="not a language code"):
        api.actions_query('fi") { evil }')
    with pytest.raises(ValueError, match="not a language code"):
        api.actions_query("fi\n")  # a plan's primaryLanguage as the API gave it


def _round_pages(name: str, lang: str) -> list[PageObservation]:
    listing = json.loads((SERIES / name / "pages.json").read_text())
    found = []
    for entry in listing["pages"]:
        if entry["lang"] != lang or entry["status"] != 200:
            continue
        body = read_fixture(SERIES / name / "html" / f"{entry['page']}.{lang}.html")
        found.append(
            observe_saved(f"http://demo.localhost:3000{entry['path']}", body, NOW)
        )
    return found


def test_both_agrees_when_pages_and_api_show_the_same_round() -> None:
    state = GraphQLState(SERIES / "r03" / "truth")
    with graphql_server(state) as origin:
        answers = _observe(ApiTarget.of(origin, languages=["fi"]))
    pages = _round_pages("r03", "fi")

    checked = cross_check(pages, answers)

    assert len(checked) == len(pages)
    found = [a for o in checked if o.page for a in o.page.anomalies]
    assert found == []


def test_both_reports_what_differs_and_what_lags() -> None:
    # r02's pages against r01's answers: action 10's completion changed with its
    # update time left alone (a real disagreement at one version); the other edits
    # moved the update time (one side lags).
    state = GraphQLState(SERIES / "r01" / "truth")
    with graphql_server(state) as origin:
        answers = _observe(ApiTarget.of(origin, languages=["fi"]))
    pages = _round_pages("r02", "fi")

    checked = cross_check(pages, answers)

    action_10 = next(o.page for o in checked if o.url.endswith("/actions/10"))
    assert action_10 is not None
    assert [a.code for a in action_10.anomalies] == ["layer_disagreement"]
    assert "completion" in action_10.anomalies[0].detail
    action_3 = next(o.page for o in checked if o.url.endswith("/actions/3"))
    assert action_3 is not None
    assert [a.code for a in action_3.anomalies] == ["source_lag"]
    listing = next(o.page for o in checked if o.url.endswith("/actions"))
    assert listing is not None
    details = " ".join(a.detail for a in listing.anomalies)
    assert "the page shows actions the API does not: ['19']" in details
    # Pages never lose their records to a cross-check.
    assert all(
        o.page is None or o.page.outcome is Outcome.OK or not o.page.actions
        for o in checked
    )


def test_links_to_other_actions_are_kept() -> None:
    # No fixture action is superseded; the answer's shape is the platform's own.
    answer = json.loads((SERIES / "r03" / "truth" / "plan-actions.en.json").read_text())
    first = answer["data"]["plan"]["actions"][0]
    first["supersededBy"] = {"id": "19", "identifier": "19"}
    first["scheduleContinuous"] = True
    plan = api.ApiPlan("demo", None, "fi", ("fi", "en"), "")

    pages = api.pages_from_answer(
        answer,
        url="https://example.org/api/graphql?plan=demo&lang=en",
        lang="en",
        prefix=api.site_prefix("https://example.org", plan, "en"),
        observed_at=NOW,
    )

    actions = {a.id: a for a in _action_list(pages, "en").actions}
    assert (actions["1"].superseded_by, actions["1"].superseded_by_identifier) == (
        "19",
        "19",
    )
    assert actions["1"].schedule_continuous is True
    assert (actions["14"].merged_with, actions["14"].merged_with_identifier) == (
        "6",
        "6",
    )
    assert actions["2"].superseded_by is None


def _observe_with_bug(
    monkeypatch: pytest.MonkeyPatch, origin: str, where: str, lang: str = "fi"
) -> list[PageObservation]:
    """The answers, with ``parsers.api.<where>`` raising on ``lang``'s (a bug)."""
    real = getattr(api, where)

    def failing(*args: Any, **kwargs: Any) -> Any:
        if where == "plan_for_site" or kwargs.get("lang") == lang:
            raise RuntimeError("a parser bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(api, where, failing)
    try:
        return _observe(ApiTarget.of(origin, languages=["fi", "en"]))
    finally:
        monkeypatch.setattr(api, where, real)


def test_a_parser_bug_on_an_answer_costs_that_answer_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The pages had a catch-all (pipeline.read_page); the API source had none, so a
    # parser bug on one answer ended the whole check with nothing recorded.
    state = GraphQLState(SERIES / "r03" / "truth")
    with graphql_server(state) as origin:
        observations = _observe_with_bug(monkeypatch, origin, "pages_from_answer")

    pages = _pages(observations)
    (broken,) = [p for p in pages if p.outcome is not Outcome.OK]
    assert broken.outcome is Outcome.LAYOUT_UNRECOGNISED
    assert broken.url.endswith("lang=fi")
    assert broken.actions == ()
    assert broken.extra == {"seen": "parser_error"}
    assert "RuntimeError: a parser bug" in broken.anomalies[0].detail
    assert _action_list(pages, "en").actions  # the other language still read
    assert "the parser failed" in caplog.text
    assert "Traceback" in caplog.text


def test_a_parser_bug_on_the_plans_answer_is_a_failed_observation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    state = GraphQLState(SERIES / "r03" / "truth")
    with graphql_server(state) as origin:
        (failed,) = _observe_with_bug(monkeypatch, origin, "plan_for_site")

    assert failed.failed
    assert failed.page is None
    assert failed.error == "the parser failed: RuntimeError: a parser bug"
    assert "Traceback" in caplog.text


def test_a_check_through_a_parser_bug_on_the_api_removes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = GraphQLState(SERIES / "r03" / "truth")
    with graphql_server(state) as origin:
        good = _observe(ApiTarget.of(origin, languages=["fi", "en"]))
        broken = _observe_with_bug(monkeypatch, origin, "pages_from_answer")
    times = (NOW + timedelta(hours=hours) for hours in range(4))
    baseline = record_check(db, "api", good, observed_at=next(times))
    assert baseline.outcome is CheckOutcome.BASELINE
    source_events = {EventKind.LAYOUT_ANOMALY, EventKind.LAYOUT_RESTORED}

    for _ in range(2):  # a removal is believed on its second sighting
        faulty = record_check(db, "api", broken, observed_at=next(times))
        assert faulty.outcome is CheckOutcome.ANOMALY
        assert [e for e in faulty.events if e.kind not in source_events] == []
    recovered = record_check(db, "api", good, observed_at=next(times))
    # "changed" by its layout_restored event only
    assert recovered.outcome in (CheckOutcome.UNCHANGED, CheckOutcome.CHANGED)
    assert [e for e in recovered.events if e.kind not in source_events] == []


def test_half_an_emoji_in_an_answer_becomes_a_replacement_character(
    tmp_path: Path,
) -> None:
    # json.loads keeps a lone surrogate, which no record could be stored with.
    truth = tmp_path / "truth"
    shutil.copytree(UI_2026 / "truth", truth)
    answer = json.loads((truth / "plan-actions.en.json").read_text())
    first = answer["data"]["plan"]["actions"][0]
    first["name"] += " \ud83d"
    first["identifier"] += "\udc00"
    (truth / "plan-actions.en.json").write_text(json.dumps(answer))  # escapes them

    with graphql_server(GraphQLState(truth)) as origin:
        pages = _pages(_observe(ApiTarget.of(origin + "/", languages=["en"])))

    action = _action_list(pages, "en").actions[0]
    assert action.name.endswith(" \ufffd")
    assert action.identifier is not None
    assert action.identifier.endswith("\ufffd")
    for page in pages:
        msgspec.json.encode(page)  # raises on a character with no UTF-8 form


@pytest.mark.parametrize(
    ("query", "missing"),
    [
        ("", True),
        ("?view=dashboard", True),  # every action, as a table
        ("?view=list", True),
        ("?organization=7", False),  # part of the plan
        ("?view=dashboard&q=heat", False),
    ],
)
def test_an_unfiltered_list_lacking_an_api_action_disagrees(
    query: str, missing: bool
) -> None:
    def action(platform_id: str) -> Action:
        return Action(
            id=platform_id,
            identifier=platform_id,
            name=f"Action {platform_id}",
            url=f"https://example.org/actions/{platform_id}",
            status=None,
            phase=None,
            tasks=None,
            updated_at=None,
            completion=None,
        )

    page = ParsedPage(
        kind=PageKind.ACTION_LIST,
        outcome=Outcome.OK,
        url=f"https://example.org/actions{query}",
        language="en",
        observed_at=NOW,
        organization=None,
        actions=(action("1"),),
        layer=Layer.EMBEDDED,
    )
    found = api.cross_check(page, {"1": action("1"), "2": action("2")})
    details = [a.detail for a in found]
    assert details == (
        ["the API lists actions the page does not: ['2']"] if missing else []
    )


@pytest.mark.parametrize("fail_with", [None, 500, 404])
def test_an_endpoint_password_is_in_no_answer_url_error_or_log(
    fail_with: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    # A staging API behind basic auth: api_url = "http://watch:PASSWORD@host/...".
    # Its address went as it was into the answers' URLs (stored, shown on the web
    # view), their errors (source_failing events) and the log lines.
    secret = "s3cret-pw"
    state = GraphQLState(SERIES / "r03" / "truth", fail_with=fail_with)
    with graphql_server(state) as origin, caplog.at_level(logging.INFO):
        endpoint = f"{origin}/api/graphql".replace("://", f"://watch:{secret}@")
        observations = _observe(ApiTarget.of(origin, endpoint, languages=["fi"]))

    assert observations
    assert all(o.failed for o in observations) == (fail_with is not None)
    for o in observations:
        assert secret not in o.url
        assert secret not in (o.error or "")
        if o.page is not None:
            assert all(secret not in (a.url or "") for a in o.page.actions)
    assert caplog.records
    assert secret not in caplog.text
