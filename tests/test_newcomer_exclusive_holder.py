"""On PostgreSQL, the message naming an exclusive holder is whole.

Found trying planwatch as a newcomer ("Several machines (PostgreSQL)"): with
`planwatch run --exclusive --db postgresql://...` running, a `planwatch check` on
the same database said "planwatch run (pid 18402 on vm, since
2026-12-04T22:58:58+00 holds the database exclusively": the holder's description
went into the session's application_name, which PostgreSQL keeps to 63 bytes, so
its end was cut off (the time's offset and the closing parenthesis; on a host with
a longer name, the time as well). The session now carries only the command, pid
and host, cut to fit, and the time comes from the session's own start.
"""

from __future__ import annotations

import os
import re
import socket

import pytest

from monitor.locks import DatabaseBusy, acting_on
from storage.db import open_database

ONLY_POSTGRES = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@ONLY_POSTGRES
@pytest.mark.parametrize("host", ["vm", "watch1.planwatch.example.org"])
def test_the_holder_is_named_in_full(
    db_url: str, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: host)
    one, two = open_database(db_url), open_database(db_url)
    try:
        with (
            acting_on(one, "run", exclusive=True),
            pytest.raises(DatabaseBusy) as refused,
            acting_on(two, "check"),
        ):
            pass  # pragma: no cover
    finally:
        one.close()
        two.close()
    message = str(refused.value)
    holder = re.escape(f"planwatch run (pid {os.getpid()} on {host}, since ")
    when = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"
    assert re.match(holder + when + r"\) holds the database exclusively", message), (
        message
    )
