"""The log line of a page the parser failed on names it without its password.

Found while masking the credentials of pages behind basic auth elsewhere: a page
planwatch's own parser failed on was logged as "http://watch:PASSWORD@host/...:
the parser failed", with its traceback, under `check -v` and in every `run`'s
log; the fetcher's own log lines mask such URLs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from monitor import pipeline

SECRET = "s3cret-pw"


def test_a_parser_failure_is_logged_without_the_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "parse_page", broken)
    url = f"https://watch:{SECRET}@plan.example/en/actions"
    with caplog.at_level(logging.ERROR, logger="monitor.pipeline"):
        page = pipeline.read_page(b"<html></html>", url, observed_at=datetime.now(UTC))

    assert page.outcome.value == "layout_unrecognised"
    assert "the parser failed" in caplog.text
    assert "plan.example/en/actions" in caplog.text
    assert SECRET not in caplog.text
