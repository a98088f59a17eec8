"""A digest listing an action whose id is written with a numeral int() cannot
read (², ①) is sent, and so is everything else.

Found by holding, for a daily digest, a change of an action whose platform id is
"²" (ids are text; the parsers keep such an id): at the digest's moment the
worker sorted the actions of each organization by a natural sort that took
whatever str.isdigit accepts for a number, and int('²') raised ValueError out of
the digest's flush, which every delivery pass runs first, so no digest and no
immediate message to any target was sent while that change waited, each pass
(`notify send`, every minute of `run`) ending in the same traceback.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from notifiers.deliver import deliver_pending
from notifiers.subscriptions import Routing, Schedule, Subscription
from notifiers.targets import Target
from storage.db import Database
from tests.notify_helpers import record, seed, status_change


def test_a_digest_with_a_superscript_action_id_is_sent(db: Database) -> None:
    seed(db)
    routing = Routing(
        {
            "unit": Target("unit", "json://127.0.0.1:9/unit"),
            "press": Target("press", "json://127.0.0.1:9/press"),
        },
        [Subscription("daily", ("unit",), schedule=Schedule(time(8, 0), "UTC"))],
    )
    odd = replace(status_change("10"), action_id="²", action_identifier="²")
    record(db, routing, [status_change("10"), odd, status_change("11")])

    sent: list[tuple[str, str]] = []
    deliveries = deliver_pending(
        db.sessions,
        routing,
        now=datetime(2026, 3, 21, 8, 0, tzinfo=UTC) + timedelta(minutes=1),
        send=lambda target, message: sent.append((target.name, message.body)),
    )

    assert sorted(d.target for d in deliveries) == ["press", "unit"]
    assert all(d.status == "sent" for d in deliveries)
    (digest,) = [body for name, body in sent if name == "unit"]
    assert "²" in digest
