"""``planwatch discover``: the pages a ``site = "..."`` source stands for."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlsplit

import typer

from monitor.cli import ConfigOption, JsonOption, app, out
from monitor.config import Settings, is_http_url, load_config
from monitor.discover import Discovery, discover_site
from monitor.fetch import FetchPolicy, redact_url
from monitor.workers import FetchLoop
from parsers.errors import ConfigError


@app.command()
def discover(
    site: Annotated[
        str, typer.Argument(help="A site root, e.g. https://ilmastovahti.espoo.fi/en")
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a site's action list, action pages and organization pages."""
    if not is_http_url(site):
        raise ConfigError(f"not an http(s) URL: {redact_url(site)!r}")
    if urlsplit(site).query or urlsplit(site).fragment:
        # As a config's site: a query would swallow every path built on it.
        raise ConfigError(f"give the site's root, without ? or #: {redact_url(site)!r}")
    settings = load_config(config).planwatch if config else Settings()
    policy = FetchPolicy(
        user_agent=settings.user_agent,
        contact=settings.contact,
        min_delay_per_host=settings.min_delay_seconds,
        jitter=settings.min_delay_seconds / 2,
    )
    with FetchLoop(policy) as loop:
        found = loop.run(discover_site(loop.fetcher, site))
    _print_discovery(found, as_json)
    # What a check would make of it too (monitor.discover.SiteCache): only the seed.
    if len(found.pages) <= 1:
        raise typer.Exit(1)


def _print_discovery(found: Discovery, as_json: bool) -> None:
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "site": redact_url(found.site),
                    "pages": [redact_url(page) for page in found.pages],
                    "actions": found.actions,
                    "organizations": found.organizations,
                    "problems": list(found.problems),
                }
            )
        )
        return
    # A site behind basic auth has its password in every page's URL.
    for page in found.pages:
        out.print(redact_url(page), highlight=False, soft_wrap=True)
    if len(found.pages) <= 1:
        out.print("found nothing but the action list's address", highlight=False)
    else:
        out.print(
            f"{len(found.pages)} pages: the action list, {found.actions} actions, "
            f"{found.organizations} organizations",
            highlight=False,
        )
    for problem in found.problems:
        out.print(f"could not read: {problem}", highlight=False, soft_wrap=True)
