"""Atom feeds: valid (read back with feedparser and as plain XML), complete, and
with entry ids that stay the same for the same change."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from monitor.web.app import create_app, open_read_only
from storage.db import open_database
from tests.web_helpers import fill_lab, fill_series_and_lab, filled_database, serving

ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = [
    "/feeds/changes.atom",
    "/feeds/sources/demo.atom",
    "/feeds/sources/demo/organizations/2.atom",
    "/feeds/sources/demo/actions/3.atom",
    "/feeds/sources/lab/actions/9.atom",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    database = open_read_only(path)
    with serving(create_app(database)) as base, httpx.Client(base_url=base) as client:
        yield client
    database.close()


def check_atom(body: bytes) -> ET.Element:
    """The RFC 4287 musts a feed reader relies on, on top of feedparser's reading."""
    root = ET.fromstring(body)  # noqa: S314 (our own server's output, under test)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "summary"):
            assert (entry.findtext(f"{ATOM}{name}") or "").strip(), name
        alternate = entry.find(f"{ATOM}link[@rel='alternate']")
        assert alternate is not None
        assert alternate.get("href", "").startswith("http")
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return root


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_are_valid_atom(site: httpx.Client, path: str) -> None:
    answer = site.get(path)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = check_atom(answer.content)
    parsed = feedparser.parse(answer.content)
    assert parsed.feed.links[0].href.endswith(path)  # rel=self, absolute
    ids = [e.id for e in parsed.entries]
    assert ids
    assert len(ids) == len(set(ids))
    assert all(i.startswith("urn:uuid:") for i in ids)
    times = [e.updated for e in parsed.entries]
    assert times == sorted(times, reverse=True)
    assert root.findtext(f"{ATOM}updated") == parsed.entries[0].updated


def test_feeds_hold_what_the_api_lists(site: httpx.Client) -> None:
    scopes = {
        "/feeds/changes.atom": {},
        "/feeds/sources/demo.atom": {"source": "demo"},
        "/feeds/sources/demo/organizations/2.atom": {
            "source": "demo",
            "organization": "2",
        },
        "/feeds/sources/demo/actions/3.atom": {"source": "demo", "action": "3"},
    }
    for path, params in scopes.items():
        listed = site.get("/api/changes", params={**params, "limit": 50}).json()
        feed = feedparser.parse(site.get(path).content)
        assert [e.id for e in feed.entries] == [c["entry_id"] for c in listed["items"]]
        for entry, change in zip(feed.entries, listed["items"], strict=True):
            assert change["text"] in entry.title
            assert entry.tags[0].term == change["kind"]


def test_an_entry_keeps_its_id_in_every_feed(site: httpx.Client) -> None:
    everything = {e.id: e for e in feedparser.parse(site.get(FEEDS[0]).content).entries}
    action = feedparser.parse(site.get("/feeds/sources/demo/actions/3.atom").content)

    for entry in action.entries:
        if entry.id in everything:  # the all-changes feed keeps the newest 50
            assert everything[entry.id].title == entry.title
    status = [e for e in action.entries if e.tags[0].term == "status_changed"]
    assert len(status) == 1
    assert status[0].link.endswith("/sources/demo/actions/3")


def test_entry_ids_survive_rebuilding_the_history(
    site: httpx.Client, tmp_path: Path
) -> None:
    # The shared history got the lab site's checks after the series'; this one
    # gets them alone, so every row id differs.
    path = str(tmp_path / "lab.sqlite")
    writer = open_database(path)
    fill_lab(writer)
    writer.close()
    reader = open_read_only(path)
    with serving(create_app(reader)) as base:
        rebuilt = httpx.get(base + "/feeds/sources/lab.atom").content
        rebuilt_ids = httpx.get(base + "/api/changes?source=lab").json()["items"]
    reader.close()
    shared = site.get("/feeds/sources/lab.atom").content
    shared_ids = site.get("/api/changes?source=lab").json()["items"]

    assert [c["id"] for c in rebuilt_ids] != [c["id"] for c in shared_ids]
    entries = [e.id for e in feedparser.parse(rebuilt).entries]
    assert entries
    assert entries == [e.id for e in feedparser.parse(shared).entries]


def test_feed_for_something_unknown_is_404(site: httpx.Client) -> None:
    for path in (
        "/feeds/sources/nowhere.atom",
        "/feeds/sources/demo/actions/999.atom",
        "/feeds/sources/demo/organizations/999.atom",
    ):
        answer = site.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/plain")
