"""Parse throughput on the largest pages, against a bare parse and BeautifulSoup.

    python bench/parse_throughput.py [--runs 7]

Pages (bigcity-2024, rendered by the real 2024 UI for a 600-action plan): a
300-row organization page, the 600-row dashboard and the 600-card action list.
Read from the project's copy (fixtures/kausal-watch/bigcity-2024), else from the
shared fixtures beside the project; skipped with a message when neither is there.

Times are CPU seconds (``time.process_time``; other processes on the machine slow
a wall clock, not this), the best of ``--runs`` interleaved runs, of:

- bare: ``LexborHTMLParser(body)``, the HTML parse and nothing else;
- data: what any extraction of the records must do, as planwatch does it: the
  embedded scripts cut out of the body, the rest parsed, the page's action objects
  decoded (into msgspec structs), and nothing else: no record, no markup read, no
  plan context;
- planwatch: ``parse_page``, the full extraction: the embedded data decoded into
  records, the table or cards cross-checked, the heading read, the plan context;
- markup only: ``parse_page`` of the same page without its embedded-data scripts
  (the fallback layer: every row or card read from the markup);
- BeautifulSoup: the same extraction with BeautifulSoup (``html.parser``) finding
  the scripts and reading the table, cards and heading, and planwatch's own JSON
  decoding and record building (a baseline that differs only in the HTML work).

Goals (issue 3): planwatch within 2x of the bare parse, and at least 10x faster
than BeautifulSoup. Nothing is asserted; the numbers are printed as measured.
BeautifulSoup is needed for the baseline only: ``pip install beautifulsoup4``.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selectolax.lexbor import LexborHTMLParser

from parsers import data as records
from parsers import embedded, i18n, reltime
from parsers import raw as raw_shapes
from parsers.kausal import parse_page
from tests.fidelity_corpus import strip_embedded

ROOT = Path(__file__).resolve().parent.parent
PLACES = (
    ROOT / "fixtures" / "kausal-watch" / "bigcity-2024" / "before" / "html",
    ROOT.parent
    / "shared"
    / "fixtures"
    / "kausal-watch"
    / "bigcity-2024"
    / "before"
    / "html",
)
HOST = "http://bigcity.localhost:3000"
PAGES = (
    ("organization-8.fi", f"{HOST}/organizations/8", "300-row organization page"),
    ("action-list-dashboard.fi", f"{HOST}/actions?view=dashboard", "600-row dashboard"),
    ("action-list.fi", f"{HOST}/actions", "600-card action list"),
)
_CELL_ID = re.compile(r"^row-(\d+)-(\d+)$")


def read(stem: str) -> bytes | None:
    for place in PLACES:
        path = place / f"{stem}.html"
        if path.exists():
            return path.read_bytes()
        if path.with_name(path.name + ".gz").exists():
            return gzip.decompress(path.with_name(path.name + ".gz").read_bytes())
    return None


def soup_extract(body: bytes, url: str) -> tuple[int, int]:
    """planwatch's extraction with BeautifulSoup doing the HTML work."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    found = embedded._gather(str(script.string or "") for script in soup("script"))

    now = datetime.now(UTC)
    org = next(found.find_props("planFromOrgQuery", apollo=False), None)
    raw = (
        org["planFromOrgQuery"]["actions"]
        if org
        else found.first_list("planActions", raw_shapes.ACTIONS)
    )
    actions = records.actions(raw or [], now, lambda i: i)
    plans = [
        next(found.find_props(k), {}) for k in ("primaryLanguage", "actionStatuses")
    ]
    records.plan_context([p for p in plans if p])

    # The markup: row ids and task labels, the heading, the cards.
    rows: dict[str, Any] = {}
    for cell in soup.select("[id^=row-]"):
        match = _CELL_ID.match(str(cell.get("id")))
        if match:
            rows.setdefault(match.group(1), None)
    for bar in soup.select("div.completed"):
        cell = bar.find_parent("td")
        match = _CELL_ID.match(str(cell.get("id"))) if cell else None
        if cell is not None and match:
            rows[match.group(1)] = i18n.parse_task_label(cell.get_text(" "))
    for heading in soup.find_all(["h2", "h3"]):
        if i18n.parse_responsible_count(heading.get_text()) is not None:
            break
    cards = [a.get("href") for a in soup.select("li > a[href]") if a.find("div")]
    return len(actions), len(rows) + len(cards)


