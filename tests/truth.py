"""The platform's own API answers, read the way the tests compare them.

Expected values come from these files (captured from the real backend at the same
moment as the pages), never from planwatch's parser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def plan_actions(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {a["id"]: a for a in data["data"]["plan"]["actions"]}


def task_counts(action: dict[str, Any]) -> tuple[int, int]:
    """(total, completed) as the platform's task bar counts them: no cancelled."""
    counted = [t for t in action["tasks"] if t["state"] != "CANCELLED"]
    completed = sum(1 for t in counted if t["state"] == "COMPLETED")
    return len(counted), completed


def responsible_orgs(action: dict[str, Any]) -> set[str]:
    return {p["organization"]["id"] for p in action["responsibleParties"]}


def org_action_counts(actions: dict[str, dict[str, Any]]) -> dict[str, int]:
    """How many actions each organization is directly responsible for."""
    counts: dict[str, int] = {}
    for action in actions.values():
        for org in responsible_orgs(action):
            counts[org] = counts.get(org, 0) + 1
    return counts


def expected_events(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> set[tuple[str, str]]:
    """(kind, action or organization id) for every visible difference."""
    events: set[tuple[str, str]] = set()
    for action_id in after.keys() - before.keys():
        events.add(("action_added", action_id))
    for action_id in before.keys() - after.keys():
        events.add(("action_removed", action_id))
    for action_id in before.keys() & after.keys():
        old, new = before[action_id], after[action_id]
        found = set()
        if old["status"]["identifier"] != new["status"]["identifier"]:
            found.add("status_changed")
        old_phase = (old["implementationPhase"] or {}).get("identifier")
        new_phase = (new["implementationPhase"] or {}).get("identifier")
        if old_phase != new_phase:
            found.add("phase_changed")
        old_tasks = {(t["id"], t["state"]) for t in old["tasks"]}
        new_tasks = {(t["id"], t["state"]) for t in new["tasks"]}
        if old_tasks != new_tasks:
            found.add("tasks_changed")
        if responsible_orgs(old) != responsible_orgs(new):
            found.add("responsible_parties_changed")
        if old["completion"] != new["completion"]:
            found.add("completion_changed")
        if old["name"] != new["name"]:
            found.add("renamed")
        if old["identifier"] != new["identifier"]:
            found.add("identifier_changed")
        if not found and old["updatedAt"] != new["updatedAt"]:
            found.add("updated")
        events |= {(kind, action_id) for kind in found}
    old_counts, new_counts = org_action_counts(before), org_action_counts(after)
    for org in old_counts.keys() | new_counts.keys():
        if old_counts.get(org, 0) != new_counts.get(org, 0):
            events.add(("action_count_changed", org))
    return events
