"""A staging URL takes only the messages of the targets its config names.

Found with PLANWATCH_FORCE_TO set in a staging shell that shared the service's
database: a `planwatch check URL --db planwatch.sqlite` there (no config, so no
targets) sent the unit lead's pending alert, queued by `planwatch run`, to the
staging URL and marked it sent, so the unit lead never got it; a staging config
with other targets did the same to every message of the real one. A pass leaves
another config's messages waiting (310123f), but a forced URL counted as a target
for any name. Now a forced pass sends only the messages of its own targets to
the staging URL, and the others wait, attempts untouched.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from notifiers.deliver import Outgoing, deliver_pending
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from storage.db import Database
from storage.models import Notification
from tests.notify_helpers import T0, record, seed, status_change

LEAD = Target("unit-lead", "json://127.0.0.1:9/lead")
CHAT = Target("chat", "json://127.0.0.1:9/chat")
STAGING = "json://127.0.0.1:9/staging"


def test_a_forced_pass_leaves_other_configs_messages(db: Database) -> None:
    seed(db)
    record(db, Routing({"unit-lead": LEAD}), [status_change("10")])
    record(
        db,
        Routing({"chat": CHAT}),
        [status_change("11")],
        now=T0 + timedelta(minutes=1),
    )
    sent: list[tuple[str, str]] = []

    def send(target: Target, message: Outgoing) -> None:
        sent.append((target.name, target.url))

    later = T0 + timedelta(minutes=5)
    nothing = deliver_pending(
        db.sessions, Routing({}, force_to=STAGING), now=later, send=send
    )
    assert nothing == []
    staged = deliver_pending(
        db.sessions, Routing({"chat": CHAT}, force_to=STAGING), now=later, send=send
    )
    assert [(d.target, d.status) for d in staged] == [("chat", "sent")]
    assert sent == [("chat", STAGING)]

    with db.sessions() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(r.target, r.status, r.attempts) for r in rows] == [
        ("unit-lead", "pending", 0),
        ("chat", "sent", 1),
    ]
