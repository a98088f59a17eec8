"""Discovery names the pages it could not read without their credentials.

Found running `planwatch discover http://watch:PASSWORD@127.0.0.1:PORT/en` against
a site (behind basic auth) without a sitemap: it printed "could not read:
http://watch:PASSWORD@127.0.0.1:PORT/sitemap.xml: ...", password and all; the same
text goes to the log of every `check` and `run` of a `site = "..."` source
("discovered ..." and "discovery found nothing at ..."). The fetcher masks
credentials in every URL it logs; discovery's problems and its log line now do
too.
"""

from __future__ import annotations

import logging

import pytest

from monitor.discover import discover_site
from monitor.fetch import FetchPolicy
from monitor.localserve import SiteState, serve_site
from monitor.workers import FetchLoop
from tests.cli_helpers import run_cli

SECRET = "s3cret-pw"
POLICY = FetchPolicy(min_delay_per_host=0, jitter=0, retries=0)


def test_problems_and_log_lines_carry_no_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.discover")
    with serve_site(SiteState()) as base, FetchLoop(POLICY) as loop:
        site = base.replace("http://", f"http://watch:{SECRET}@") + "/en"
        found = loop.run(discover_site(loop.fetcher, site))

    assert found.problems  # no sitemap, no action list
    assert all("127.0.0.1" in problem for problem in found.problems)
    assert SECRET not in " ".join(found.problems)
    assert SECRET not in found.describe()
    assert SECRET not in caplog.text


def test_the_discover_command_prints_no_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_site(SiteState()) as base:
        site = base.replace("http://", f"http://watch:{SECRET}@") + "/en"
        code, out, err = run_cli(monkeypatch, capsys, "discover", site)

    assert code == 1
    assert "could not read" in out
    assert SECRET not in out + err
