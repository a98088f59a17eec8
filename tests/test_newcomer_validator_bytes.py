"""A validator the server sent with non-ASCII bytes is not sent back.

Found serving a series-2024 page on 127.0.0.1 with `ETag: "café"` (the é as one
Latin-1 byte, as a hand-rolled cache might send it): the first `planwatch check`
stored it; every later one ended in a UnicodeEncodeError traceback ('ascii'
codec can't encode '\\xe9') building the If-None-Match header, for every source
of the config, and no check could run again to replace the stored ETag. The same
held for a Last-Modified with such a byte. Such a validator now stays unsent
(the page is fetched in full, as from a server that sends none).
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.fetch import Fetcher, FetchOutcome, FetchPolicy, Validators
from tests.cli_helpers import run_cli
from tests.faultserver import FaultServer, Reply, running

PAGE = Path(__file__).parent.parent / "fixtures/kausal-watch/series-2024/r01/html"
HEADERS = {"Content-Type": "text/html; charset=utf-8"}
ODD = [
    {"ETag": '"café"'},
    {"Last-Modified": "Wed, 04 Mar 2026 10:00:00 GMTé"},
]
POLICY = FetchPolicy(min_delay_per_host=0, jitter=0, retries=0)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with running() as started:
        yield started


@pytest.mark.parametrize("validator", ODD)
def test_a_non_ascii_validator_is_not_sent_back(
    server: FaultServer, validator: dict[str, str]
) -> None:
    server.script("/page", Reply(200, b"<html></html>", {**HEADERS, **validator}))

    async def twice() -> tuple[Validators, FetchOutcome]:
        async with Fetcher(POLICY) as fetcher:
            first = await fetcher.fetch(server.url("/page"))
            second = await fetcher.fetch(server.url("/page"), first.validators)
        return first.validators, second.outcome

    kept, outcome = asyncio.run(twice())

    assert not kept.empty  # stored, as the server said it
    assert outcome is FetchOutcome.OK
    assert "if-none-match" not in server.requests[-1].headers
    assert "if-modified-since" not in server.requests[-1].headers


@pytest.mark.parametrize("validator", ODD)
def test_check_runs_again_after_storing_one(
    server: FaultServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    validator: dict[str, str],
) -> None:
    body = gzip.decompress((PAGE / "organization-2.en.html.gz").read_bytes())
    server.script("/en/organizations/2", Reply(200, body, {**HEADERS, **validator}))
    db = str(tmp_path / "history.sqlite")
    url = server.url("/en/organizations/2")

    run_cli(monkeypatch, capsys, "check", url, "--db", db)
    code, out, err = run_cli(monkeypatch, capsys, "check", url, "--db", db)

    assert "Traceback" not in err
    assert code == 0, err
    assert "cli: unchanged" in out
