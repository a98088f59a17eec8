"""`planwatch discover` names each page it could not read once.

Found trying planwatch as a newcomer: "could not read: URL: URL: ConnectError ..."
(the fetcher's error already starts with the URL).
"""

from __future__ import annotations

import socket

from monitor.discover import discover_site
from monitor.fetch import FetchPolicy
from monitor.workers import FetchLoop

POLICY = FetchPolicy(contact="tests@example.org", min_delay_per_host=0, jitter=0)


def _closed_port() -> int:
    # A port that was just free: nothing listens there, connections are refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_page_that_cannot_be_fetched_is_named_once() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    with FetchLoop(POLICY) as loop:
        found = loop.run(discover_site(loop.fetcher, f"{base}/en"))

    assert len(found.problems) == 2
    for url, problem in zip(
        (f"{base}/sitemap.xml", f"{base}/en/actions"), found.problems, strict=True
    ):
        assert problem.startswith(f"{url}: ")
        assert problem.count(url) == 1
