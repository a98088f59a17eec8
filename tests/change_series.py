"""The series-2024 fixture: one site over 43 days, and what each round should report.

Each page is parsed once per test session (``observations`` is cached): the rounds
hold about 450 pages and parsing dominates the cost of replaying them.

What a round should report comes from the series itself, never from planwatch:
``round.json`` lists the platform changes a monitor must see (``expected_events``);
the platform's own API answers (``truth/plan-actions.en.json``) give what the series
leaves to the monitor's own rules: organizations' action counts, and the deadline
events (staleness crossings, late and due-soon tasks, reminders), worked out here
from the truth with the rules README.md states, in the plainest way.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.pipeline import PageObservation, observe_saved
from tests.conftest import FIXTURES
from tests.truth import org_action_counts

SERIES = FIXTURES / "series-2024"
HOST = "http://demo.localhost:3000"
# The demo plan is Finnish and its pages do not name a time zone: the source's
# config gives it, as a watchdog would.
TIMEZONE = "Europe/Helsinki"
STALE_DAYS = 180  # the plan's STALE timeliness class (README of the series)
DUE_SOON_DAYS = 30
OPEN_TASKS = ("NOT_STARTED", "IN_PROGRESS")

# The series' names for events where planwatch's differ.
EVENT_NAMES = {"fetch_failed": "source_failing"}

# What a round is compared with, as the series' README says: every round after the
# one before, except r05, r05b and r06 (each with r04) and r07 (with r06). The
# outages need no history before r04 (their baseline) to be judged.
MAIN = ("r00", "r01", "r02", "r03", "r04", "r06", "r07")
BRANCHES = {"main": MAIN, "outage": ("r04", "r05"), "outage-502": ("r04", "r05b")}
# Not in the README's table: the rounds simply following each other in time (the
# outage lasts two checks, then the layout change).
TIMELINE = ("r04", "r05", "r05b", "r06", "r07")

Key = tuple[str, str]  # (event kind, the action's or organization's id; "" if none)


@dataclass(frozen=True, slots=True)
class Expected:
    series: Counter[Key]  # from round.json
    counts: Counter[Key]  # organizations' action counts, from the truth
    deadlines: Counter[Key]  # staleness and task deadlines, from the truth

    @property
    def all(self) -> Counter[Key]:
        # round.json lists the stale crossings the oracle finds too (r04): once.
        return self.series | (self.counts + self.deadlines)


@functools.cache
def round_meta(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SERIES / name / "round.json").read_text())
    return data


@functools.cache
def _pages(name: str) -> tuple[dict[str, Any], ...]:
    data = json.loads((SERIES / name / "pages.json").read_text())
    return tuple(data["pages"])


@functools.cache
def observations(name: str) -> tuple[PageObservation, ...]:
    """Every page of a round as the pipeline would have seen it, parsed once."""
    found = []
    for page in _pages(name):
        stem = f"{page['page']}.{page['lang']}"
        html = SERIES / name / "html" / f"{stem}.html.gz"
        body = gzip.decompress(html.read_bytes())
        seen = _page_time(name, page, stem)
        found.append(observe_saved(HOST + page["path"], body, seen, page["status"]))
    return tuple(found)


def page_body(name: str, url: str) -> bytes:
    """The saved bytes of one page of a round."""
    for page in _pages(name):
        if HOST + page["path"] == url:
            stem = f"{page['page']}.{page['lang']}"
            html = SERIES / name / "html" / f"{stem}.html.gz"
            return gzip.decompress(html.read_bytes())
    raise KeyError(f"{name}: no page {url}")


def _page_time(name: str, page: dict[str, Any], stem: str) -> datetime:
    if page["ui_now"]:
        return datetime.fromisoformat(page["ui_now"].replace("Z", "+00:00"))
    # No render time when the UI could not reach the backend: the response's Date.
    headers = (SERIES / name / "headers" / f"{stem}.txt").read_text()
    for line in headers.splitlines():
        if line.lower().startswith("date:"):
            return parsedate_to_datetime(line.split(":", 1)[1].strip()).astimezone(UTC)
    raise AssertionError(f"{name}/{stem}: no render time and no Date header")


def check_time(name: str) -> datetime:
    return min(o.fetched_at for o in observations(name))


@functools.cache
def truth(name: str) -> dict[str, dict[str, Any]] | None:
    data = json.loads((SERIES / name / "truth" / "plan-actions.en.json").read_text())
    if "data" not in data:  # {"fetch_error": ...}: the backend was down
        return None
    return {a["id"]: a for a in data["data"]["plan"]["actions"]}


# -- what each round should report -----------------------------------------------------


def expected(branch: Sequence[str]) -> dict[str, Expected]:
    """What each round of a branch should report, keyed by round."""
    deadlines = _deadline_oracle(branch)
    result: dict[str, Expected] = {}
    last_truth: str | None = None
    for name in branch:
        counts: Counter[Key] = Counter()
        if last_truth is not None and truth(name) is not None:
            counts = _count_changes(last_truth, name)
        # The first check of a source is its baseline: it reports nothing.
        listed = _series_events(name) if name != branch[0] else Counter()
        # An update that brings an action back under the stale line is reported
        # once: by its own event when the round has one (README: one edit, one event).
        edited = {action for _, action in listed}
        for key in [k for k in deadlines[name] if k[0] == "no_longer_stale"]:
            if key[1] in edited:
                del deadlines[name][key]
        result[name] = Expected(listed, counts, deadlines[name])
        if truth(name) is not None:
            last_truth = name
    return result


def _series_events(name: str) -> Counter[Key]:
    found: Counter[Key] = Counter()
    for event in round_meta(name)["expected_events"]:
        kind = EVENT_NAMES.get(event["event"], event["event"])
        if kind == "none":
            continue
        subject = event.get("action_pk", event.get("organization_pk", ""))
        found[(kind, str(subject))] += 1
    return found


def _count_changes(before: str, after: str) -> Counter[Key]:
    old, new = truth(before), truth(after)
    assert old is not None
    assert new is not None
    old_counts, new_counts = org_action_counts(old), org_action_counts(new)
    return Counter(
        ("action_count_changed", org)
        for org in old_counts.keys() | new_counts.keys()
        if old_counts.get(org, 0) != new_counts.get(org, 0)
    )


def _cadence_index(elapsed: timedelta) -> int:
    """Alert points passed: days 0, 7, 37, 67, ... (README: 7, then every 30)."""
    days = elapsed / timedelta(days=1)
    offsets = [0, 7, *range(37, 4000, 30)]
    return max(i for i, offset in enumerate(offsets) if offset <= days)


def _deadline_oracle(branch: Sequence[str]) -> dict[str, Counter[Key]]:
    zone = ZoneInfo(TIMEZONE)
    ledger: dict[str, int] = {}
    result: dict[str, Counter[Key]] = {}
    baseline = True
    for name in branch:
        result[name] = Counter()
        actions = truth(name)
        if actions is None:  # the backend was down: nothing is judged
            continue
        now = check_time(name)
        holding = dict(_conditions(actions, now, now.astimezone(zone).date(), zone))
        for subject, (kind, action_id, started) in sorted(holding.items()):
            index = _cadence_index(now - started)
            first = subject not in ledger and not baseline
            reminder = subject in ledger and index > ledger[subject]
            if first or reminder:
                result[name][(kind, action_id)] += 1
            ledger[subject] = index
        for subject in [s for s in ledger if s not in holding]:
            action_id = subject.split(":")[1]
            action = actions.get(action_id)
            if subject.startswith("stale:") and action and _active(action):
                result[name][("no_longer_stale", action_id)] += 1
            del ledger[subject]
        baseline = False
    return result


def _active(action: dict[str, Any]) -> bool:
    """The platform's own rule: not merged, and a status that is not completed."""
    return not action["mergedWith"] and not action["status"]["isCompleted"]


def _conditions(
    actions: dict[str, dict[str, Any]], now: datetime, today: date, zone: ZoneInfo
) -> Iterable[tuple[str, tuple[str, str, datetime]]]:
    for action_id, action in actions.items():
        if not _active(action):
            continue
        updated = datetime.fromisoformat(action["updatedAt"])
        if now - updated > timedelta(days=STALE_DAYS):
            started = updated + timedelta(days=STALE_DAYS)
            yield f"stale:{action_id}", ("became_stale", action_id, started)
        for task in action["tasks"]:
            if task["state"] not in OPEN_TASKS:
                continue
            due = date.fromisoformat(task["dueAt"])
            subject = f"{action_id}:{task['id']}"
            if due < today:
                started = datetime.combine(due + timedelta(days=1), time(), zone)
                yield f"late:{subject}", ("task_late", action_id, started)
            elif (due - today).days <= DUE_SOON_DAYS:
                started = datetime.combine(due - timedelta(DUE_SOON_DAYS), time(), zone)
                yield f"due_soon:{subject}", ("task_due_soon", action_id, started)


def found_keys(events: Iterable[Any]) -> Counter[Key]:
    return Counter(
        (e.kind.value, e.action_id or e.organization_id or "") for e in events
    )
