"""A digest heads an organization it knows no name of with a word, not a bare id.

Found trying planwatch as a newcomer: with a config watching one organization's
page and the action list (as README's example does), `notify preview` of a digest
headed the actions of an organization whose page was not watched with its
platform id alone: `<h3>3</h3>` above "5. Energy efficiency of buildings", a
heading that reads like a count or a list number. It now reads "Organization 3",
in the digest's language.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifiers.context import Item
from notifiers.render import render_digest
from notifiers.subscriptions import Facts
from storage.events import Event, EventKind

NOW = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "Organization 3"),
        ("fi", "Organisaatio 3"),
        ("sv", "Organisation 3"),
        ("de", "Organisation 3"),
    ],
)
def test_an_unnamed_organization_is_called_one(language: str, heading: str) -> None:
    event = Event(
        EventKind.STATUS_CHANGED,
        "espoo",
        NOW,
        action_id="5",
        action_identifier="5",
        field="status",
        before="late",
        after="on_time",
    )
    item = Item(
        event=event,
        facts=Facts(kind=event.kind, source="espoo"),
        names={"en": "Energy efficiency of buildings"},
        group="3",
    )
    body = render_digest(
        "lead", [item], since=None, until=NOW, language=language, body_format="html"
    ).body
    assert f"<h3>{heading}</h3>" in body, body
