"""What a person sees, in a real headless Chromium (Debian's package, driven by
Playwright), on pages served by a real server on 127.0.0.1.

Skipped, saying how to enable them, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from monitor.web.app import create_app, open_read_only
from tests.web_helpers import (
    HOSTILE,
    HOSTILE_SOURCE,
    SCRIPT,
    fill_hostile,
    fill_series_and_lab,
    filled_database,
    serving,
)

CHROMIUM = Path(os.environ.get("PLANWATCH_CHROMIUM", "/usr/bin/chromium"))
HOWTO = (
    "browser tests skipped: {} (install Debian's Chromium with "
    "`apt-get install -y chromium` and Playwright with `pip install playwright`; "
    "the tests use the system browser, never `playwright install`; "
    "PLANWATCH_CHROMIUM names another binary)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 800}

if not CHROMIUM.exists():
    pytest.skip(HOWTO.format(f"no Chromium at {CHROMIUM}"), allow_module_level=True)
if importlib.util.find_spec("playwright") is None:
    pytest.skip(HOWTO.format("Playwright is not installed"), allow_module_level=True)

from playwright.sync_api import BrowserContext, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    database = open_read_only(path)
    with serving(create_app(database)) as url:
        yield url
    database.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    yield tab
    tab.close()


def _box(page: Page, selector: str, index: int = 0) -> dict[str, float]:
    box = page.locator(selector).nth(index).bounding_box()
    assert box is not None, selector
    return dict(box)


def test_the_timeline_chart_as_a_person_sees_it(page: Page, base: str) -> None:
    # Action 16 stayed on time for 42 days, then went late when its task fell due.
    page.goto(base + "/sources/demo/actions/16")

    chart = page.locator("figure.timeline svg")
    assert chart.is_visible()
    bands = 'svg g[data-lane="status"] g.band rect'
    assert page.locator(bands).count() == 2
    on_time, late = _box(page, bands, 0), _box(page, bands, 1)
    assert on_time["x"] < late["x"]
    assert on_time["width"] > 20 * late["width"]
    assert abs(on_time["x"] + on_time["width"] - late["x"]) < 2  # end to end
    label = page.locator('svg g[data-lane="status"] text', has_text="On time")
    assert label.is_visible()
    phase = page.locator('svg g[data-lane="phase"] text', has_text="Implementation")
    assert phase.is_visible()

    fills = page.eval_on_selector_all(
        bands, "rects => rects.map(r => getComputedStyle(r).fill)"
    )
    assert fills == ["rgb(124, 199, 150)", "rgb(238, 140, 132)"]  # green, then red
    assert page.locator("dl.facts .badge", has_text="Late").is_visible()
    markers = page.locator("svg circle.marker")
    assert markers.count() == page.locator("ol.changes > li").count()


def test_an_organization_at_a_glance(page: Page, base: str) -> None:
    page.goto(base + "/sources/demo/organizations/2")

    assert page.locator("h1").inner_text() == "Environment & Climate"
    stale = page.locator("tr.is-stale")
    assert stale.count() == 1
    assert "Stormwater management" in stale.inner_text()
    badge = stale.locator(".age-stale")
    assert badge.is_visible()
    assert badge.inner_text() == "stale · 193 days"
    colour = badge.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(255, 243, 220)"  # the stylesheet loaded under the CSP


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sources",
        "/sources/demo",
        "/sources/demo/organizations/2",
        "/sources/demo/actions/16",
    ],
)
def test_readable_on_a_phone(browser: BrowserContext, base: str, path: str) -> None:
    tab = browser.new_page()
    tab.set_viewport_size(PHONE)
    try:
        tab.goto(base + path)
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways ({width}px)"
        font = tab.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 16
        for header in tab.locator("table thead").all():
            assert not header.is_visible()  # rows stack as label: value
        if path.endswith("/16"):
            figure = tab.locator("figure.timeline")
            assert figure.is_visible()
            # The chart keeps a readable size and scrolls inside its own box.
            inner = figure.evaluate("f => [f.scrollWidth, f.clientWidth]")
            assert inner[0] > inner[1]
    finally:
        tab.close()


def test_hostile_names_run_nothing(
    browser: BrowserContext, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = filled_database(tmp_path_factory, "hostile", fill_hostile)
    database = open_read_only(path)
    source = quote(HOSTILE_SOURCE, safe="")
    dialogs: list[str] = []
    errors: list[Any] = []
    tab = browser.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("pageerror", lambda error: errors.append(error))
    try:
        with serving(create_app(database)) as url:
            for page_path in (
                "/",
                f"/sources/{source}",
                f"/sources/{source}/organizations/5",
                f"/sources/{source}/actions/1",
            ):
                tab.set_viewport_size(PHONE)
                tab.goto(url + page_path)
                width = tab.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], f"{page_path}: {width}px wide"
                text = tab.locator("main").inner_text()
                assert SCRIPT in text
                assert tab.locator("main img, main script").count() == 0
            assert HOSTILE["renamed"].split(" </title>")[0] in text
    finally:
        tab.close()
        database.close()
    assert dialogs == []
    assert errors == []
