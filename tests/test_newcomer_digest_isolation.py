"""A digest that cannot be built holds back only itself.

Every delivery pass queues the digests that are due before it sends the outbox.
A digest whose changes could not be rendered (the '²' id of 7d82503 was one such
bug; any other would do the same) raised out of that step, so no other digest and
no immediate message to any target went out while its changes waited. Now the
failure is logged with its traceback, that digest's changes stay waiting for the
next pass, and everything else is sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from notifiers import outbox
from notifiers.deliver import deliver_pending
from notifiers.subscriptions import Routing, Schedule, Subscription
from notifiers.targets import Target
from storage.db import Database
from storage.models import DigestEntry
from tests.notify_helpers import record, seed, status_change

DUE = datetime(2026, 3, 21, 8, 0, tzinfo=UTC) + timedelta(minutes=1)


def test_one_broken_digest_does_not_stop_the_others(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seed(db)
    routing = Routing(
        {
            "unit": Target("unit", "json://127.0.0.1:9/unit"),
            "board": Target("board", "json://127.0.0.1:9/board"),
            "press": Target("press", "json://127.0.0.1:9/press"),
        },
        [
            Subscription("broken", ("unit",), schedule=Schedule(time(8, 0), "UTC")),
            Subscription("fine", ("board",), schedule=Schedule(time(8, 0), "UTC")),
        ],
    )
    record(db, routing, [status_change("10")])
    render = outbox.render_digest

    def fails_for_broken(name: str, *args: object, **kwargs: object) -> object:
        if name == "broken":
            raise ValueError("a bug on this digest's changes")
        return render(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "render_digest", fails_for_broken)
    sent: list[str] = []
    with caplog.at_level(logging.ERROR, logger="notifiers.outbox"):
        deliveries = deliver_pending(
            db.sessions,
            routing,
            now=DUE,
            send=lambda target, message: sent.append(target.name),
        )

    assert sorted(sent) == ["board", "press"]
    assert all(d.status == "sent" for d in deliveries)
    assert "digest broken: not queued" in caplog.text
    assert "a bug on this digest's changes" in caplog.text
    with db.reader() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(DigestEntry)
            .where(DigestEntry.subscription == "broken", DigestEntry.period.is_(None))
        )
    assert waiting == 1

    monkeypatch.setattr(outbox, "render_digest", render)  # the bug fixed
    later = deliver_pending(
        db.sessions,
        routing,
        now=DUE + timedelta(minutes=1),
        send=lambda target, message: sent.append(target.name),
    )
    assert [d.target for d in later] == ["unit"]
