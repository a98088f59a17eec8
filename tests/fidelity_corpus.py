"""Every fixture page that has the platform's own answer beside it, ready to parse.

lab-2024 (before, after), the series-2024 rounds whose backend answered (r00-r04,
r06, r07) and ui-2026 (today's UI over r07's data). Each page comes with what the
fixture says about it: its URL, its observation time, whether it should be gone,
and the API answer taken at the same moment in the page's language.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.localserve import read_fixture
from parsers.fidelity import Truth
from tests.conftest import FIXTURES

LAB = FIXTURES / "lab-2024"
SERIES = FIXTURES / "series-2024"
UI_2026 = FIXTURES / "ui-2026"
SERIES_ROUNDS = ("r00", "r01", "r02", "r03", "r04", "r06", "r07")
# Inline scripts that carry the embedded data (flight payload, Apollo transport):
# without them a page is read from its markup alone.
EMBEDDED_SCRIPTS = re.compile(
    rb"<script[^>]*>(?:self\.__next_f\.push|"
    rb'\(window\[Symbol\.for\("ApolloSSRDataTransport"\)\]).*?</script>',
    re.S,
)


@dataclass(frozen=True, slots=True)
class FixturePage:
    corpus: str  # "lab-2024/before", "series-2024/r03", "ui-2026"
    name: str  # "organization-2", "action-IL-15", "action-list-dashboard"
    lang: str
    url: str
    html: Path
    truth: Path
    observed_at: datetime | None  # the page's render time, when the fixture says
    date_header: str | None
    expect_gone: bool = False

    @property
    def where(self) -> str:
        return f"{self.corpus}/{self.name}.{self.lang}"

    def body(self) -> bytes:
        return read_fixture(self.html)

    @property
    def organization_id(self) -> str | None:
        kind, _, rest = self.name.partition("-")
        return rest if kind == "organization" else None

    @property
    def action_identifier(self) -> str | None:
        if self.name.startswith("action-list"):
            return None
        kind, _, rest = self.name.partition("-")
        return rest if kind == "action" else None


def strip_embedded(body: bytes) -> bytes:
    return EMBEDDED_SCRIPTS.sub(b"", body)


@functools.cache
def truth(path: Path) -> Truth:
    return Truth(json.loads(path.read_text(encoding="utf-8")))


def pages() -> Iterator[FixturePage]:
    yield from _lab()
    for name in SERIES_ROUNDS:
        yield from _listed(SERIES / name, f"series-2024/{name}", _host(3000))
    yield from _listed(UI_2026, "ui-2026", _host(3100))


def _host(port: int) -> str:
    return f"http://demo.localhost:{port}"


def _lab() -> Iterator[FixturePage]:
    for phase in ("before", "after"):
        folder = LAB / phase
        for html in sorted((folder / "html").glob("*.html.gz")):
            stem = html.name.removesuffix(".html.gz")
            name, lang = stem.rsplit(".", 1)
            yield FixturePage(
                corpus=f"lab-2024/{phase}",
                name=name,
                lang=lang,
                url=_lab_url(name, lang),
                html=html.with_name(stem + ".html"),
                truth=folder / "truth" / f"plan-actions.{lang}.json",
                observed_at=None,
                date_header=_date_header(folder / "headers" / f"{stem}.txt"),
            )


def _lab_url(name: str, lang: str) -> str:
    prefix = _host(3000) + ("" if lang == "fi" else f"/{lang}")
    if name == "action-list":
        return prefix + "/actions"
    kind, _, ident = name.partition("-")
    section = "organizations" if kind == "organization" else "actions"
    return f"{prefix}/{section}/{ident}"


def _listed(folder: Path, corpus: str, host: str) -> Iterator[FixturePage]:
    listing = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
    for entry in listing["pages"]:
        if entry["status"] != 200:
            continue
        lang, name = entry["lang"], entry["page"]
        stem = f"{name}.{lang}"
        ui_now = entry.get("ui_now")
        yield FixturePage(
            corpus=corpus,
            name=name,
            lang=lang,
            url=host + entry["path"],  # the path carries the language prefix
            html=folder / "html" / f"{stem}.html",
            truth=folder / "truth" / f"plan-actions.{lang}.json",
            observed_at=(
                datetime.fromisoformat(ui_now.replace("Z", "+00:00"))
                if ui_now
                else None
            ),
            date_header=_date_header(folder / "headers" / f"{stem}.txt"),
            expect_gone=bool(entry.get("expected_gone")),
        )


def _date_header(path: Path) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "date":
            return value.strip()
    return None
