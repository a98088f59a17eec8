"""Replaying series-2024 through the real pipeline: exactly the events each round has.

Every round's pages go through ``record_check`` as a check at the round's render
time, in the order the series' README compares them. The events found must equal, as
a multiset of (kind, action or organization), what ``tests/change_series.py``
derives from the series' own ``round.json`` and API answers.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from monitor.pipeline import CheckOutcome, CheckReport, record_check
from monitor.rules import ChangeRules
from storage import repo
from storage.db import Database
from storage.models import ActionVersion, EventRow, Source
from tests import change_series as series

RULES = ChangeRules(timezone=series.TIMEZONE)

OUTCOMES = {
    "r00": CheckOutcome.BASELINE,
    "r01": CheckOutcome.UNCHANGED,
    "r02": CheckOutcome.CHANGED,
    "r03": CheckOutcome.CHANGED,
    "r04": CheckOutcome.UNCHANGED,  # only the clock's events: staleness, deadlines
    "r05": CheckOutcome.FAILED,
    "r05b": CheckOutcome.FAILED,
    "r06": CheckOutcome.ANOMALY,
    "r07": CheckOutcome.CHANGED,
}


def replay(
    db: Database, source: str, rounds: tuple[str, ...]
) -> dict[str, CheckReport]:
    return {
        name: record_check(
            db,
            source,
            series.observations(name),
            observed_at=series.check_time(name),
            rules=RULES,
        )
        for name in rounds
    }


def mismatches(
    reports: dict[str, CheckReport], expected: dict[str, series.Expected]
) -> list[str]:
    problems = []
    for name, report in reports.items():
        found = series.found_keys(report.events)
        want = expected[name].all
        if found != want:
            problems.append(
                f"{name}: missing {sorted((want - found).elements())}, "
                f"unexpected {sorted((found - want).elements())}"
            )
    return problems


def test_every_round_reports_exactly_its_events(db: Database) -> None:
    reports = {
        branch: replay(db, branch, rounds) for branch, rounds in series.BRANCHES.items()
    }

    for branch, rounds in series.BRANCHES.items():
        assert mismatches(reports[branch], series.expected(rounds)) == [], branch
    main = reports["main"]
    assert {n: r.outcome for n, r in main.items()} == {n: OUTCOMES[n] for n in main}
    assert main["r00"].events == ()
    assert main["r01"].events == (), "a clock-only round reports nothing"
    assert reports["outage"]["r05"].outcome is CheckOutcome.FAILED
    assert reports["outage-502"]["r05b"].outcome is CheckOutcome.FAILED

    # The events round.json lists, each by kind and action, in the round it names.
    expected = series.expected(series.MAIN)
    for name, report in main.items():
        found = series.found_keys(report.events)
        assert expected[name].series - found == Counter(), name
    r02 = series.found_keys(main["r02"].events)
    assert r02[("renamed", "2")] == 1, "renamed in four languages: one event"
    # Action 7, 700 days without an update, got a task: one event says both.
    [seven] = [e for e in main["r02"].events if e.action_id == "7"]
    assert seven.kind.value == "tasks_changed"
    assert seven.detail["no_longer_stale"] == {"before": 701, "after": 0}
    r03 = series.found_keys(main["r03"].events)
    assert r03[("identifier_changed", "15")] == 1
    assert ("action_removed", "15") not in r03
    assert ("action_added", "15") not in r03
    _merge_keeps_the_platform_status_and_identity(db)


def _merge_keeps_the_platform_status_and_identity(db: Database) -> None:
    truth = series.truth("r03")
    assert truth is not None
    with db.session() as session:
        source = session.scalar(select(Source).where(Source.name == "main"))
        assert source is not None
        actions = repo.current_actions(session, source.id)
    record, state = actions["14"]
    assert state is not None
    assert state.merged_with == "6"
    assert state.status == truth["14"]["status"]["identifier"]
    record, state = actions["15"]
    assert record.identifier == "IL-15"
    assert record.removed_at is None
    assert {k for k, (r, _) in actions.items() if r.removed_at} == {"12", "13"}


def test_the_truth_oracle_agrees_with_the_series_on_staleness() -> None:
    for branch in series.BRANCHES.values():
        for name, want in series.expected(branch).items():
            listed = Counter(
                {k: n for k, n in want.series.items() if k[0] == "became_stale"}
            )
            derived = Counter(
                {k: n for k, n in want.deadlines.items() if k[0] == "became_stale"}
            )
            assert derived == listed, name


def test_an_outage_and_a_layout_change_remove_nothing_and_keep_the_baseline(
    db: Database,
) -> None:
    reports = replay(db, "timeline", ("r04",))

    def versions() -> list[tuple[int, int]]:
        with db.session() as session:
            rows = session.execute(select(ActionVersion.id, ActionVersion.action_id))
            return sorted((r.id, r.action_id) for r in rows)

    kept = versions()
    reports |= replay(db, "timeline", ("r05", "r05b"))
    assert versions() == kept, "a failed check never replaces the stored state"
    reports |= replay(db, "timeline", ("r06", "r07"))

    kinds = {n: sorted(e.kind.value for e in r.events) for n, r in reports.items()}
    assert kinds["r05"] == ["source_failing"]
    assert kinds["r05b"] == [], "source_failing is reported once"
    assert "source_recovered" in kinds["r06"]
    assert "layout_anomaly" in kinds["r06"]
    assert "action_removed" not in kinds["r06"]
    assert mismatches(reports, series.expected(series.TIMELINE)) == [
        # The README compares r05b and r06 with r04; here they follow the outage.
        "r05b: missing [('source_failing', '')], unexpected []",
        "r06: missing [], unexpected [('source_recovered', '')]",
    ]


def test_recording_the_same_rounds_again_adds_nothing(db: Database) -> None:
    rounds = ("r02", "r03")
    replay(db, "again", rounds)
    before = _event_count(db)
    again = replay(db, "again", rounds)
    assert {r.outcome for r in again.values()} == {CheckOutcome.SKIPPED}
    assert all(r.events == () for r in again.values())
    assert _event_count(db) == before


def _event_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(EventRow.id))) or 0
