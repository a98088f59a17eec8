"""`planwatch run` without a config asks for the config, not for page URLs.

Found trying planwatch as a newcomer: `planwatch run` with no arguments said
"nothing to check: give --config FILE or page URLs", but `run` takes no page URLs
(`planwatch run http://...` is a usage error): only `check` does. `run` now asks
for the config alone; `check` still offers both.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import folded, run_cli


def test_run_asks_for_the_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "run")
    assert code == 2, out
    message = folded(err)
    assert "-c" in message or "--config" in message, message
    assert "URL" not in message


def test_check_still_offers_urls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "check")
    assert code == 2, out
    assert "give --config FILE or page URLs" in folded(err)
