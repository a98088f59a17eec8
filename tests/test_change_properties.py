"""Properties of change detection, on generated states and on the series' real pages.

- a state compared with itself has no changes;
- the order of pages, and of rows on a page, changes nothing;
- seeing any part of the same pages again changes nothing;
- text that differs only in whitespace, no-break spaces, soft hyphens or entities
  is the same text;
- a history recorded again gives the same events in a new source, none in its own.
"""

from __future__ import annotations

import functools
import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.changes import (
    MergedCheck,
    diff_action,
    diff_organization,
    fingerprint,
    hold_flips,
    merge_pages,
)
from monitor.pipeline import CheckOutcome, CheckReport, record_check
from parsers.records import ParsedPage
from parsers.text import clean
from storage.db import Database
from storage.state import ActionState, OrganizationState, TaskState
from tests import change_series as series
from tests.change_pages import Item, org_page

SETTINGS = settings(max_examples=40, deadline=None)
# Merging a round's real pages takes a fraction of a second: fewer examples.
PAGES_SETTINGS = settings(max_examples=8, deadline=None)

ids = st.text("0123456789", min_size=1, max_size=3)
words = st.text("abcÅäö &<\"'-", min_size=1, max_size=12)
names = st.dictionaries(st.sampled_from(["fi", "en", "sv"]), words, max_size=3)
stamps = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
tasks = st.lists(
    st.builds(
        TaskState,
        id=ids,
        state=st.sampled_from(["NOT_STARTED", "IN_PROGRESS", "COMPLETED", None]),
        due_at=st.none() | st.dates().map(str),
        names=names,
    ),
    max_size=4,
).map(tuple)
actions = st.builds(
    ActionState,
    id=ids,
    identifier=st.none() | ids,
    names=names,
    status=st.none() | st.sampled_from(["on_time", "late", "completed"]),
    phase=st.none() | st.sampled_from(["planning", "implementation"]),
    tasks_total=st.none() | st.integers(0, 9),
    tasks_completed=st.none() | st.integers(0, 9),
    tasks=st.none() | tasks,
    completion=st.none() | st.integers(0, 100),
    updated_exact=st.none() | stamps,
    responsible=st.none()
    | st.lists(st.tuples(ids, st.sampled_from(["PRIMARY", None])), max_size=3).map(
        tuple
    ),
    merged_with=st.none() | ids,
)
organizations = st.builds(
    OrganizationState, id=ids, names=names, action_count=st.none() | st.integers(0, 50)
)


@SETTINGS
@given(actions)
def test_an_action_compared_with_itself_has_no_changes(state: ActionState) -> None:
    assert diff_action(state, state) == []
    assert diff_action(state, state.carry_over(state)) == []
    assert fingerprint(state) == fingerprint(ActionState.from_json(state.to_json()))


@SETTINGS
@given(organizations)
def test_an_organization_compared_with_itself_has_no_changes(
    state: OrganizationState,
) -> None:
    assert diff_organization(state, state) == []
    assert diff_organization(state, state.carry_over(state)) == []


@SETTINGS
@given(actions, actions)
def test_a_change_never_held_without_a_memory(
    old: ActionState, new: ActionState
) -> None:
    changes = diff_action(old, replace(new, id=old.id))
    report, held = hold_flips(changes, fingerprint(new), [])
    assert (report, held) == (changes, [])


# -- the series' real pages ------------------------------------------------------------


@functools.cache
def pages(name: str) -> tuple[ParsedPage, ...]:
    return tuple(o.page for o in series.observations(name) if o.usable and o.page)


def shuffled(
    found: tuple[ParsedPage, ...], order: list[int], rng: random.Random
) -> list[ParsedPage]:
    result = []
    for index in order:
        rows = list(found[index].actions)
        rng.shuffle(rows)
        result.append(msgspec.structs.replace(found[index], actions=tuple(rows)))
    return result


def same(a: MergedCheck, b: MergedCheck) -> bool:
    return a.actions == b.actions and a.organizations == b.organizations


@PAGES_SETTINGS
@given(st.permutations(range(len(pages("r02")))), st.randoms(use_true_random=False))
def test_the_order_of_pages_and_rows_changes_nothing(
    order: list[int], rng: random.Random
) -> None:
    canonical = merge_pages(pages("r02"))
    assert same(merge_pages(shuffled(pages("r02"), order, rng)), canonical)


