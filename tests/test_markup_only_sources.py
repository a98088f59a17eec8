"""Sources read from markup alone: actions without platform ids are not trusted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.demo import LAB
from monitor.localserve import read_fixture
from monitor.pipeline import CheckOutcome, CheckReport, observe_saved, record_check
from storage.db import Database
from storage.events import EventKind
from tests.fidelity_corpus import strip_embedded

BASE = "http://demo.localhost:3000/en"
T0 = datetime(2026, 12, 3, 16, 10, tzinfo=UTC)


def _page(phase: str, name: str, path: str, at: datetime, *, strip: bool) -> object:
    body = read_fixture(LAB / phase / "html" / f"{name}.en.html")
    return observe_saved(BASE + path, strip_embedded(body) if strip else body, at)


def test_card_list_alone_is_an_anomaly_and_removes_nothing(db: Database) -> None:
    embedded = [_page("before", "action-list", "/actions", T0, strip=False)]
    first = record_check(db, "lab", embedded, observed_at=T0)  # type: ignore[arg-type]

    later = T0 + timedelta(hours=1)
    cards = [_page("before", "action-list", "/actions", later, strip=True)]
    second = record_check(db, "lab", cards, observed_at=later)  # type: ignore[arg-type]
    third = record_check(
        db,
        "lab",
        cards,
        observed_at=later + timedelta(hours=1),  # type: ignore[arg-type]
    )

    assert first.outcome is CheckOutcome.BASELINE
    assert second.outcome is CheckOutcome.ANOMALY
    assert [e.kind for e in second.events] == [EventKind.LAYOUT_ANOMALY]
    assert "without platform ids" in str(second.events[0].detail)
    assert third.outcome is CheckOutcome.ANOMALY
    assert third.events == ()


def test_cards_take_ids_from_an_organization_page_of_the_same_check(
    db: Database,
) -> None:
    def check(phase: str, at: datetime) -> CheckReport:
        pages = [
            _page(phase, "organization-2", "/organizations/2", at, strip=False),
            _page(phase, "action-list", "/actions", at, strip=True),
        ]
        return record_check(db, "lab", pages, observed_at=at)

    first = check("before", T0)
    report = check("after", T0 + timedelta(hours=1))

    on_org_2 = {a.id for a in first_page_actions()}
    kinds = {e.kind for e in report.events}
    assert first.outcome is CheckOutcome.ANOMALY  # cards of other actions: no ids
    assert report.outcome is CheckOutcome.ANOMALY
    assert EventKind.ACTION_ADDED not in kinds
    assert EventKind.ACTION_REMOVED not in kinds
    about = {e.action_id for e in report.events if e.action_id}
    assert about
    assert about <= on_org_2
    # Action 1's task was completed; the card shows it, keyed through org 2's row.
    assert (EventKind.TASKS_CHANGED, "1") in {
        (e.kind, e.action_id) for e in report.events
    }


def first_page_actions() -> tuple[object, ...]:
    from parsers.kausal import parse_page

    body = read_fixture(LAB / "before" / "html" / "organization-2.en.html")
    return parse_page(body, BASE + "/organizations/2").actions  # type: ignore[return-value]
