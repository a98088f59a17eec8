"""`planwatch check` exits 1 when a source could not be read, 0 otherwise (cron)."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.demo import lab_pages
from monitor.localserve import SiteState, serve_site


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_page_exits_1_and_a_readable_one_exits_0(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "x.sqlite")
    dead = f"http://127.0.0.1:{_closed_port()}/organizations/1"

    failed = runner.invoke(app, ["check", dead, "--db", db, "--source", "dead"])

    site = SiteState(pages=lab_pages("before"))
    with serve_site(site) as base:
        ok = runner.invoke(
            app, ["check", f"{base}/organizations/2", "--db", db, "--source", "lab"]
        )

    assert failed.exit_code == 1, failed.output
    assert "dead: failed" in failed.output
    assert ok.exit_code == 0, ok.output
    assert "lab: baseline" in ok.output
