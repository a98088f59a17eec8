"""What fires and what never fires: one rule per test."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec

from monitor.changes import diff_action, merge_pages
from monitor.pipeline import (
    CheckOutcome,
    CheckReport,
    PageObservation,
    observe_saved,
    record_check,
)
from monitor.rules import ChangeRules
from notifiers.render import describe
from parsers.records import TimeRange
from parsers.reltime import parse_relative
from storage.db import Database
from storage.events import EventKind
from storage.state import ActionState
from tests import change_series as series
from tests.change_pages import (
    SITE,
    Item,
    failed,
    not_found,
    org_page,
    unrecognised,
    with_status,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULES = ChangeRules(timezone="Europe/Helsinki")


def kinds(report: CheckReport) -> list[str]:
    return sorted(e.kind.value for e in report.events)


def check(
    db: Database, pages: list[PageObservation], at: datetime, rules: ChangeRules = RULES
) -> CheckReport:
    return record_check(db, "test", pages, observed_at=at, rules=rules)


# -- language, whitespace and the clock ------------------------------------------------


def test_the_same_plan_seen_in_another_language_reports_nothing(db: Database) -> None:
    english = [o for o in series.observations("r00") if "/en/" in o.url]
    finnish = [o for o in series.observations("r01") if "/en/" not in o.url]
    finnish = [o for o in finnish if "/sv/" not in o.url and "/de/" not in o.url]

    assert check(db, english, series.check_time("r00")).outcome is CheckOutcome.BASELINE
    second = check(db, finnish, series.check_time("r01"))

    assert second.events == ()
    assert second.outcome is CheckOutcome.UNCHANGED


def test_a_relative_time_crossing_a_boundary_is_no_update() -> None:
    """ "25 days ago" one day and "a month ago" the next: the same update."""
    day1 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    day2 = day1 + timedelta(days=1)
    before = parse_relative("25 days ago", day1)
    after = parse_relative("a month ago", day2)
    assert before is not None
    assert after is not None

    old, new = _updated_between(before), _updated_between(after)

    assert diff_action(old, new) == []
    # Two months later the intervals cannot both hold: that is an update.
    moved = parse_relative("2 days ago", day1 + timedelta(days=60))
    assert moved is not None
    [change] = diff_action(old, _updated_between(moved))
    assert change.kind is EventKind.UPDATED


def _updated_between(found: TimeRange) -> ActionState:
    assert found.earliest is not None
    assert found.latest is not None
    return ActionState(
        id="1",
        updated_earliest=found.earliest.isoformat(),
        updated_latest=found.latest.isoformat(),
    )


def test_the_markup_alone_tells_the_same_story(db: Database) -> None:
    """r02 -> r03 -> r04 from organization tables without their embedded data.

    r03's structural edits are seen as what they are; r04 is clock only: "N days ago"
    become "a month ago" and no update may fire; the actions gone since r03 are
    removed now that a second check confirms it.
    """
    first = _markup_only("r02")
    assert all(o.page and o.page.layer and o.page.layer.value == "html" for o in first)
    assert any(o.page and o.page.actions for o in first)

    check(db, first, series.check_time("r02"))
    r03 = check(db, _markup_only("r03"), series.check_time("r03"))
    r04 = check(db, _markup_only("r04"), series.check_time("r04"))

    assert series.found_keys(r03.events) == Counter(
        {
            ("merged", "14"): 1,
            ("identifier_changed", "15"): 1,
            ("organization_renamed", "5"): 1,
            ("action_count_changed", "1"): 1,
            ("action_count_changed", "3"): 1,
            ("action_count_changed", "6"): 1,
        }
    )
    # Actions 17 and 18 passed 180 days, but these tables show no status: a
    # finished action cannot be told from a forgotten one, so neither is judged.
    assert series.found_keys(r04.events) == Counter(
        {("action_removed", "12"): 1, ("action_removed", "13"): 1}
    )


_EMBEDDED = re.compile(
    rb"<script>(self\.__next_f\.push|\(window\[Symbol\.for).*?</script>", re.S
)


def _markup_only(name: str) -> list[PageObservation]:
    """A round's organization pages as a UI build whose embedded data planwatch
    cannot read would serve them: the markup alone."""
    return [
        observe_saved(
            o.url, _EMBEDDED.sub(b"", series.page_body(name, o.url)), o.fetched_at
        )
        for o in series.observations(name)
        if "/organizations/" in o.url
    ]


# -- flips -----------------------------------------------------------------------------

ITEMS = [Item("1", "on_time"), Item("2", "late")]


def test_a_page_flipping_between_two_states_alerts_once(db: Database) -> None:
    a = ITEMS
    b = with_status(ITEMS, "1", "late")
    seen = []
    for n, items in enumerate([a, b, a, b, a, b, a]):
        seen.append(check(db, [org_page("1", items, T0)], T0 + n * HOUR))

    assert [len(r.events) for r in seen] == [0, 1, 0, 0, 0, 0, 0]
    assert seen[1].events[0].kind is EventKind.STATUS_CHANGED


def test_a_real_revert_is_reported_one_check_later(db: Database) -> None:
    a = ITEMS
    b = with_status(ITEMS, "1", "late")
    seen = [
        check(db, [org_page("1", items, T0)], T0 + n * HOUR)
        for n, items in enumerate([a, b, a, a, a])
    ]

    assert [kinds(r) for r in seen] == [
        [],
        ["status_changed"],
        [],
        ["status_changed"],
        [],
    ]
    revert = seen[3].events[0]
    assert (revert.before, revert.after) == ("late", "on_time")


def test_a_value_coming_back_after_the_flip_window_is_a_change(db: Database) -> None:
    a = ITEMS
    b = with_status(ITEMS, "1", "late")
    day = timedelta(days=1)
    seen = [
        check(db, [org_page("1", items, T0)], T0 + n * day)
        for n, items in enumerate([a, b, a])
    ]
    assert [kinds(r) for r in seen] == [[], ["status_changed"], ["status_changed"]]


# -- removals --------------------------------------------------------------------------


def test_removal_needs_two_normal_checks_in_a_row(db: Database) -> None:
    both, one = ITEMS, ITEMS[:1]
    other = f"{SITE}/en/organizations/9"
    seen = [
        check(db, [org_page("1", both, T0)], T0),
        check(db, [org_page("1", one, T0)], T0 + HOUR),
        # an unreadable page in the check: it neither confirms nor resets
        check(db, [org_page("1", one, T0), unrecognised(other, T0)], T0 + 2 * HOUR),
        check(db, [org_page("1", one, T0), failed(other, T0)], T0 + 3 * HOUR),
        check(db, [org_page("1", one, T0)], T0 + 4 * HOUR),
    ]

    assert "action_removed" not in kinds(seen[1])
    assert "action_removed" not in kinds(seen[2])
    assert "action_removed" not in kinds(seen[3])
    assert kinds(seen[2]) == ["layout_anomaly"]
    assert kinds(seen[3]) == ["source_failing"]
    assert kinds(seen[4]) == ["action_removed", "layout_restored", "source_recovered"]
    [removed] = [e for e in seen[4].events if e.kind is EventKind.ACTION_REMOVED]
    assert removed.action_id == "2"
    assert removed.detail["reason"] == "missing from every page on 2 checks"


def test_an_action_seen_again_after_one_miss_is_not_removed(db: Database) -> None:
    seen = [
        check(db, [org_page("1", items, T0)], T0 + n * HOUR)
        for n, items in enumerate([ITEMS, ITEMS[:1], ITEMS, ITEMS[:1], ITEMS])
    ]
    assert all("action_removed" not in kinds(r) for r in seen)


def test_its_own_page_answering_not_found_removes_at_once(db: Database) -> None:
    check(db, [org_page("1", ITEMS, T0)], T0)
    gone = check(
        db,
        [org_page("1", ITEMS[:1], T0), not_found(f"{SITE}/actions/2", T0)],
        T0 + HOUR,
    )
    assert kinds(gone) == ["action_count_changed", "action_removed"]


def test_its_page_answering_not_found_removes_it_however_its_url_is_written(
    db: Database,
) -> None:
    # Discovery writes an action page's URL percent-encoded (/actions/%C3%842),
    # the parser as the identifier reads (/actions/Ä2): one page either way.
    items = [Item("1", "on_time"), Item("Ä2", "late")]
    check(db, [org_page("1", items, T0)], T0)
    gone = check(
        db,
        [org_page("1", items[:1], T0), not_found(f"{SITE}/actions/%C3%842", T0)],
        T0 + HOUR,
    )
    assert kinds(gone) == ["action_count_changed", "action_removed"]
    [removed] = [e for e in gone.events if e.kind is EventKind.ACTION_REMOVED]
    assert removed.detail["reason"] == "its page answers not found"


def test_a_failing_source_removes_nothing_and_alerts_once(db: Database) -> None:
    url = f"{SITE}/en/organizations/1"
    rules = ChangeRules(failures_before_alert=2)
    seen = [check(db, [org_page("1", ITEMS, T0)], T0, rules)]
    seen += [check(db, [failed(url, T0)], T0 + n * HOUR, rules) for n in (1, 2, 3)]
    seen.append(check(db, [org_page("1", ITEMS, T0)], T0 + 4 * HOUR, rules))

    assert [kinds(r) for r in seen] == [
        [],
        [],
        ["source_failing"],
        [],
        ["source_recovered"],
    ]
    assert seen[1].outcome is CheckOutcome.FAILED


# -- the baseline ----------------------------------------------------------------------


def test_a_first_check_missing_pages_adds_nothing_when_they_come(db: Database) -> None:
    other = f"{SITE}/en/organizations/2"
    partial = check(db, [org_page("1", ITEMS[:1], T0), failed(other, T0)], T0)
    full = check(
        db,
        [org_page("1", ITEMS[:1], T0), org_page("2", ITEMS[1:], T0)],
        T0 + HOUR,
    )
    later = check(
        db,
        [
            org_page("1", with_status(ITEMS[:1], "1", "late"), T0),
            org_page("2", ITEMS[1:], T0),
            org_page("3", [Item("3")], T0),
        ],
        T0 + 2 * HOUR,
    )

    assert partial.outcome is CheckOutcome.FAILED
    assert kinds(partial) == ["source_failing"]
    # Action 2 is new to planwatch, not to the plan: no action_added.
    assert kinds(full) == ["source_recovered"]
    assert kinds(later) == ["action_added", "status_changed"]


def test_one_page_failing_for_good_does_not_silence_the_others(db: Database) -> None:
    broken = f"{SITE}/en/organizations/404"
    seen = [
        check(db, [org_page("1", items, T0), failed(broken, T0)], T0 + n * HOUR)
        for n, items in enumerate([ITEMS, with_status(ITEMS, "2", "on_time")])
    ]
    assert kinds(seen[0]) == ["source_failing"]
    assert kinds(seen[1]) == ["status_changed"]


# -- saved pages -----------------------------------------------------------------------


def test_a_saved_redirect_is_a_failed_fetch_and_not_found_is_parsed() -> None:
    body = b"/sunnydale"
    redirect = observe_saved(f"{SITE}/actions", body, T0, status_code=307)
    assert redirect.failed
    assert redirect.page is None
    assert redirect.fetch_outcome == "redirect_anomaly"

    gone = observe_saved(f"{SITE}/actions/9", b"<html></html>", T0, status_code=404)
    assert gone.not_found
    assert not gone.failed


def test_merging_ignores_the_order_of_pages() -> None:
    pages = [o.page for o in series.observations("r02") if o.page is not None]
    assert merge_pages(pages).actions == merge_pages(pages[::-1]).actions


def test_a_merge_names_the_action_it_went_into_by_its_identifier(
    db: Database,
) -> None:
    # Platform ids are the database's; people know "3.2". The event said
    # "merged with action 101".
    def page(merged: bool, at: datetime) -> PageObservation:
        observation = org_page("1", [Item("101"), Item("102")], at)
        assert observation.page is not None
        first, second = observation.page.actions
        actions = (
            msgspec.structs.replace(first, identifier="3.2"),
            msgspec.structs.replace(
                second, identifier="3.3", merged_with="101" if merged else None
            ),
        )
        return replace(
            observation, page=msgspec.structs.replace(observation.page, actions=actions)
        )

    check(db, [page(False, T0)], T0)
    report = check(db, [page(True, T0 + HOUR)], T0 + HOUR)

    [merged] = [e for e in report.events if e.kind is EventKind.MERGED]
    assert (merged.action_id, merged.after) == ("102", "101")
    assert merged.detail == {"identifier": "3.2"}
    assert "merged with action 3.2" in describe(merged, "en")
