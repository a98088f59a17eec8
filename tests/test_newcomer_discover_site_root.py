"""`planwatch discover SITE` refuses a site with ? or #, as a config's site does.

Found trying `planwatch discover "http://127.0.0.1:PORT/en?lang=en"`: it fetched
".../en?lang=en/actions" (the query swallowing the path) and
"http://127.0.0.1:PORT/sitemap.xml", and reported what it could not read, where
`site = "...?lang=en"` in a config is refused at load ("give the site's root,
without ? or #"). It is now refused the same way, before anything is fetched.
"""

from __future__ import annotations

import pytest

from monitor.localserve import SiteState, serve_site
from tests.cli_helpers import folded, run_cli


@pytest.mark.parametrize("tail", ["/en?lang=en", "/en#top"])
def test_a_site_with_a_query_or_fragment_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tail: str
) -> None:
    state = SiteState()
    with serve_site(state) as base:
        code, _, err = run_cli(monkeypatch, capsys, "discover", base + tail)

    assert code == 2
    assert "without ? or #" in folded(err)
    assert state.requests == []
