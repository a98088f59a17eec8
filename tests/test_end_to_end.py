"""The demo's path end to end: loopback site, real pipeline, real receiver."""

from __future__ import annotations

import asyncio
from pathlib import Path

from monitor.demo import LAB, lab_pages, run_demo
from monitor.fetch import Fetcher, FetchPolicy
from monitor.localserve import ReceiverState, SiteState, receiver, serve_site
from monitor.pipeline import (
    CheckOutcome,
    CheckReport,
    PageObservation,
    fetch_pages,
    record_check,
)
from notifiers.deliver import deliver_pending
from notifiers.targets import Target
from storage.db import Database
from tests.truth import expected_events, plan_actions


def _expected() -> set[tuple[str, str]]:
    before = plan_actions(LAB / "before" / "truth" / "plan-actions.en.json")
    after = plan_actions(LAB / "after" / "truth" / "plan-actions.en.json")
    return expected_events(before, after)


def _about(kind: str, action_id: str | None, org_id: str | None) -> tuple[str, str]:
    return kind, (action_id or org_id or "")


def test_demo_reports_exactly_the_real_changes(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo.sqlite")

    assert result.baseline.outcome is CheckOutcome.BASELINE
    assert result.baseline.events == ()
    assert result.after.outcome is CheckOutcome.CHANGED
    found = {
        _about(e.kind.value, e.action_id, e.organization_id)
        for e in result.after.events
    }
    assert found == _expected()
    assert len(found) == len(result.after.events), "one change, one event"
    untouched = {"2", "4", "6"}
    assert not [e for e in result.after.events if e.action_id in untouched]

    assert [d.status for d in result.deliveries] == ["sent"]
    assert len(result.received) == 1
    message = str(result.received[0]["message"])
    for event in result.after.events:
        if event.url:
            assert event.url in message
    assert (tmp_path / "demo.sqlite").exists()


def _check(db: Database, urls: list[str], targets: dict[str, Target]) -> CheckReport:
    policy = FetchPolicy(contact="tests@127.0.0.1", min_delay_per_host=0, jitter=0)

    async def fetch() -> list[PageObservation]:
        async with Fetcher(policy) as fetcher:
            return await fetch_pages(fetcher, urls)

    return record_check(db, "lab", asyncio.run(fetch()), targets=targets)


def test_second_check_of_unchanged_pages_sends_nothing(db: Database) -> None:
    site = SiteState(pages=lab_pages("before"))
    inbox = ReceiverState()
    with serve_site(site) as base, receiver(inbox) as receiver_url:
        urls = [base + path for path in site.pages]
        target = Target("receiver", receiver_url.replace("http", "json", 1))
        targets = {target.name: target}

        _check(db, urls, targets)
        second = _check(db, urls, targets)
        site.replace(lab_pages("after"))
        third = _check(db, urls, targets)
        fourth = _check(db, urls, targets)
        deliveries = deliver_pending(db.sessions, targets)
        received = inbox.wait_for(1, 5.0)

    assert second.outcome is CheckOutcome.UNCHANGED
    assert third.outcome is CheckOutcome.CHANGED
    assert fourth.outcome is CheckOutcome.UNCHANGED
    assert [d.status for d in deliveries] == ["sent"]
    assert len(received) == 1
    assert deliver_pending(db.sessions, targets) == []
