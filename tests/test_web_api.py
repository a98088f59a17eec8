"""The JSON API over histories filled by the real pipeline from saved pages.

Expected values come from the platform's own API answers saved with the pages
(``truth/plan-actions.en.json``), never from planwatch's parser.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select, text
from starlette.routing import Route

from monitor.demo import LAB
from monitor.pipeline import record_check
from monitor.web.app import create_app, open_read_only
from monitor.web.openapi import document
from storage.db import Database, open_database
from storage.models import Check
from tests.truth import expected_events, plan_actions, responsible_orgs
from tests.web_helpers import (
    LAB_AFTER,
    LAB_BEFORE,
    SERIES,
    fill_lab,
    fill_series_and_lab,
    filled_database,
    lab_observations,
    serving,
)

INACTIVE = {"COMPLETED", "CANCELLED", "MERGED", "OUT_OF_SCOPE", "POSTPONED"}
# Events of the clock (staleness, due dates), which the platform's answers do not
# list as differences.
CLOCK_KINDS = {"became_stale", "no_longer_stale", "task_late", "task_due_soon"}


@pytest.fixture(scope="module")
def series_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return filled_database(tmp_path_factory, "series", fill_series_and_lab)


@pytest.fixture(scope="module")
def api(series_path: str) -> Iterator[httpx.Client]:
    database = open_read_only(series_path)
    with serving(create_app(database)) as base, httpx.Client(base_url=base) as client:
        yield client
    database.close()


def _truth(round_name: str) -> dict[str, dict[str, Any]]:
    return plan_actions(SERIES / round_name / "truth" / "plan-actions.en.json")


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


def test_sources_report_health_and_counts(api: httpx.Client) -> None:
    found = {s["name"]: s for s in api.get("/api/sources").json()["items"]}

    assert set(found) == {"demo", "lab"}
    demo = found["demo"]
    assert demo["health"] == "ok"  # r07 restored the layout the r06 pages lost
    assert demo["last_outcome"] == "changed"
    assert demo["actions"] == len(_truth("r07"))
    assert demo["removed_actions"] == 2  # 12 deleted, 13 made internal (r03)
    assert demo["failing"] is None
    assert demo["layout_anomaly"] is None

    detail = api.get("/api/sources/demo").json()
    outcomes = [c["outcome"] for c in reversed(detail["checks"])]
    assert outcomes == [
        "baseline", "changed", "changed", "unchanged", "failed", "anomaly", "changed"
    ]  # fmt: skip


def test_actions_current_state_matches_the_platform(api: httpx.Client) -> None:
    truth = _truth("r07")
    items = api.get("/api/actions", params={"source": "demo", "limit": 500}).json()
    found = {a["id"]: a for a in items["items"]}

    assert set(found) == set(truth)
    for action_id, expected in truth.items():
        action = found[action_id]
        assert action["identifier"] == expected["identifier"]
        assert action["name"] == expected["name"]
        assert action["status"] == expected["status"]["identifier"]
        phase = (expected["implementationPhase"] or {}).get("identifier")
        assert action["phase"] == phase
        assert {o["id"] for o in action["organizations"]} == responsible_orgs(expected)


def test_actions_filter_by_status_organization_and_staleness(
    api: httpx.Client,
) -> None:
    truth = _truth("r07")
    seen_at = datetime.fromisoformat(
        json.loads((SERIES / "r07" / "pages.json").read_text())["pages"][0]["ui_now"]
    )

    def ids(**params: Any) -> set[str]:
        answer = api.get("/api/actions", params={"source": "demo", **params})
        assert answer.status_code == 200, answer.text
        return _ids(answer.json()["items"])

    late = {i for i, a in truth.items() if a["status"]["identifier"] == "late"}
    assert late
    assert ids(status="late") == late
    on_time = {i for i, a in truth.items() if a["status"]["identifier"] == "on_time"}
    assert ids(status="late,on_time") == late | on_time
    for org in ("2", "4"):
        expected = {i for i, a in truth.items() if org in responsible_orgs(a)}
        assert ids(organization=org) == expected
    stale = {
        i
        for i, a in truth.items()
        if a["statusSummary"]["identifier"] not in INACTIVE
        and not a["mergedWith"]
        and seen_at - datetime.fromisoformat(a["updatedAt"]) > timedelta(days=180)
    }
    assert stale == {"17", "18"}  # the series' own account of r04
    assert ids(stale="true") == stale
    assert ids(stale="false").isdisjoint(stale)
    assert ids(stale="true", stale_days="60") > stale  # a stricter line finds more
    assert ids(organization="2", stale="true") == stale & ids(organization="2")


def test_removed_actions_only_when_asked(api: httpx.Client) -> None:
    current = _ids(api.get("/api/actions?source=demo&limit=500").json()["items"])
    everything = api.get("/api/actions?source=demo&limit=500&removed=true").json()

    removed = {a["id"]: a for a in everything["items"] if a["removed_at"]}
    assert set(removed) == {"12", "13"}
    assert current == _ids(everything["items"]) - {"12", "13"}


def test_pagination_walks_every_action_once(api: httpx.Client) -> None:
    seen: list[str] = []
    url: str | None = "/api/actions?limit=4"
    pages = 0
    while url:
        answer = api.get(url)
        body = answer.json()
        seen += [f"{a['source']}/{a['id']}" for a in body["items"]]
        assert len(body["items"]) <= 4
        if body["next"]:
            assert f'<{body["next"]}>; rel="next"' in answer.headers["link"]
        url = body["next"]
        pages += 1

    total = api.get("/api/actions?limit=1").json()["total"]
    assert len(seen) == len(set(seen)) == total == len(_truth("r07")) + 10
    assert pages == -(-total // 4)
    second = api.get("/api/actions?limit=4&offset=4").json()
    assert "offset=0" in (second["prev"] or "")


def test_one_action_and_its_history(api: httpx.Client) -> None:
    # Action 3: late -> on time in r02 (the series' round notes).
    action = api.get("/api/sources/demo/actions/3").json()
    assert action["status"] == "on_time"

    history = api.get("/api/sources/demo/actions/3/history").json()
    statuses = [v["status"] for v in history["versions"]]
    assert (statuses[0], statuses[-1]) == ("late", "on_time")
    assert history["versions"][-1]["valid_to"] is None
    kinds = [c["kind"] for c in history["changes"]]
    assert "status_changed" in kinds
    change = history["changes"][kinds.index("status_changed")]
    assert (change["before"], change["after"]) == ("late", "on_time")
    times = [c["observed_at"] for c in history["changes"]]
    assert times == sorted(times)


def test_changes_filters(api: httpx.Client) -> None:
    def changes(**params: Any) -> list[dict[str, Any]]:
        answer = api.get("/api/changes", params={"limit": 500, **params})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    everything = changes()
    assert {c["source"] for c in everything} == {"demo", "lab"}
    times = [c["observed_at"] for c in everything]
    assert times == sorted(times, reverse=True)
    oldest_first = changes(order="asc")
    assert [c["id"] for c in oldest_first] == [c["id"] for c in reversed(everything)]

    status = changes(source="demo", kind="status_changed")
    # r02: 3 late->on_time, 11 in_progress->late; r07: 16 and 2.
    assert sorted(c["action_id"] for c in status) == ["11", "16", "2", "3"]

    r02 = datetime.fromisoformat("2026-12-05T00:00:00+00:00")
    r03 = datetime.fromisoformat("2026-12-06T00:00:00+00:00")
    window = changes(source="demo", since=r02.isoformat(), until=r03.isoformat())
    assert window
    assert all(r02 <= _at(c) < r03 for c in window)
    found = {(c["kind"], c["action_id"] or c["organization_id"]) for c in window}
    assert expected_events(_truth("r01"), _truth("r02")) <= found

    action = changes(source="demo", action="3")
    assert {c["action_id"] for c in action} == {"3"}

    org = changes(source="demo", organization="2")
    members = {i for r in ("r00", "r02", "r03", "r07") for i, a in _truth(r).items()
               if "2" in responsible_orgs(a)}  # fmt: skip
    assert org
    assert all(c["organization_id"] == "2" or c["action_id"] in members for c in org)
    assert any(c["kind"] == "action_count_changed" for c in org)


def _at(change: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(change["observed_at"])


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/actions?organization=2", "organization"),
        ("/api/changes?action=3", "action"),
        ("/api/changes?limit=0", "limit"),
        ("/api/changes?limit=many", "limit"),
        ("/api/changes?since=yesterday", "since"),
        # Past year 9999 in UTC: an OverflowError, a 500, before.
        ("/api/changes?since=9999-12-31T23:59:59-23:59", "since"),
        ("/api/changes?until=0001-01-01T00:00:00%2B14:00", "until"),
        ("/api/changes?order=up", "order"),
        ("/api/actions?stale=maybe", "stale"),
        ("/api/changes?kind=status_changd", "kind"),
    ],
)
def test_bad_parameters_are_named(api: httpx.Client, path: str, parameter: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 400
    assert f"query parameter {parameter}=" in answer.json()["error"]


def test_unknown_things_are_404(api: httpx.Client) -> None:
    for path in (
        "/api/sources/nowhere",
        "/api/sources/demo/actions/999",
        "/api/sources/demo/actions/999/history",
        "/api/sources/nowhere/organizations",
    ):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert "error" in answer.json()


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/api/actions?source=dmeo", "no source named 'dmeo'"),
        ("/api/changes?source=dmeo", "no source named 'dmeo'"),
        ("/api/actions?source=demo&organization=99", "no organization '99' in"),
        ("/api/changes?source=demo&organization=99", "no organization '99' in"),
        ("/api/changes?source=demo&action=999", "no action '999' in source"),
    ],
)
def test_filters_naming_unknown_things_are_404_not_an_empty_list(
    api: httpx.Client, path: str, error: str
) -> None:
    """A misspelt source must not read as "nothing changed there"."""
    answer = api.get(path)
    assert answer.status_code == 404, answer.text
    assert error in answer.json()["error"]


# -- conditional requests ------------------------------------------------------------


def test_unchanged_answers_are_304_and_change_with_a_new_check(
    tmp_path: Any,
) -> None:
    path = str(tmp_path / "lab.sqlite")
    writer = open_database(path)
    record_check(
        writer, "lab", lab_observations("before", LAB_BEFORE), observed_at=LAB_BEFORE
    )
    reader = open_read_only(path)
    # Last-Modified has whole seconds: it is sent once its second has passed.
    soon = datetime.now(UTC) + timedelta(seconds=2)
    app = create_app(reader, clock=lambda: soon)
    with serving(app) as base, httpx.Client(base_url=base) as client:
        urls = ["/api/changes", "/api/actions", "/feeds/changes.atom", "/"]
        first = {u: client.get(u) for u in urls}
        for url, answer in first.items():
            etag, stamp = answer.headers["etag"], answer.headers["last-modified"]
            again = client.get(url, headers={"If-None-Match": etag})
            assert (again.status_code, again.content) == (304, b""), url
            assert again.headers["etag"] == etag
            since = client.get(url, headers={"If-Modified-Since": stamp})
            assert since.status_code == 304, url
            weak = client.get(url, headers={"If-None-Match": f'"x", W/{etag}'})
            assert weak.status_code == 304, url

        # The app's clock runs 2 s ahead, so it sent Last-Modified for a second that
        # has not ended on the writer's clock; a real server withholds it until then.
        # Let the writer's next check end in a later second, as it would in use.
        time.sleep(1.05 - time.time() % 1)
        after = lab_observations("after", LAB_AFTER)
        record_check(writer, "lab", after, observed_at=LAB_AFTER)
        later = datetime.now(UTC) + timedelta(seconds=2)
        reader_app = create_app(reader, clock=lambda: later)
        with serving(reader_app) as base2, httpx.Client(base_url=base2) as fresh:
            for url, answer in first.items():
                etag, stamp = answer.headers["etag"], answer.headers["last-modified"]
                changed = fresh.get(url, headers={"If-None-Match": etag})
                assert changed.status_code == 200, url
                assert changed.headers["etag"] != etag
                since = fresh.get(url, headers={"If-Modified-Since": stamp})
                assert since.status_code == 200, url
                assert since.headers["last-modified"] != stamp
    reader.close()
    writer.close()


def test_last_modified_is_withheld_within_its_own_second(tmp_path: Any) -> None:
    path = str(tmp_path / "lab.sqlite")
    writer = open_database(path)
    record_check(
        writer, "lab", lab_observations("before", LAB_BEFORE), observed_at=LAB_BEFORE
    )
    with writer.reader() as session:
        finished = session.scalar(select(func.max(Check.finished_at)))
    assert finished is not None
    reader = open_read_only(path)
    same_second = finished.replace(microsecond=999_999)
    app = create_app(reader, clock=lambda: same_second)
    with serving(app) as base, httpx.Client(base_url=base) as client:
        answer = client.get("/api/changes")
        assert "last-modified" not in answer.headers
        assert "etag" in answer.headers
        # A date the server never sent cannot vouch for this second either.
        stamp = "Thu, 31 Dec 2099 00:00:00 GMT"
        assert (
            client.get("/api/changes", headers={"If-Modified-Since": stamp}).status_code
            == 200
        )
    reader.close()
    writer.close()


# -- the OpenAPI description ---------------------------------------------------------


def test_openapi_is_valid_and_describes_every_route(
    api: httpx.Client, series_path: str
) -> None:
    spec = api.get("/api/openapi.json").json()
    validate(spec)

    database = open_read_only(series_path)
    app = create_app(database)
    database.close()
    served = {
        r.path for r in app.routes if isinstance(r, Route) and r.path.startswith("/api")
    }
    assert served == set(spec["paths"])


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/api/sources", "SourceList"),
        ("/api/sources/demo", "SourceDetail"),
        ("/api/sources/demo/organizations", "OrganizationList"),
        ("/api/sources/demo/actions/14", "Action"),
        ("/api/sources/demo/actions/12/history", "ActionHistory"),
        ("/api/actions?removed=true&limit=500", "ActionPage"),
        ("/api/changes?limit=500", "ChangePage"),
        ("/api/changes?limit=2&offset=2", "ChangePage"),
    ],
)
def test_answers_match_their_schemas(api: httpx.Client, path: str, schema: str) -> None:
    spec = document()
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
    answer = api.get(path)
    assert answer.status_code == 200
    errors = [e.message for e in validator.iter_errors(answer.json())]
    assert errors == []


# -- read only -----------------------------------------------------------------------

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def test_write_methods_are_refused_everywhere(
    api: httpx.Client, series_path: str
) -> None:
    database = open_read_only(series_path)
    with database.reader() as session:
        checks = session.scalar(select(func.count(Check.id)))
    paths = [
        "/", "/sources", "/sources/demo", "/sources/demo/organizations/2",
        "/sources/demo/actions/3", "/feeds/changes.atom", "/feeds/sources/demo.atom",
        "/feeds/sources/demo/actions/3.atom", "/api/sources", "/api/actions",
        "/api/changes", "/api/sources/demo/actions/3", "/api/openapi.json",
        "/static/style.css",
    ]  # fmt: skip
    for path in paths:
        for method in WRITE_METHODS:
            answer = api.request(method, path, content=b'{"status": "done"}')
            assert answer.status_code == 405, (method, path)
            if not path.startswith("/static"):
                assert set(answer.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert api.head("/api/actions").status_code == 200
    assert api.get("/sources/demo/actions/3").status_code == 200

    with database.reader() as session:
        assert session.scalar(select(func.count(Check.id))) == checks
    database.close()


def test_api_on_both_backends(db: Database, db_url: str) -> None:
    fill_lab(db)
    before = plan_actions(LAB / "before" / "truth" / "plan-actions.en.json")
    after = plan_actions(LAB / "after" / "truth" / "plan-actions.en.json")
    reader = open_read_only(db_url)
    try:
        with serving(create_app(reader)) as base, httpx.Client(base_url=base) as api:
            found = api.get("/api/changes", params={"source": "lab", "limit": 500})
            kinds = {
                (c["kind"], c["action_id"] or c["organization_id"])
                for c in found.json()["items"]
            }
            assert {k for k in kinds if k[0] not in CLOCK_KINDS} == expected_events(
                before, after
            )
            actions = api.get("/api/actions", params={"source": "lab"}).json()
            assert {a["id"]: a["status"] for a in actions["items"]} == {
                i: a["status"]["identifier"] for i, a in after.items()
            }
            org = api.get(
                "/api/actions", params={"source": "lab", "organization": "4"}
            ).json()
            assert _ids(org["items"]) == {
                i for i, a in after.items() if "4" in responsible_orgs(a)
            }
            history = api.get("/api/sources/lab/actions/9/history").json()
            assert [v["status"] for v in history["versions"]] == [
                before["9"]["status"]["identifier"],
                after["9"]["status"]["identifier"],
            ]
            assert api.get("/sources/lab/actions/9").status_code == 200
            assert api.get("/feeds/sources/lab/organizations/4.atom").status_code == 200

        with (
            pytest.raises(Exception, match=r"(?i)read.?only"),
            reader.engine.begin() as connection,
        ):
            connection.execute(text("DELETE FROM events"))
        with reader.reader() as session:
            assert session.scalar(select(func.count()).select_from(Check)) == 2
    finally:
        reader.close()
