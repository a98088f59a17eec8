"""`planwatch serve --root-path watch` (no leading slash) serves the view under
/watch, as `--root-path /watch` does.

Found trying planwatch as a newcomer: `--root-path watch` was taken as it was.
The banner said "serving read-only on http://127.0.0.1:8080watch/", every link of
every page was relative ("watch/sources/demo", which from /sources/demo leads to
/sources/watch/sources/demo), and the API and feeds handed out addresses such as
"http://127.0.0.1:8080watch/sources/demo", which name no host at all. A prefix
without its slash, or with a trailing one, now means the same as "/watch".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import uvicorn
from selectolax.lexbor import LexborHTMLParser

from tests.cli_helpers import folded, run_cli
from tests.web_helpers import fill_series_and_lab, filled_database, serving


def _serve(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
    root_path: str,
) -> tuple[dict[str, Any], str]:
    """What ``serve`` hands uvicorn, and the pages and API answers it then serves."""
    seen: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        seen.update(options)
        with serving(app, root_path=options["root_path"]) as base:
            seen["base"] = base
            seen["page"] = httpx.get(base + "/sources/demo")
            seen["api"] = httpx.get(base + "/api/sources/demo")

    monkeypatch.setattr(uvicorn, "run", run)
    code, out, err = run_cli(
        monkeypatch, capsys,
        "serve", "--db", path, "--port", "8080", "--root-path", root_path,
    )  # fmt: skip
    assert code == 0, err
    return seen, folded(out)


@pytest.mark.parametrize("root_path", ["watch", "watch/", "/watch/", "/watch"])
def test_a_prefix_is_a_path_from_the_root(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    root_path: str,
) -> None:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    seen, out = _serve(monkeypatch, capsys, path, root_path)

    assert seen["root_path"] == "/watch"
    assert "serving read-only on http://127.0.0.1:8080/, its links under /watch/" in out
    page = seen["page"]
    assert page.status_code == 200, page.text[:300]
    hrefs = [a.attributes["href"] or "" for a in LexborHTMLParser(page.text).css("a")]
    assert all(h.startswith(("/watch/", "http")) for h in hrefs), hrefs
    links = seen["api"].json()["links"]
    assert links["html"] == seen["base"] + "/watch/sources/demo"
    assert links["feed"] == seen["base"] + "/watch/feeds/sources/demo.atom"


def test_no_prefix_is_the_root(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    seen, out = _serve(monkeypatch, capsys, path, "/")
    assert seen["root_path"] == ""
    assert "serving read-only on http://127.0.0.1:8080/ " in out
    assert seen["api"].json()["links"]["html"] == seen["base"] + "/sources/demo"
