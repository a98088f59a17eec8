"""`planwatch discover` names each page it could not read once.

Found trying planwatch as a newcomer: "could not read: URL: URL: ConnectError ..."
(the fetcher's error already starts with the URL).
"""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
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


def test_discover_says_when_it_found_nothing_and_exits_1(tmp_path: Path) -> None:
    # It said "1 pages: the action list, 0 actions, 0 organizations" and exited 0
    # when nothing answered: a script could not tell.
    config = tmp_path / "planwatch.toml"
    config.write_text('[planwatch]\ncontact = "t@example.org"\nmin_delay_seconds = 0\n')
    site = f"http://127.0.0.1:{_closed_port()}/en"

    result = CliRunner().invoke(app, ["discover", site, "-c", str(config)])

    assert result.exit_code == 1, result.output
    assert "found nothing but the action list's address" in result.output
    assert "1 pages" not in result.output
    assert f"could not read: {site}/actions: " in " ".join(result.output.split())
