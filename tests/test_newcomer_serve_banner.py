"""`planwatch serve --root-path /planwatch` names an address it answers on.

Found trying planwatch as a newcomer, following README's nginx example:
`planwatch serve --db planwatch-demo.sqlite --root-path /planwatch` printed
"serving read-only on http://127.0.0.1:8080/planwatch/", and that address
answered 404. The server itself answers at http://127.0.0.1:8080/ (the proxy
strips the prefix, as README's `proxy_pass http://127.0.0.1:8080/;` does); only
its links carry /planwatch. The banner now names the address the server answers
on, and says under which prefix its links expect a proxy to serve it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import uvicorn

from tests.cli_helpers import folded, run_cli
from tests.web_helpers import fill_series_and_lab, filled_database, serving


def test_the_banner_names_an_address_that_answers(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    status: dict[str, int] = {}

    def run(app: Any, **options: Any) -> None:
        with serving(app, root_path=options["root_path"]) as base:
            for address in ("/", "/planwatch/"):
                status[address] = httpx.get(base + address).status_code

    monkeypatch.setattr(uvicorn, "run", run)
    code, out, err = run_cli(
        monkeypatch, capsys,
        "serve", "--db", path, "--port", "8080", "--root-path", "/planwatch",
    )  # fmt: skip
    assert code == 0, err
    banner = re.search(
        r"serving read-only on http://127\.0\.0\.1:8080(/[^\s,]*)", folded(out)
    )
    assert banner, out
    assert status[banner.group(1)] == 200, (out, status)
    assert "/planwatch/" in folded(out).split(banner.group(0), 1)[1], out
