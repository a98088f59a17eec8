"""The HTML pages: what they show, the feed each advertises, and that scraped text
never becomes markup anywhere (pages, feeds, API)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import feedparser
import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.web.app import create_app, open_read_only
from tests.test_web_feeds import check_atom
from tests.web_helpers import (
    CONTROL,
    HOSTILE,
    HOSTILE_SOURCE,
    HOSTILE_URL,
    SCRIPT,
    fill_hostile,
    fill_series_and_lab,
    filled_database,
    serving,
)

PAGES = [
    "/",
    "/sources",
    "/sources/demo",
    "/sources/demo/organizations/2",
    "/sources/demo/actions/16",
    "/sources/lab/actions/9",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    database = open_read_only(path)
    with serving(create_app(database)) as base, httpx.Client(base_url=base) as client:
        yield client
    database.close()


def html(answer: httpx.Response) -> LexborHTMLParser:
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    return LexborHTMLParser(answer.text)


def texts(tree: LexborHTMLParser, selector: str) -> list[str]:
    return [" ".join(n.text().split()) for n in tree.css(selector)]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_advertises_a_working_feed(site: httpx.Client, path: str) -> None:
    answer = site.get(path)
    tree = html(answer)

    links = tree.css('head link[rel="alternate"][type="application/atom+xml"]')
    assert len(links) == 1
    feed = site.get(links[0].attributes["href"] or "")
    assert feed.status_code == 200
    check_atom(feed.content)
    assert tree.css_first('meta[name="viewport"]') is not None
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert not tree.css("script")


def test_changes_page_lists_the_newest_first(site: httpx.Client) -> None:
    listed = site.get("/api/changes", params={"limit": 50}).json()["items"]
    tree = html(site.get("/"))

    shown = texts(tree, "ol.changes li .what")
    assert len(shown) == 50
    assert [s.removesuffix(" on the site") for s in shown] == [
        c["text"] for c in listed
    ]
    older = tree.css_first('a[rel="next"]')
    assert older is not None
    second = html(site.get(older.attributes["href"] or ""))
    assert texts(second, "ol.changes li .what")
    assert second.css_first('a[rel="prev"]') is not None


def test_organization_page_shows_status_and_staleness(site: httpx.Client) -> None:
    actions = site.get(
        "/api/actions", params={"source": "demo", "organization": "2"}
    ).json()["items"]
    tree = html(site.get("/sources/demo/organizations/2"))

    rows = tree.css("table.actions tbody tr")
    assert len(rows) == len(actions)
    for row, action in zip(rows, actions, strict=True):
        cells = {
            c.attributes["data-label"]: " ".join(c.text().split())
            for c in row.css("td")
        }
        assert cells["Action"].startswith(f"{action['identifier']} {action['name']}")
        assert cells["Status"] == action["status_label"]
        days = action["days_since_update"]
        if action["stale"]:
            assert cells["Staleness"] == f"stale · {days} days"
            assert "is-stale" in (row.attributes["class"] or "")
        else:
            assert cells["Staleness"] == f"{days} days"
    assert any(a["stale"] for a in actions)  # 17: 193 days without an update
    heading = " ".join(tree.css_first("h1").text().split())
    assert heading == "Environment & Climate"


def test_action_page_draws_its_timeline(site: httpx.Client) -> None:
    history = site.get("/api/sources/demo/actions/16/history").json()
    tree = html(site.get("/sources/demo/actions/16"))

    svg = tree.css_first("figure.timeline svg")
    assert svg is not None
    bands = svg.css('g[data-lane="status"] g.band')
    statuses = [b.attributes["data-value"] for b in bands]
    assert statuses == ["on_time", "late"]  # r07: its task fell due
    assert statuses[-1] == history["action"]["status"]
    x = [float(b.css_first("rect").attributes["x"] or 0) for b in bands]
    widths = [float(b.css_first("rect").attributes["width"] or 0) for b in bands]
    assert x[0] < x[1]
    assert widths[0] > 20 * widths[1]  # 42 days against one
    assert len(svg.css("circle.marker")) == len(history["changes"])
    rows = tree.css("table.versions tbody tr")
    assert len(rows) == len(history["versions"])


def test_source_health_page(site: httpx.Client) -> None:
    tree = html(site.get("/sources"))
    health = dict(
        zip(
            texts(tree, 'td[data-label="Source"]'),
            texts(tree, 'td[data-label="Health"]'),
            strict=True,
        )
    )
    assert health == {"demo": "ok", "lab": "ok"}

    page = html(site.get("/sources/demo"))
    history = texts(page, "#health-history li .kind")
    # The outage (r05), the layout change (r06) and the repair (r07), newest first.
    assert history == [
        "layout restored",
        "layout anomaly",
        "source recovered",
        "source failing",
    ]
    outcomes = texts(page, 'table.checks td[data-label="Outcome"]')
    assert outcomes[:4] == ["changed", "anomaly", "failed", "unchanged"]


def test_missing_things_and_bad_parameters(site: httpx.Client) -> None:
    for path in ("/sources/nowhere", "/sources/demo/actions/999", "/nothing/here"):
        answer = site.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
    answer = site.get("/?offset=-1")
    assert answer.status_code == 400
    assert "query parameter offset=" in answer.text


def test_served_under_a_path_prefix(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    database = open_read_only(path)
    with serving(create_app(database), root_path="/watch") as base:
        # A proxy that strips /watch forwards /sources/demo as it is.
        answer = httpx.get(base + "/sources/demo")
        tree = html(answer)
        hrefs = [a.attributes["href"] or "" for a in tree.css("a")]
        assert all(h.startswith(("/watch/", "http")) for h in hrefs), hrefs
        feed_url = tree.css_first('link[type="application/atom+xml"]').attributes
        assert feed_url["href"] == "/watch/feeds/sources/demo.atom"
        feed = feedparser.parse(httpx.get(base + "/feeds/sources/demo.atom").content)
        assert feed.feed.links[0].href == base + "/watch/feeds/sources/demo.atom"
        assert feed.entries[0].link.startswith(base + "/watch/sources/demo/")
    database.close()


# -- untrusted text ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path = filled_database(tmp_path_factory, "hostile", fill_hostile)
    database = open_read_only(path)
    with serving(create_app(database)) as base, httpx.Client(base_url=base) as client:
        yield client
    database.close()


SOURCE = quote(HOSTILE_SOURCE, safe="")
HOSTILE_PAGES = [
    "/",
    "/sources",
    f"/sources/{SOURCE}",
    f"/sources/{SOURCE}/organizations/5",
    f"/sources/{SOURCE}/actions/1",
    f"/sources/{SOURCE}/actions/2",
]
HOSTILE_FEEDS = [
    "/feeds/changes.atom",
    f"/feeds/sources/{SOURCE}.atom",
    f"/feeds/sources/{SOURCE}/organizations/5.atom",
    f"/feeds/sources/{SOURCE}/actions/1.atom",
]
HOSTILE_API = [
    ("/api/sources", [HOSTILE_SOURCE, HOSTILE["anomaly"]]),
    (f"/api/sources/{SOURCE}", [HOSTILE_SOURCE, HOSTILE["anomaly"]]),
    (f"/api/sources/{SOURCE}/organizations", [HOSTILE["org"]]),
    (f"/api/actions?source={SOURCE}", [HOSTILE["renamed"], CONTROL, HOSTILE_URL]),
    (
        f"/api/sources/{SOURCE}/actions/1/history",
        [HOSTILE["renamed"], HOSTILE["action"], HOSTILE["task"], HOSTILE["status"]],
    ),
    ("/api/changes", [HOSTILE["renamed"], HOSTILE["org"], HOSTILE["anomaly"]]),
]
RAW = [*HOSTILE.values(), "<script", "<img", "<svg onload", "<b>", "<i>"]


@pytest.mark.parametrize("path", HOSTILE_PAGES)
def test_scraped_markup_is_shown_as_text_on_pages(
    hostile: httpx.Client, path: str
) -> None:
    body = hostile.get(path).text
    tree = html(hostile.get(path))

    for raw in RAW:
        assert raw not in body, raw
    assert not tree.css("script, img, b, i")
    assert not tree.css("svg svg")  # only our own chart, nothing nested in it
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            assert not name.startswith("on"), (node.tag, name)
            assert not (value or "").lower().startswith("javascript:"), (node.tag, name)
    assert "\x07" not in body
    assert "\x1b" not in body
    text = tree.body.text() if tree.body else ""
    if path != "/sources":
        assert SCRIPT in text  # shown, as the literal characters


def test_the_action_page_shows_every_hostile_field_literally(
    hostile: httpx.Client,
) -> None:
    tree = html(hostile.get(f"/sources/{SOURCE}/actions/1"))
    text = " ".join((tree.body.text() if tree.body else "").split())

    for key in ("renamed", "org", "status", "phase", "task"):
        assert " ".join(HOSTILE[key].split()) in text, key
    assert " ".join(HOSTILE["action"].split()) in text  # in the rename's "before"
    assert HOSTILE_URL not in [a.attributes.get("href") for a in tree.css("a")]
    titles = [" ".join(t.text().split()) for t in tree.css("svg title")]
    assert any(HOSTILE["phase"] in t for t in titles)


@pytest.mark.parametrize("path", HOSTILE_FEEDS)
def test_scraped_markup_is_text_in_feeds(hostile: httpx.Client, path: str) -> None:
    body = hostile.get(path).content
    check_atom(body)
    feed = feedparser.parse(body)

    for raw in RAW:
        assert raw.encode() not in body, raw
    titles = " ".join(e.title for e in feed.entries)
    assert feed.entries
    if "actions/1" in path or path.endswith("changes.atom"):
        assert HOSTILE["renamed"] in titles  # read back exactly, as text
    assert all(e.title_detail.type == "text/plain" for e in feed.entries)
    assert HOSTILE_URL.encode() not in body
    assert b"\x07" not in body


@pytest.mark.parametrize(("path", "expected"), HOSTILE_API)
def test_api_returns_scraped_text_unchanged(
    hostile: httpx.Client, path: str, expected: list[str]
) -> None:
    answer = hostile.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"

    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answer.json())
    for text in expected:
        assert any(text in s for s in strings), text