def data_only(body: bytes) -> int:
    """The markup parsed and the page's actions decoded, and nothing else: no
    record built, no markup read. What no extraction of the records can skip."""
    cut = embedded.cut_scripts(body)
    assert cut is not None
    tree = LexborHTMLParser(cut.markup)
    found = cut.data(tree.css("script"))
    assert found is not None
    org = next(found.find_props("planFromOrgQuery", apollo=False), None)
    if org is not None:
        return len(raw_shapes.actions(org["planFromOrgQuery"]["actions"]))
    return len(found.first_list("planActions", raw_shapes.ACTIONS) or ())


def best(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        # Start cold: the parsers cache parsed dates and relative-time intervals,
        # which a check's first page would not find filled.
        reltime._interval.cache_clear()
        records._day.cache_clear()
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def measure(body: bytes, url: str, runs: int, soup: bool) -> dict[str, float]:
    page = parse_page(body, url)
    assert page.ok, page.anomalies
    assert not page.anomalies, page.anomalies
    bare_body = strip_embedded(body)
    found = dict.fromkeys(("bare", "data", "planwatch", "markup", "soup"), float("inf"))
    jobs: dict[str, Callable[[], object]] = {
        "bare": functools.partial(LexborHTMLParser, body),
        "data": functools.partial(data_only, body),
        "planwatch": functools.partial(parse_page, body, url),
        "markup": functools.partial(
            parse_page, bare_body, url, observed_at=page.observed_at
        ),
    }
    for _ in range(runs):  # interleaved, so drift hits all alike
        for name, job in jobs.items():
            found[name] = min(found[name], best(job, 1))
    if soup:
        found["soup"] = best(functools.partial(soup_extract, body, url), 3)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    try:
        import bs4  # noqa: F401
    except ImportError:
        bs4_missing = True
        print("BeautifulSoup is not installed: pip install beautifulsoup4")
    else:
        bs4_missing = False

    print(
        f"{'page':28} {'bytes':>9} {'bare':>8} {'data':>8} {'planwatch':>10} "
        f"{'ratio':>6} {'markup':>8} {'soup':>9} {'soup/pw':>8}"
    )
    for stem, url, title in PAGES:
        body = read(stem)
        if body is None:
            print(f"{title}: {stem}.html is in no fixture folder; skipped")
            continue
        times = measure(body, url, args.runs, not bs4_missing)
        bare, planwatch = times["bare"], times["planwatch"]
        markup, soup = times["markup"], times["soup"]
        shown_soup = "-" if bs4_missing else f"{soup * 1000:8.1f}"
        shown_speed = "-" if bs4_missing else f"{soup / planwatch:7.1f}x"
        print(
            f"{title:28} {len(body):>9} {bare * 1000:7.1f} "
            f"{times['data'] * 1000:7.1f} {planwatch * 1000:9.1f} "
            f"{planwatch / bare:5.1f}x {markup * 1000:7.1f} {shown_soup:>9} "
            f"{shown_speed:>8}"
        )
    print(
        "times in ms of CPU, best of runs; ratio = planwatch / bare parse "
        "(goal <= 2x); soup/pw = BeautifulSoup / planwatch (goal >= 10x);\n"
        "data = the markup parsed (scripts cut out) and the page's actions "
        "decoded, no record built and no markup read: a floor for any extraction"
    )


if __name__ == "__main__":
    main()
