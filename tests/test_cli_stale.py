"""``planwatch stale`` on the series' r04 pages, checked against the API's answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from typer.testing import CliRunner

from monitor.cli import app
from monitor.pipeline import record_check
from monitor.rules import ChangeRules
from storage.db import open_database
from tests import change_series as series

LINES = (("target", 30), ("acceptable", 60), ("stale", 180))


def expected_rows(as_of: datetime) -> list[tuple[str, str, int]]:
    """(action, line, whole days) from the truth: active actions past a line."""
    truth = series.truth("r04")
    assert truth is not None
    rows = []
    for action_id, action in truth.items():
        if action["mergedWith"] or action["status"]["isCompleted"]:
            continue
        age = as_of - datetime.fromisoformat(action["updatedAt"])
        passed = [line for line, days in LINES if age > timedelta(days=days)]
        if passed:
            rows.append((action["updatedAt"], action_id, passed[-1], age.days))
    return [(a, line, days) for _, a, line, days in sorted(rows)]


def test_stale_lists_actions_past_each_line_oldest_first(db_url: str) -> None:
    database = open_database(db_url)
    at = series.check_time("r04")
    rules = ChangeRules(timezone=series.TIMEZONE)
    record_check(
        database, "demo", series.observations("r04"), observed_at=at, rules=rules
    )
    database.close()
    as_of = at + timedelta(days=1)
    runner = CliRunner()

    answer = runner.invoke(
        app, ["stale", "--db", db_url, "--as-of", as_of.isoformat(), "--json"]
    )

    assert answer.exit_code == 0, answer.output
    rows = [json.loads(line) for line in answer.output.splitlines()]
    found = [(r["action_id"], r["line"], r["age_days"]) for r in rows]
    assert found == expected_rows(as_of)
    assert found[:2] == [("18", "stale", 211), ("17", "stale", 191)]
    assert {r["limit_days"] for r in rows if r["line"] == "stale"} == {180}
    assert all(r["exact"] for r in rows)

    text = runner.invoke(app, ["stale", "--db", db_url, "--as-of", as_of.isoformat()])
    assert text.exit_code == 0, text.output
    assert "stale (180 days)" in text.output
    assert text.output.index("18.") < text.output.index("17.")

    # Ten days after the oldest active action's update, none is past a line.
    truth = series.truth("r04")
    assert truth is not None
    oldest = min(
        datetime.fromisoformat(a["updatedAt"])
        for a in truth.values()
        if not a["mergedWith"] and not a["status"]["isCompleted"]
    )
    early = (oldest + timedelta(days=10)).isoformat()
    answer = runner.invoke(app, ["stale", "--db", db_url, "--as-of", early])
    assert "no action is past a staleness line" in answer.output
    same = runner.invoke(
        app, ["stale", "--db", db_url, "--as-of", early, "--source", "demo"]
    )
    assert "no action is past a staleness line" in same.output
    other = runner.invoke(app, ["stale", "--db", db_url, "--source", "elsewhere"])
    assert other.exit_code != 0
    assert "no source named 'elsewhere'" in str(other.exception)
