"""The warning about a missing contact address says where to give one.

Found trying planwatch as a newcomer: every `planwatch check URL...` and
`planwatch discover SITE` without a config logged "WARNING monitor.fetch: no
contact address configured; sites cannot reach us", naming neither the setting
nor where it goes; README's Config section has it as `contact` under
`[planwatch]`, which URL-mode checks have no way to read. The warning now names
the setting and the config it belongs in.
"""

from __future__ import annotations

import logging

import pytest

from monitor.fetch import Fetcher, FetchPolicy


def test_the_warning_names_the_setting(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
        Fetcher(FetchPolicy(contact=None))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "monitor.fetch"]
    assert "no contact address" in line
    assert "contact = " in line, line
    assert "[planwatch]" in line
