"""``planwatch serve`` as a person runs it: a real process on 127.0.0.1."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from parsers.errors import StorageError
from tests.web_helpers import fill_series_and_lab, filled_database

SERVE = [sys.executable, "-c", "from monitor.cli import main; main()", "serve"]


def test_serve_answers_on_loopback_by_default(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = filled_database(tmp_path_factory, "series", fill_series_and_lab)
    with subprocess.Popen(
        [*SERVE, "--db", path, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            found = re.search(r"Uvicorn running on http://([\d.]+):(\d+)", line)
            if found:
                break
        assert found, "".join(lines)
        host, port = found.groups()
        assert host == "127.0.0.1"
        answer = httpx.get(f"http://127.0.0.1:{port}/api/sources", timeout=10)
        assert answer.status_code == 200
        assert {s["name"] for s in answer.json()["items"]} == {"demo", "lab"}
        assert "serving read-only" in "".join(lines)
        process.terminate()
        process.wait(10)


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sqlite"

    result = CliRunner().invoke(app, ["serve", "--db", str(missing)])

    assert isinstance(result.exception, StorageError)
    assert f"no database at {missing}" in str(result.exception)
    assert not missing.exists()
