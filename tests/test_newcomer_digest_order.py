"""A digest lists a unit's actions as the plan does: by identifier.

Found reading a digest of a plan whose identifiers are not its platform ids
(most live plans: "3.2" is action 412): the actions came in platform-id order,
which no reader can see, so "3.10" came before "3.2" or after "10" at random
as far as the reader could tell. They now follow the identifiers, numbers read
as numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from notifiers.context import Item
from notifiers.render import render_digest
from notifiers.subscriptions import Facts
from storage.events import Event, EventKind

NOW = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def _item(platform_id: str, identifier: str) -> Item:
    event = Event(
        EventKind.STATUS_CHANGED,
        "espoo",
        NOW,
        action_id=platform_id,
        action_identifier=identifier,
        field="status",
        before="late",
        after="on_time",
    )
    return Item(
        event=event,
        facts=Facts(kind=event.kind, source="espoo"),
        names={"en": f"Action {identifier}"},
        group="3",
        group_names={"en": "Transport Unit"},
    )


def test_actions_follow_their_identifiers() -> None:
    items = [
        _item("401", "10"),
        _item("402", "3.10"),
        _item("403", "3.2"),
        _item("404", "²"),
        _item("405", "A1"),
    ]
    body = render_digest("lead", items, since=None, until=NOW).body
    shown = [body.index(f"Action {i}") for i in ("3.2", "3.10", "10", "A1", "²")]
    assert shown == sorted(shown), body
