"""History queries: versions of an action, tables as of a date, filtered changes.

The database is built by the real pipeline from series-2024 rounds r00 (baseline),
r02 (content edits) and r03 (removals, a merge, an identifier change); expected
values come from the rounds' own API answers and round.json, not from planwatch.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from monitor.cli import app
from storage import history
from storage.db import Database, open_database
from storage.models import ActionVersion, EventRow, ScheduledJob
from tests.history_series import (
    BACKENDS,
    record_rounds,
    round_time,
    scratch_database,
    truth,
)
from tests.truth import responsible_orgs

ROUNDS = ("r00", "r02", "r03")


@pytest.fixture(scope="module", params=BACKENDS)
def series_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    # Built once per backend: the tests below only read it.
    with scratch_database(request.param, tmp_path_factory.mktemp("series")) as url:
        database = open_database(url)
        record_rounds(database, ROUNDS)
        yield database
        database.close()


def _cli(db: Database, *args: str) -> str:
    url = db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, [*args, "--db", url])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# -- history ---------------------------------------------------------------------------


def test_history_lists_every_version_with_what_changed(series_db: Database) -> None:
    found = json.loads(_cli(series_db, "history", "2", "--json"))

    assert (found["source"], found["action_id"]) == ("demo", "2")
    versions = found["versions"]
    assert len(versions) == 2
    first, second = versions
    assert first["changed_fields"] is None
    assert first["state"]["names"]["en"] == truth("r00")["2"]["name"]
    assert first["valid_to"] == second["valid_from"]
    assert second["valid_from"] == round_time("r02").isoformat()
    assert second["valid_to"] is None
    renamed = [c for c in second["changes"] if c["kind"] == "renamed"]
    assert [(c["before"], c["after"]) for c in renamed] == [
        (truth("r00")["2"]["name"], truth("r02")["2"]["name"])
    ]

    table = _cli(series_db, "history", "2")
    assert "first seen" in table


def test_history_tells_what_removed_an_action(series_db: Database) -> None:
    found = json.loads(_cli(series_db, "history", "12", "--json"))
    assert found["removed_at"] == round_time("r03").isoformat()
    assert found["versions"][-1]["valid_to"] == round_time("r03").isoformat()
    assert [c["kind"] for c in found["other_changes"]] == ["action_removed"]


@pytest.mark.parametrize(
    "reference",
    [
        "IL-15",
        "identifier:IL-15",
        "id:15",
        "http://demo.localhost:3000/en/actions/IL-15",
        "/actions/IL-15",
    ],
)
def test_an_action_is_found_by_id_identifier_or_url(
    series_db: Database, reference: str
) -> None:
    with series_db.reader() as session:
        ref = history.one_action(session, reference)
    assert (ref.platform_id, ref.identifier) == ("15", "IL-15")


def test_an_unknown_or_ambiguous_action_says_what_to_do(db: Database) -> None:
    record_rounds(db, ("r00",))
    record_rounds(db, ("r00",), source="copy")
    with db.reader() as session:
        with pytest.raises(history.NotFound, match="platform id, its identifier"):
            history.one_action(session, "999")
        with pytest.raises(history.Ambiguous, match="--source NAME") as ambiguous:
            history.one_action(session, "2")
        assert "demo: action id 2" in str(ambiguous.value)
        assert "copy: action id 2" in str(ambiguous.value)
        assert history.one_action(session, "2", source="copy").source == "copy"

    url = db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["history", "2", "--db", url])
    assert isinstance(result.exception, history.Ambiguous)


# -- show --as-of ----------------------------------------------------------------------


def _show(db: Database, reference: str, as_of: str) -> dict[str, object]:
    data = json.loads(_cli(db, "show", reference, "--as-of", as_of, "--json"))
    assert isinstance(data, dict)
    return data


def _ids(table: dict[str, object]) -> set[str]:
    actions = table["actions"]
    assert isinstance(actions, list)
    return {a["action_id"] for a in actions}


def test_show_gives_the_whole_table_as_it_stood(series_db: Database) -> None:
    between = (round_time("r00") + timedelta(days=1)).isoformat()
    before_edits = _show(series_db, "demo", between)
    assert _ids(before_edits) == set(truth("r00"))
    names = {a["action_id"]: a["name"] for a in before_edits["actions"]}  # type: ignore[union-attr]
    assert names["2"] == truth("r00")["2"]["name"]

    after = _show(series_db, "demo", round_time("r03").isoformat())
    assert _ids(after) == set(truth("r03"))
    rows = {a["action_id"]: a for a in after["actions"]}  # type: ignore[union-attr]
    assert rows["15"]["identifier"] == "IL-15"
    assert rows["3"]["status"] == truth("r03")["3"]["status"]["identifier"]
    assert rows["14"]["merged_with"] == "6"

    just_before = (round_time("r00") - timedelta(seconds=1)).isoformat()
    assert _ids(_show(series_db, "demo", just_before)) == set()


def test_show_an_organization_lists_the_actions_it_was_responsible_for(
    series_db: Database,
) -> None:
    # Action 5 moved from organization 2 to organization 4 in r02.
    for round_name, as_of in (
        ("r00", (round_time("r00") + timedelta(days=1)).isoformat()),
        ("r02", (round_time("r02") + timedelta(minutes=5)).isoformat()),
    ):
        for org in ("2", "4"):
            expected = {
                action_id
                for action_id, action in truth(round_name).items()
                if org in responsible_orgs(action)
            }
            table = _show(series_db, org, as_of)
            assert table["organization"]["organization_id"] == org  # type: ignore[index]
            assert _ids(table) == expected, (round_name, org)


def test_show_by_date_means_the_end_of_that_day(series_db: Database) -> None:
    day = round_time("r02").date().isoformat()
    assert "19" in _ids(_show(series_db, "demo", day))


# -- changes ---------------------------------------------------------------------------


def test_changes_json_lines_keep_the_documented_format(series_db: Database) -> None:
    lines = _json_lines(_cli(series_db, "changes", "--json"))
    assert lines
    assert {tuple(line) for line in lines} == {
        (
            "kind",
            "observed_at",
            "source",
            "action_id",
            "action_identifier",
            "field",
            "before",
            "after",
        )
    }
    times = [line["observed_at"] for line in lines]
    assert times == sorted(times)  # type: ignore[type-var]


def test_changes_filters(series_db: Database) -> None:
    def kinds_and_ids(*args: str) -> list[tuple[object, object]]:
        return [
            (line["kind"], line["action_id"])
            for line in _json_lines(_cli(series_db, "changes", "--json", *args))
        ]

    status = kinds_and_ids("--kind", "status_changed")
    assert sorted(status) == [("status_changed", "11"), ("status_changed", "3")]
    assert kinds_and_ids("--kind", "renamed,action_added") == [
        ("action_added", "19"),
        ("renamed", "2"),
    ] or sorted(kinds_and_ids("--kind", "renamed,action_added")) == [
        ("action_added", "19"),
        ("renamed", "2"),
    ]

    r03 = round_time("r03")
    only_r03 = kinds_and_ids("--since", r03.isoformat())
    assert ("merged", "14") in only_r03
    assert ("renamed", "2") not in only_r03
    until_r02 = kinds_and_ids("--until", (r03 - timedelta(seconds=1)).isoformat())
    assert ("renamed", "2") in until_r02
    assert ("merged", "14") not in until_r02

    assert {i for _, i in kinds_and_ids("--action", "IL-15")} == {"15"}
    assert kinds_and_ids("--site", "demo") == kinds_and_ids()
    url = series_db.engine.url.render_as_string(hide_password=False)
    unknown = CliRunner().invoke(app, ["changes", "--site", "elsewhere", "--db", url])
    assert isinstance(unknown.exception, history.NotFound)
    assert "no source named 'elsewhere'" in str(unknown.exception)


def test_changes_of_an_organization_include_actions_leaving_it(
    series_db: Database,
) -> None:
    def about(org: str) -> set[str]:
        lines = _json_lines(_cli(series_db, "changes", "--json", "--organization", org))
        return {str(line["action_id"]) for line in lines if line["action_id"]}

    moved = "responsible_parties_changed"
    for org in ("2", "4"):
        lines = _json_lines(_cli(series_db, "changes", "--json", "--organization", org))
        assert (moved, "5") in {(line["kind"], line["action_id"]) for line in lines}
    responsible_anywhere = {
        action_id
        for round_name in ROUNDS
        for action_id, action in truth(round_name).items()
        if "2" in responsible_orgs(action)
    }
    assert about("2") <= responsible_anywhere | {"12", "13"}
    assert about("2")


def test_an_unknown_kind_is_refused_with_the_known_ones(series_db: Database) -> None:
    url = series_db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["changes", "--kind", "typo", "--db", url])
    assert "--kind typo: not a change kind" in str(result.exception)
    assert "status_changed" in str(result.exception)


# -- export, views, sources ------------------------------------------------------------


def test_export_records_match_show(series_db: Database, tmp_path: Path) -> None:
    as_of = round_time("r03").isoformat()
    shown = _show(series_db, "demo", as_of)

    target = tmp_path / "records.csv"
    _cli(series_db, "export", "records", "--as-of", as_of, "-o", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {r["action_id"] for r in rows} == _ids(shown)
    by_id = {r["action_id"]: r for r in rows}
    assert by_id["2"]["name"] == truth("r03")["2"]["name"]
    assert set(by_id["5"]["organizations"].split("; ")) == responsible_orgs(
        truth("r03")["5"]
    )

    as_json = json.loads(
        _cli(series_db, "export", "records", "--as-of", as_of, "-f", "json")
    )
    assert as_json == shown["actions"]


def test_export_versions_and_changes(series_db: Database) -> None:
    with series_db.reader() as session:
        versions = session.scalar(select(func.count()).select_from(ActionVersion))
        events = session.scalar(select(func.count()).select_from(EventRow))

    ndjson = _json_lines(_cli(series_db, "export", "versions", "-f", "ndjson"))
    assert len(ndjson) == versions
    assert sum(1 for row in ndjson if row["changed_fields"] is None) == len(
        truth("r02")
    ), "one first version per action ever seen"

    text_out = _cli(series_db, "export", "changes", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(text_out)))
    assert len(rows) == events
    assert rows[0].keys() >= {"observed_at", "kind", "action_id", "before", "after"}


def test_views_read_like_the_commands(series_db: Database) -> None:
    as_of = round_time("r03").isoformat()
    shown = {a["action_id"]: a for a in _show(series_db, "demo", as_of)["actions"]}  # type: ignore[union-attr]
    with series_db.reader() as session:
        now = session.execute(
            text(
                "SELECT action_id, name, status FROM actions_now WHERE source = 'demo'"
            )
        ).all()
        changes = session.execute(text("SELECT kind, before, after FROM changes")).all()
        events = session.scalar(select(func.count()).select_from(EventRow))
    assert {row.action_id: (row.name, row.status) for row in now} == {
        key: (row["name"], row["status"]) for key, row in shown.items()
    }
    assert len(changes) == events
    renamed = [row for row in changes if row.kind == "renamed"]
    assert renamed[0].after == truth("r02")["2"]["name"]


def test_sources_tell_last_outcome_change_and_next_check(
    series_db: Database, tmp_path: Path
) -> None:
    (line,) = _json_lines(_cli(series_db, "sources", "--json"))
    assert line["source"] == "demo"
    assert line["last_outcome"] == "changed"
    assert line["last_check_at"] == round_time("r03").isoformat()
    assert line["last_change_at"] == round_time("r03").isoformat()
    assert "merged" in line["last_change_kinds"]  # type: ignore[operator]
    assert line["checks"] == 3
    assert line["actions"] == len(truth("r03"))
    assert line["next_check_at"] is None

    config = tmp_path / "planwatch.toml"
    config.write_text(
        '[[sources]]\nname = "demo"\npages = ["http://demo.localhost:3000/en/actions"]\n'
        "interval_minutes = 60\n"
        '[[sources]]\nname = "new"\npages = ["http://demo.localhost:3000/actions"]\n',
        encoding="utf-8",
    )
    lines = _json_lines(_cli(series_db, "sources", "--json", "-c", str(config)))
    by_name = {line["source"]: line for line in lines}
    assert by_name["new"]["last_check_at"] is None
    assert by_name["new"]["next_check_at"] is not None
    assert by_name["demo"]["next_check_at"] is not None
    assert (
        by_name["demo"]["next_check_at"]
        >= (  # type: ignore[operator]
            round_time("r03") + timedelta(minutes=60)
        ).isoformat()
    )


def test_sources_show_the_next_check_run_scheduled(db: Database) -> None:
    record_rounds(db, ("r00",))
    due = round_time("r00") + timedelta(minutes=61)
    with db.sessions.begin() as session:
        session.add(ScheduledJob(key="source:demo", slot=due, due_at=due, runs=1))
    (line,) = _json_lines(_cli(db, "sources", "--json"))
    assert line["next_check_at"] == due.isoformat()
    assert line["last_outcome"] == "baseline"


def test_an_organization_is_found_by_its_current_name(series_db: Database) -> None:
    # Organization 5 was renamed in r03; names come from the API's answer.
    names = {
        party["organization"]["id"]: party["organization"]["name"]
        for action in truth("r03").values()
        for party in action["responsibleParties"]
    }
    as_of = round_time("r03").isoformat()
    for org in ("4", "5"):
        table = _show(series_db, names[org].upper(), as_of)
        assert table["organization"]["organization_id"] == org  # type: ignore[index]
    url = series_db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["show", "No such unit", "--db", url])
    assert "neither a source nor an organization" in str(result.exception)
