"""Subscriptions: who gets which change, once, in their language; the outbox."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from notifiers.outbox import idempotency_key, queue_check
from notifiers.subscriptions import Filters, Routing, Schedule, Subscription
from notifiers.targets import Target
from storage import repo
from storage.db import Database
from storage.events import EventKind
from storage.models import DigestEntry, EventRow, Notification
from tests.notify_helpers import (
    PAGES,
    SITE,
    T0,
    _check,
    record,
    seed,
    site_event,
    status_change,
)


def _targets(*names: str) -> dict[str, Target]:
    return {n: Target(n, f"json://127.0.0.1:9/{n}") for n in names}


def _rows(db: Database) -> list[Notification]:
    with db.sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def _events_in(db: Database, row: Notification) -> set[str]:
    ids = (row.events or {}).get("ids", [])
    with db.sessions() as session:
        found = session.scalars(select(EventRow).where(EventRow.id.in_(ids)))
        return {e.action_platform_id or e.kind for e in found}


def test_targets_without_subscriptions_get_one_message_per_check_listing_all(
    db: Database,
) -> None:
    seed(db)
    routing = Routing(_targets("watchdog", "press"))
    events = [status_change("10"), status_change("11"), status_change("12")]

    queued = record(db, routing, events)

    rows = _rows(db)
    assert queued == 2
    assert sorted(r.target for r in rows) == ["press", "watchdog"]
    for row in rows:
        assert _events_in(db, row) == {"10", "11", "12"}
        for name in ("Bike lanes", "Heat pumps", "Trams"):
            assert name in row.body


UNITS = {
    "1": {"10", "11", "12"},  # the city: everything under it
    "3": {"10", "12"},  # urban division: transport and cycling under it
    "4": {"10", "12"},  # transport unit: its own and the cycling office's
    "5": {"10"},  # the cycling office alone
    "2": {"11", "12"},  # environment: heat pumps, and trams as collaborator
}


def test_an_organization_subscription_covers_its_sub_units(db: Database) -> None:
    seed(db)
    subs = [
        Subscription(
            f"unit-{unit}",
            (f"lead-{unit}",),
            filters=Filters(organizations=frozenset({unit})),
        )
        for unit in UNITS
    ]
    routing = Routing(_targets(*(f"lead-{u}" for u in UNITS)), subs)

    record(db, routing, [status_change("10"), status_change("11"), status_change("12")])

    found = {row.subscription: _events_in(db, row) for row in _rows(db)}
    assert found == {f"unit-{unit}": expected for unit, expected in UNITS.items()}


EVERYTHING = {"10", "11", "source_failing"}
FILTERS = [
    (Filters(), EVERYTHING),
    (Filters(kinds=frozenset({EventKind.SOURCE_FAILING})), {"source_failing"}),
    (Filters(actions=frozenset({"11"})), {"11"}),
    (Filters(action_identifiers=frozenset({"1.1"})), {"10"}),
    (Filters(sources=frozenset({"city"})), EVERYTHING),
    (Filters(sources=frozenset({"elsewhere"})), set()),
    (Filters(sites=frozenset({"watch.example.org"})), EVERYTHING),
    (Filters(sites=frozenset({"other.example.org"})), set()),
    (Filters(plans=frozenset({"watch.example.org"})), EVERYTHING),
    (Filters(plans=frozenset({"watch.example.org/ilmasto"})), set()),
    (
        Filters(
            organizations=frozenset({"3"}), kinds=frozenset({EventKind.STATUS_CHANGED})
        ),
        {"10"},
    ),
    # Site events concern no organization: a unit's subscription skips them.
    (Filters(organizations=frozenset({"1"})), {"10", "11"}),
]


def test_filters(db: Database) -> None:
    seed(db)
    subs = [
        Subscription(f"s{i}", (f"t{i}",), filters=f) for i, (f, _) in enumerate(FILTERS)
    ]
    routing = Routing(_targets(*(f"t{i}" for i in range(len(FILTERS)))), subs)
    events = [
        status_change("10"),
        status_change("11"),
        site_event(EventKind.SOURCE_FAILING),
    ]

    record(db, routing, events)

    found = {row.subscription: _events_in(db, row) for row in _rows(db)}
    expected = {f"s{i}": want for i, (_, want) in enumerate(FILTERS) if want}
    assert found == expected


def test_a_plan_with_a_base_path_matches_with_and_without_a_locale_prefix() -> None:
    plans = Filters(plans=frozenset({"kestavyysvahti.example.fi/ilmasto"}))
    from notifiers.subscriptions import Facts

    def facts(url: str) -> Facts:
        return Facts(kind=EventKind.UPDATED, source="s", urls=(url,))

    assert plans.matches(facts("https://kestavyysvahti.example.fi/ilmasto/actions/1"))
    assert plans.matches(
        facts("https://kestavyysvahti.example.fi/en/ilmasto/actions/1")
    )
    assert not plans.matches(
        facts("https://kestavyysvahti.example.fi/kierto/actions/1")
    )
    assert not plans.matches(facts("https://other.example.fi/ilmasto/actions/1"))


def test_one_target_never_gets_the_same_change_twice_in_a_check(db: Database) -> None:
    seed(db)
    unit = Subscription(
        "unit", ("lead",), filters=Filters(organizations=frozenset({"4"}))
    )
    late = Subscription(
        "late", ("lead",), filters=Filters(kinds=frozenset({EventKind.STATUS_CHANGED}))
    )
    routing = Routing(_targets("lead"), [unit, late])

    record(db, routing, [status_change("10"), status_change("11"), status_change("12")])

    rows = _rows(db)
    assert [(r.subscription, _events_in(db, r)) for r in rows] == [
        ("unit", {"10", "12"}),
        ("late", {"11"}),
    ]


def test_each_subscription_speaks_its_language(db: Database) -> None:
    seed(db)
    subs = [
        Subscription("fi", ("a",), language="fi"),
        Subscription("de", ("b",), language="de"),
        Subscription("sv", ("c",), language="sv"),
        Subscription("en", ("d",), language="en"),
    ]
    routing = Routing(_targets("a", "b", "c", "d"), subs)

    record(db, routing, [status_change("10")])

    bodies = {r.subscription: r.body for r in _rows(db)}
    assert "tila: Aikataulussa → Myöhässä" in bodies["fi"]
    assert "Bike lanes (fi)" in bodies["fi"]  # the action's Finnish name
    assert "Status: On Time → Late" in bodies["de"]
    assert "Eine Prüfung von city" in bodies["de"]
    assert "En kontroll av city" in bodies["sv"]
    assert "1.1. Bike lanes — status: On Time → Late" in bodies["en"]


def test_a_message_is_written_in_the_events_transaction_or_not_at_all(
    db: Database,
) -> None:
    seed(db)
    routing = Routing(_targets("t"))
    events = [status_change("10")]

    def check_that_fails_after_queueing() -> None:
        with db.sessions.begin() as session:
            source = repo.source(session, "city", T0)
            check = _check(session, source, T0)
            rows = repo.add_events(session, source, check, events)
            ids = [r.id for r in rows]
            assert queue_check(session, source, check, events, ids, routing, PAGES)
            raise RuntimeError("the check fails after queueing")

    with pytest.raises(RuntimeError, match="fails after queueing"):
        check_that_fails_after_queueing()

    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == 0
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_the_pipeline_writes_events_and_messages_together(db: Database) -> None:
    from datetime import UTC, datetime

    from monitor import pipeline

    failed = pipeline.PageObservation(
        url=f"{SITE}/en/actions",
        fetched_at=datetime(2026, 3, 20, tzinfo=UTC),
        fetch_outcome="failed",
        status_code=None,
        body=None,
        error="connection refused",
    )
    routing = Routing(_targets("ops"))

    report = pipeline.record_check(db, "city", [failed], targets=routing)

    assert [e.kind for e in report.events] == [EventKind.SOURCE_FAILING]
    assert report.notifications == 1
    (row,) = _rows(db)
    assert row.check_id == report.check_id
    assert "connection refused" in row.body


def test_queueing_the_same_check_twice_adds_nothing(db: Database) -> None:
    seed(db)
    routing = Routing(_targets("t"))
    events = [status_change("10")]
    with db.sessions.begin() as session:
        source = repo.source(session, "city", T0)
        check = _check(session, source, T0)
        ids = [r.id for r in repo.add_events(session, source, check, events)]
        first = queue_check(session, source, check, events, ids, routing, PAGES)
        second = queue_check(session, source, check, events, ids, routing, PAGES)

    assert (first, second) == (1, 0)
    (row,) = _rows(db)
    assert row.idempotency_key == idempotency_key("target:t", "t", f"check:{check.id}")


def test_digest_subscriptions_hold_events_instead_of_sending(db: Database) -> None:
    seed(db)
    digest = Subscription(
        "daily", ("t",), schedule=Schedule(time(8), "Europe/Helsinki")
    )
    routing = Routing(_targets("t"), [digest])

    queued = record(db, routing, [status_change("10"), status_change("11")])

    assert queued == 0
    with db.sessions() as session:
        entries = session.scalars(select(DigestEntry)).all()
    assert [(e.subscription, e.period) for e in entries] == [
        ("daily", None),
        ("daily", None),
    ]


def test_long_names_still_make_unique_keys() -> None:
    a = idempotency_key("s" * 150, "t" * 150, "check:1")
    b = idempotency_key("s" * 150, "t" * 150, "check:2")
    assert max(len(a), len(b)) <= 200
    assert a != b