@functools.cache
def canonical_diff(before: str, after: str) -> list[tuple[str, str]]:
    return diff_merged(merge_pages(pages(before)), merge_pages(pages(after)))


def diff_merged(old: MergedCheck, new: MergedCheck) -> list[tuple[str, str]]:
    found = []
    for key, state in sorted(new.actions.items()):
        if key in old.actions:
            previous = old.actions[key]
            changes = diff_action(previous, state.carry_over(previous))
            found += [(key, f"{c.kind}:{c.before}->{c.after}") for c in changes]
    for key, org in sorted(new.organizations.items()):
        if key in old.organizations:
            previous_org = old.organizations[key]
            changes = diff_organization(previous_org, org.carry_over(previous_org))
            found += [(key, f"{c.kind}:{c.before}->{c.after}") for c in changes]
    return found


@PAGES_SETTINGS
@given(
    st.sampled_from([("r01", "r02"), ("r02", "r03"), ("r04", "r07")]),
    st.randoms(use_true_random=False),
)
def test_the_changes_found_do_not_depend_on_order(
    rounds: tuple[str, str], rng: random.Random
) -> None:
    before, after = rounds
    old_order = rng.sample(range(len(pages(before))), len(pages(before)))
    new_order = rng.sample(range(len(pages(after))), len(pages(after)))
    old = merge_pages(shuffled(pages(before), old_order, rng))
    new = merge_pages(shuffled(pages(after), new_order, rng))
    assert diff_merged(old, new) == canonical_diff(before, after)
    assert canonical_diff(before, after), "the rounds differ"


@PAGES_SETTINGS
@given(
    st.sampled_from(["r00", "r02", "r03", "r07"]).flatmap(
        lambda name: st.tuples(
            st.just(name),
            st.sets(st.integers(0, len(pages(name)) - 1), min_size=1),
        )
    )
)
def test_seeing_part_of_the_same_pages_again_changes_nothing(
    chosen: tuple[str, set[int]],
) -> None:
    name, indices = chosen
    everything = merge_pages(pages(name))
    part = merge_pages([pages(name)[i] for i in sorted(indices)])
    assert diff_merged(everything, part) == []


# -- text ------------------------------------------------------------------------------

gaps = st.sampled_from([" ", "  ", "\u00a0", "\n", "\t", "&nbsp;", " &#32;"])
hyphens = st.sampled_from(["\u00ad", "&shy;", "&#173;"])


@SETTINGS
@given(
    st.lists(st.text("abcÅäö&<", min_size=1, max_size=8), min_size=1, max_size=4),
    st.data(),
)
def test_whitespace_soft_hyphens_and_entities_are_not_text(
    words: list[str], data: st.DataObject
) -> None:
    """A name published with other spacing, hyphenation or escaping is the same name."""
    noisy = []
    for word in words:
        cut = data.draw(st.integers(0, len(word)))
        hyphen = data.draw(hyphens)
        noisy.append(_escaped(word[:cut]) + hyphen + _escaped(word[cut:]))
    text = data.draw(gaps)
    for word in noisy:
        text += word + data.draw(gaps)
    assert clean(text) == " ".join(words)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


# -- recording history -------------------------------------------------------------

checks = st.lists(
    st.dictionaries(
        st.sampled_from(["1", "2", "3"]),
        st.sampled_from(["on_time", "late", "completed"]),
        min_size=1,
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=checks)
def test_recording_the_same_history_again_adds_nothing(
    db: Database, history: list[dict[str, str]]
) -> None:
    """Replayed into a new source, a history gives the same events; replayed into
    the same source again, none."""
    tag = uuid.uuid4().hex[:8]
    first = _record(db, f"first-{tag}", history)
    second = _record(db, f"second-{tag}", history)
    again = _record(db, f"first-{tag}", history)

    assert _described(second) == _described(first)
    assert all(report.outcome is CheckOutcome.SKIPPED for report in again)
    assert all(report.events == () for report in again)


def _record(
    db: Database, source: str, history: list[dict[str, str]]
) -> list[CheckReport]:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    reports = []
    for n, statuses in enumerate(history):
        at = start + timedelta(days=n)
        items = [Item(i, status) for i, status in sorted(statuses.items())]
        reports.append(
            record_check(db, source, [org_page("1", items, at)], observed_at=at)
        )
    return reports


def _described(reports: list[CheckReport]) -> list[list[tuple[object, ...]]]:
    return [
        [(e.kind, e.action_id, e.field, e.before, e.after) for e in r.events]
        for r in reports
    ]
