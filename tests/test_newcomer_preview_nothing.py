"""`planwatch notify preview` says so when a subscription would receive nothing.

Found trying planwatch as a newcomer: `notify preview -s bysite -c planwatch.toml`
for a subscription whose `sites` filter matched none of the changes printed
nothing at all and exited 0, so an empty terminal was the only answer, the same
as for a command that hung up or a config that was not read. It now names the
subscription and says that there is nothing it would receive.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from storage.db import open_database
from tests.notify_helpers import T0, record, seed, status_change


def test_a_subscription_with_nothing_to_receive_says_so(tmp_path: Path) -> None:
    path = str(tmp_path / "cli.sqlite")
    config = tmp_path / "planwatch.toml"
    config.write_text(
        """
[[targets]]
name = "webhook"
url = "json://127.0.0.1:9/"

[[subscriptions]]
name = "elsewhere"
targets = ["webhook"]
sites = ["nowhere.example.org"]

[[subscriptions]]
name = "everything"
targets = ["webhook"]
""",
        encoding="utf-8",
    )
    database = open_database(path)
    seed(database)
    routing = load_config(config).resolved_targets()
    record(database, routing, [status_change("10")], now=T0)
    database.close()

    def preview(name: str) -> str:
        result = CliRunner().invoke(
            app, ["notify", "preview", "-s", name, "-c", str(config), "--db", path]
        )
        assert result.exit_code == 0, (result.output, result.exception)
        return " ".join(result.output.split())

    assert "tila" in preview("everything") or "status" in preview("everything")
    nothing = preview("elsewhere")
    assert "subscription elsewhere: nothing to send" in nothing, nothing
