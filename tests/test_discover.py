"""Site discovery, and a check of a whole site through pages and the API at once.

The site is series-2024/r07 served on 127.0.0.1 (with the sitemap the same server
answered with), the API a GraphQL server answering from r07's real API answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.discover import SiteCache, discover_site, source_pages
from monitor.fetch import FetchPolicy
from monitor.localserve import SavedPage, SiteState, read_fixture, serve_site
from monitor.pipeline import CheckOutcome
from monitor.service import check_sources
from monitor.workers import FetchLoop
from parsers.errors import ConfigError
from parsers.sitemap import (
    action_identifiers,
    parse_sitemap,
    site_pages,
)
from storage.db import Database
from tests.fidelity_corpus import SERIES
from tests.graphql_server import GraphQLState, graphql_server

R07 = SERIES / "r07"
POLICY = FetchPolicy(contact="tests@example.org", min_delay_per_host=0, jitter=0)


def _site(lang: str) -> SiteState:
    listing = json.loads((R07 / "pages.json").read_text())
    pages = {}
    for entry in listing["pages"]:
        if entry["lang"] == lang and entry["status"] == 200:
            stem = f"{entry['page']}.{lang}"
            body = read_fixture(R07 / "html" / f"{stem}.html")
            pages[entry["path"]] = SavedPage(body)  # with the language prefix
    sitemap = read_fixture(SERIES / "extra" / "html" / "sitemap.xml.html")
    pages["/sitemap.xml"] = SavedPage(sitemap, content_type="application/xml")
    return SiteState(pages=pages)


def _truth(lang: str) -> dict[str, list[str]]:
    answer = json.loads((R07 / "truth" / f"plan-actions.{lang}.json").read_text())
    actions = answer["data"]["plan"]["actions"]
    orgs = {
        str(p["organization"]["id"]) for a in actions for p in a["responsibleParties"]
    }
    return {"actions": [a["identifier"] for a in actions], "orgs": sorted(orgs)}


@pytest.fixture
def site() -> Iterator[tuple[str, SiteState]]:
    state = _site("en")
    with serve_site(state) as base:
        yield base, state


def test_sitemap_parsing() -> None:
    sitemap = parse_sitemap(
        read_fixture(SERIES / "extra" / "html" / "sitemap.xml.html")
    )
    index = parse_sitemap(
        "<sitemapindex><sitemap><loc>https://x.org/a.xml</loc></sitemap></sitemapindex>"
    )

    identifiers = action_identifiers(sitemap.pages)
    assert identifiers[:3] == ["1", "2", "3"]
    assert "IL-15" in identifiers
    assert "12" not in identifiers  # deleted in r03, gone from the sitemap
    assert index.sitemaps == ("https://x.org/a.xml",)
    assert parse_sitemap(b"<html>not a sitemap</html>").pages == ()


def test_sitemap_locations_lose_their_blanks_and_blank_ones_are_none() -> None:
    blanks = " \n\t" * 20_000
    sitemap = parse_sitemap(
        f"<urlset><url><loc>{blanks}https://x.org/actions/1{blanks}</loc></url>"
        f"<url><loc>{blanks}</loc></url><url><loc></loc></url></urlset>"
    )

    assert sitemap.pages == ("https://x.org/actions/1",)


def test_discovery_finds_every_action_and_organization(
    site: tuple[str, SiteState],
) -> None:
    base, state = site
    want = _truth("en")

    with FetchLoop(POLICY) as loop:
        found = loop.run(discover_site(loop.fetcher, f"{base}/en/"))

    assert found.pages == tuple(site_pages(f"{base}/en", want["actions"], want["orgs"]))
    assert found.actions == len(want["actions"])
    assert found.organizations == len(want["orgs"])
    assert "/sitemap.xml" in state.requests
    assert f"/en/actions/{want['actions'][-1]}" in state.requests
    assert found.problems == ()


def test_discovery_reports_what_it_could_not_read(
    site: tuple[str, SiteState],
) -> None:
    base, state = site
    del state.pages["/sitemap.xml"]
    del state.pages["/en/actions/3"]

    with FetchLoop(POLICY) as loop:
        found = loop.run(discover_site(loop.fetcher, f"{base}/en"))

    # The action list still names action 3; its page answering 404 is a problem.
    assert any("sitemap.xml" in p for p in found.problems)
    assert any("/en/actions/3" in p for p in found.problems)
    assert f"{base}/en/actions/3" in found.pages


def test_site_pages_are_reused_until_they_age(site: tuple[str, SiteState]) -> None:
    base, state = site
    config = parse_config({"sources": [{"name": "demo", "site": f"{base}/en"}]})
    source = config.sources[0]
    cache = SiteCache()

    with FetchLoop(POLICY) as loop:
        first = source_pages(source, loop, cache)
        asked = len(state.requests)
        again = source_pages(source, loop, cache)

    assert first == again
    assert len(state.requests) == asked  # no second discovery
    assert first[0] == f"{base}/en/actions"
    assert len(first) == 1 + len(_truth("en")["actions"]) + len(_truth("en")["orgs"])


def test_config_site_and_kind() -> None:
    config = parse_config(
        {
            "sources": [
                {"name": "a", "site": "https://ilmastovahti.espoo.fi/en/"},
                {"name": "b", "site": "https://x.org", "kind": "api"},
                {"name": "c", "pages": ["https://x.org/actions/1"], "kind": "both"},
            ]
        }
    )

    a, b, c = config.sources
    assert a.pages == ["https://ilmastovahti.espoo.fi/en/actions"]
    assert a.site == "https://ilmastovahti.espoo.fi/en"
    assert a.kind == "pages"
    assert b.kind == "api"
    assert c.api_site == "https://x.org"
    for bad, message in (
        ({"name": "d"}, "give pages"),
        ({"name": "d", "site": "ftp://x.org"}, "not an http(s) URL"),
        ({"name": "d", "site": "https://x.org", "kind": "feeds"}, "kind"),
        ({"name": "d", "site": "https://x.org?q=1"}, "without ? or #"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse_config({"sources": [bad]})


def test_a_check_of_a_whole_site_through_pages_and_api(
    site: tuple[str, SiteState], db: Database, tmp_path: Path
) -> None:
    base, _state = site
    api = GraphQLState(R07 / "truth")
    with graphql_server(api) as api_origin:
        config = parse_config(
            {
                "planwatch": {"min_delay_seconds": 0, "contact": "t@example.org"},
                "sources": [
                    {
                        "name": "demo",
                        "site": f"{base}/en",
                        "kind": "both",
                        "api_url": f"{api_origin}/api/graphql",
                        "languages": ["en"],
                    }
                ],
            }
        )
        (first,), _ = check_sources(db, config, {}, lock=False)
        (second,), _ = check_sources(db, config, {}, lock=False)

    want = _truth("en")
    pages = 1 + len(want["actions"]) + len(want["orgs"])
    # The API's answer: the action list and one page per organization it names.
    answers = 1 + len(
        {
            o["id"]
            for o in json.loads((R07 / "truth" / "plan-actions.en.json").read_text())[
                "data"
            ]["planOrganizations"]
        }
        | set(want["orgs"])
    )
    assert first.outcome is CheckOutcome.BASELINE
    assert (first.pages, first.failed_pages) == (pages + answers, 0)
    assert second.outcome is CheckOutcome.UNCHANGED
    assert second.events == ()
    assert api.requests[0]["variables"] == {"hostname": "127.0.0.1"}


def test_discover_command_lists_the_pages(
    site: tuple[str, SiteState], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from monitor.cli import app

    base, _ = site
    config = tmp_path / "planwatch.toml"
    config.write_text('[planwatch]\ncontact = "t@example.org"\nmin_delay_seconds = 0\n')
    result = CliRunner().invoke(
        app, ["discover", f"{base}/en", "--json", "-c", str(config)]
    )

    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    want = _truth("en")
    assert found["pages"] == site_pages(f"{base}/en", want["actions"], want["orgs"])
    assert found["problems"] == []
