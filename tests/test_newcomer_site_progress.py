"""`planwatch check`'s progress bar never counts more pages done than in all.

Found trying planwatch as a newcomer: for a source given as `site = "..."` the bar
ended at "16/1 pages": its total counted the pages the config seeds a site with
(its action list), and the pages discovery adds at check time went on counting
past it. A site's pages are not known until they are found, so with one in the
config the total now stays open ("16/? pages") instead of being a wrong number.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from monitor.config import Config, Settings, SourceConfig
from monitor.demo import lab_pages
from monitor.localserve import SiteState, serve_site
from monitor.progress import page_progress
from monitor.service import check_sources
from storage.db import open_database


def test_a_site_source_never_shows_more_pages_done_than_in_all(
    tmp_path: Path,
) -> None:
    state = SiteState(pages=lab_pages("before"))
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with serve_site(state) as base:
        config = Config(
            planwatch=Settings(contact="tests@127.0.0.1", min_delay_seconds=0),
            sources=[SourceConfig(name="lab", site=base + "/en")],
        )
        db = open_database(str(tmp_path / "planwatch.sqlite"))
        try:
            with page_progress(console, config.sources) as on_page:
                (report,), _ = check_sources(db, config, {}, on_page=on_page)
        finally:
            db.close()

    assert report.pages > 1
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    counts = re.findall(r"(\d+)/(\d+|\?) pages", drawn)
    assert counts, drawn
    for done, total in counts:
        assert total == "?" or int(done) <= int(total), (done, total)
