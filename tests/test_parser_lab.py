"""Every lab-2024 page, parsed and compared field by field with the API's answers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from monitor.localserve import read_fixture
from parsers.kausal import parse_page
from parsers.records import Outcome, PageKind
from tests.conftest import FIXTURES
from tests.truth import org_action_counts, plan_actions, responsible_orgs, task_counts

LAB = FIXTURES / "lab-2024"
PAGES = [
    (phase, name, lang)
    for phase in ("before", "after")
    for name in (
        ["action-list"]
        + [f"organization-{i}" for i in range(1, 6)]
        + [f"action-{i}" for i in range(1, 11)]
    )
    for lang in ("fi", "en")
]
AGREEMENT: Counter[str] = Counter()
COMPARED: Counter[str] = Counter()


def _url(name: str, lang: str) -> str:
    prefix = "http://demo.localhost:3000" + ("" if lang == "fi" else f"/{lang}")
    kind, _, ident = name.partition("-")
    if name == "action-list":
        return prefix + "/actions"
    return (
        f"{prefix}/{'organizations' if kind == 'organization' else 'actions'}/{ident}"
    )


def _compare(field: str, got: object, want: object) -> None:
    COMPARED[field] += 1
    AGREEMENT[field] += got == want
    assert got == want, f"{field}: parsed {got!r}, the API says {want!r}"


@pytest.mark.parametrize(("phase", "name", "lang"), PAGES)
def test_page_matches_api(phase: str, name: str, lang: str) -> None:
    body = read_fixture(LAB / phase / "html" / f"{name}.{lang}.html")
    truth = plan_actions(LAB / phase / "truth" / f"plan-actions.{lang}.json")

    page = parse_page(body, _url(name, lang))

    assert page.outcome is Outcome.OK, page.anomalies
    assert page.language == lang
    assert not page.anomalies, page.anomalies
    if name.startswith("organization"):
        org_id = name.split("-")[1]
        assert page.kind is PageKind.ORGANIZATION
        assert page.organization is not None
        _compare("organization.id", page.organization.id, org_id)
        _compare(
            "organization.action_count",
            page.organization.action_count,
            org_action_counts(truth).get(org_id, 0),
        )
        want_ids = {a for a, act in truth.items() if org_id in responsible_orgs(act)}
        _compare("organization.actions", {a.id for a in page.actions}, want_ids)
    elif name == "action-list":
        assert page.kind is PageKind.ACTION_LIST
        _compare("action_list.actions", {a.id for a in page.actions}, set(truth))
    else:
        assert page.kind is PageKind.ACTION
        assert len(page.actions) == 1

    for action in page.actions:
        want = truth[action.id]
        _compare("identifier", action.identifier, want["identifier"])
        _compare("name", action.name, want["name"])
        assert action.status is not None
        _compare(
            "status.identifier", action.status.identifier, want["status"]["identifier"]
        )
        _compare("status.label", action.status.label, want["status"]["name"])
        phase_want = want["implementationPhase"] or {}
        assert action.phase is not None
        _compare(
            "phase.identifier", action.phase.identifier, phase_want.get("identifier")
        )
        _compare("phase.label", action.phase.label, phase_want.get("name"))
        _compare("completion", action.completion, want["completion"])
        assert action.updated_at is not None
        _compare(
            "updated_at",
            action.updated_at.exact,
            datetime.fromisoformat(want["updatedAt"]),
        )
        assert action.tasks is not None
        _compare(
            "tasks", (action.tasks.total, action.tasks.completed), task_counts(want)
        )
        assert action.responsible_parties is not None
        _compare(
            "responsible_parties",
            {p.organization_id for p in action.responsible_parties},
            responsible_orgs(want),
        )
        if name.startswith("action-") and name != "action-list":
            assert action.task_list is not None
            _compare(
                "task names",
                {(t.id, t.name, t.state) for t in action.task_list},
                {(t["id"], t["name"], t["state"]) for t in want["tasks"]},
            )


def test_fidelity_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Print agreement per field over the pages compared above (run after them)."""
    if not COMPARED:
        pytest.skip("run with the page tests to get a report")
    with capsys.disabled():
        print("\nfield agreement with the platform's API (lab-2024):")
        for field in sorted(COMPARED):
            share = AGREEMENT[field] / COMPARED[field]
            print(f"  {field:28} {AGREEMENT[field]:5}/{COMPARED[field]:<5} {share:.1%}")
    assert all(AGREEMENT[f] == COMPARED[f] for f in COMPARED)


def test_fixture_copy_is_complete() -> None:
    missing = [
        f"{phase}/{name}.{lang}"
        for phase, name, lang in PAGES
        if not (LAB / phase / "html" / f"{name}.{lang}.html.gz").exists()
    ]
    assert missing == []
