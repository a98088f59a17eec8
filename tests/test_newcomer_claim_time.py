"""A message is claimed at the moment its send begins, not when the pass began.

Found by running two delivery workers on one database (as `planwatch run` on two
machines shares PostgreSQL, or a `notify send` beside a `run`) with a target whose
sends take a while: a pass stamped every message it claimed with the time the pass
started, so the third message of a target, claimed two sends into the pass, looked
as old as the pass to the other worker. Once the pass was older than
claim_timeout_seconds, the other worker took the message over while the first was
still sending it, and the target got it twice (counted as a possible duplicate),
with neither worker dead. A pass after a long one also put a failed send's retry
at the pass's start plus the backoff, which could already be past.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from notifiers.deliver import Outgoing, Sender, deliver_pending
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from storage.db import Database
from storage.models import Notification
from tests.notify_helpers import T0, record, seed, status_change

SEND_SECONDS = 1.0


def test_a_message_sent_late_in_a_pass_is_not_taken_over(db: Database) -> None:
    seed(db)
    routing = Routing({"t": Target("t", "json://127.0.0.1:9/")}).with_policy(
        claim_timeout=timedelta(seconds=1.5)
    )
    for minutes in range(3):
        when = T0 + timedelta(minutes=minutes)
        record(db, routing, [status_change("10", now=when)], now=when)

    sent: list[tuple[str, str]] = []
    third_begins = threading.Event()

    def sender(worker: str) -> Sender:
        def send(target: Target, message: Outgoing) -> None:
            sent.append((worker, message.key))
            if worker == "a" and len(sent) == 3:
                third_begins.set()
            time.sleep(SEND_SECONDS)

        return send

    first = threading.Thread(
        target=deliver_pending,
        args=(db.sessions, routing),
        kwargs={"send": sender("a"), "worker": "a.example:1"},
    )
    first.start()
    assert third_begins.wait(30)
    time.sleep(SEND_SECONDS / 2)  # the pass is 2.5 s old, the third claim 0.5 s
    deliver_pending(db.sessions, routing, send=sender("b"), worker="b.example:2")
    first.join(30)

    assert [worker for worker, _ in sent] == ["a", "a", "a"]
    assert len({key for _, key in sent}) == 3
    with db.sessions() as session:
        rows = session.scalars(select(Notification)).all()
    assert [(r.status, r.possible_duplicates) for r in rows] == [("sent", 0)] * 3
