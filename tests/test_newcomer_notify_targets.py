"""One broken target: it stops only what uses it, and says so once, without secrets.

A config holds a working target (a webhook on 127.0.0.1) and a broken one whose
URL Apprise cannot read. ``notify test`` and ``notify preview`` about the working
one still work, naming the broken one in a warning; ``check``, ``run`` and ``notify
send``, which use every target, still refuse the file before the first fetch.

The broken URL carries a planted password. Apprise logs a URL it cannot read with
the first and last characters of each part (``S...Z``), then planwatch reports it
again: the only line must be planwatch's, and no part of the password may show.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from monitor.cli import app
from monitor.config import load_config
from notifiers import secrets
from notifiers.targets import Target
from parsers.errors import ConfigError
from storage.db import open_database
from tests.notify_helpers import T0, record, seed, status_change
from tests.notify_receivers import Webhook

ROOT = Path(__file__).resolve().parent.parent
PLANWATCH = [sys.executable, "-c", "from monitor.cli import main; main()"]
PASSWORD = "S3cr3tPassw0rdXYZ"
# What of PASSWORD Apprise's privacy mode shows: first and last, or the last four.
FRAGMENTS = (PASSWORD, "S...Z", "...dXYZ")
BROKEN = {
    # a port out of range: Apprise's e-mail plugin refuses the URL
    "mailtos": f"mailtos://alerts:{PASSWORD}@10.0.0.1:99999/?to=lead@city.example",
    "garbage": f"garbage://x:{PASSWORD}@y",  # no such Apprise service
}
BOGUS_ENV = "PW_NEWCOMER_BOGUS_URL"


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with Webhook().running() as receiver:
        yield receiver


@pytest.fixture(params=sorted(BROKEN))
def broken(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment variable holding a broken URL (with the planted password)."""
    monkeypatch.setenv(BOGUS_ENV, BROKEN[request.param])
    return str(request.param)


@pytest.fixture
def everything_logged(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at every level, Apprise's TRACE (below DEBUG) included."""
    caplog.set_level(1)
    names = ("apprise", "notifiers", "monitor")
    for name in names:
        logging.getLogger(name).setLevel(1)
    yield caplog
    for name in names:
        logging.getLogger(name).setLevel(logging.NOTSET)


def _config(tmp_path: Path, hook: Webhook) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(
        f"""
[notifications]
max_attempts = 1

[[sources]]
name = "lab"
pages = ["http://127.0.0.1:9/actions"]

[[targets]]
name = "webhook"
url = "{hook.url()}"

[[targets]]
name = "bogus"
url_env = "{BOGUS_ENV}"

[[subscriptions]]
name = "unit"
targets = ["webhook"]
organizations = ["4"]
""",
        encoding="utf-8",
    )
    return path


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records)


def _assert_no_fragment(text: str) -> None:
    leaks = [f for f in FRAGMENTS if f in text]
    assert leaks == [], (leaks, text)


@pytest.mark.parametrize(
    "options", [[], ["--dry-run"], ["--force-to", "hook"]], ids=str
)
def test_a_broken_target_does_not_stop_testing_another(
    broken: str,
    hook: Webhook,
    tmp_path: Path,
    options: list[str],
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    config = _config(tmp_path, hook)
    options = [hook.url() if o == "hook" else o for o in options]

    result = _invoke("notify", "test", "webhook", "-c", str(config), *options)

    assert result.exit_code == 0, (result.output, result.exception)
    if "--dry-run" in options:
        assert "This is a test message from planwatch" in result.output
    else:
        assert "test message sent to webhook" in result.output
        assert len(hook.wait_for(1)) == 1
    warnings = [r for r in everything_logged.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in warnings] == [
        "target 'bogus' cannot be used and is left out"
    ]
    _assert_no_fragment(result.output + _logged(everything_logged))
    assert "10.0.0.1" not in warnings[0].getMessage()  # nothing of its URL


def test_an_unknown_target_is_named_not_a_broken_one(
    broken: str, hook: Webhook, tmp_path: Path
) -> None:
    config = _config(tmp_path, hook)

    result = _invoke("notify", "test", "NOSUCHNAME", "-c", str(config))

    assert result.exit_code != 0
    assert (
        str(result.exception) == "no target named 'NOSUCHNAME'; known: webhook, bogus"
    )


def test_the_broken_target_itself_is_refused(
    broken: str, hook: Webhook, tmp_path: Path
) -> None:
    config = _config(tmp_path, hook)

    result = _invoke("notify", "test", "bogus", "-c", str(config))

    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith("target 'bogus': ")
    _assert_no_fragment(str(result.exception))
    assert hook.keys() == []


def test_preview_of_a_subscription_needs_only_its_targets(
    broken: str, hook: Webhook, tmp_path: Path
) -> None:
    config = _config(tmp_path, hook)
    db_path = str(tmp_path / "preview.sqlite")
    database = open_database(db_path)
    try:
        seed(database)
        with pytest.MonkeyPatch.context() as patch:  # record needs the whole routing
            patch.setenv(BOGUS_ENV, hook.url())
            routing = load_config(config).resolved_targets()
        record(database, routing, [status_change("10")], now=T0)
    finally:
        database.close()

    unit = _invoke(
        "notify", "preview", "-s", "unit", "-c", str(config), "--db", db_path
    )
    unknown = _invoke("notify", "preview", "-s", "nope", "-c", str(config))
    everything = _invoke("notify", "preview", "-c", str(config), "--db", db_path)

    assert unit.exit_code == 0, (unit.output, unit.exception)
    assert "1.1. Bike lanes" in unit.output
    assert str(unknown.exception) == (
        "no subscription named 'nope'; known: unit, target:bogus"
    )
    assert isinstance(everything.exception, ConfigError)  # it renders for bogus too
    assert "target 'bogus'" in str(everything.exception)


def test_check_run_and_send_still_refuse_the_file(
    broken: str, hook: Webhook, tmp_path: Path
) -> None:
    config = _config(tmp_path, hook)
    db_path = str(tmp_path / "send.sqlite")

    with pytest.raises(ConfigError, match=r"^target 'bogus': "):
        load_config(config).resolved_targets()
    send = _invoke("notify", "send", "-c", str(config), "--db", db_path)

    assert isinstance(send.exception, ConfigError)
    assert str(send.exception).startswith("target 'bogus': ")
    assert not Path(db_path).exists()  # refused before anything was done
    assert hook.keys() == []


@pytest.mark.parametrize("url", sorted(BROKEN.values()), ids=sorted(BROKEN))
def test_an_unreadable_url_logs_no_part_of_its_password(
    url: str, everything_logged: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match=r"^target 'bogus': ") as refused:
        Target("bogus", url)

    _assert_no_fragment(str(refused.value) + repr(refused.value))
    apprise_said = [r for r in everything_logged.records if r.name == "apprise"]
    assert apprise_said == []  # planwatch's error is the one report
    assert secrets.redact(f"Apprise: {url} S...Z ...dXYZ") == "Apprise: *** *** ***"


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.parametrize(
    "command", ["check", "notify test bogus", "notify test webhook"]
)
def test_the_cli_prints_one_line_and_no_part_of_the_password(
    kind: str, command: str, hook: Webhook, tmp_path: Path
) -> None:
    """In a real process: the log lines went to stderr, where the newcomer saw them."""
    config = _config(tmp_path, hook)
    env = {**os.environ, BOGUS_ENV: BROKEN[kind]}
    env.pop("PLANWATCH_FORCE_TO", None)

    done = subprocess.run(
        [*PLANWATCH, "-v", *command.split(), "-c", str(config), "--dry-run"]
        if command.startswith("notify")
        else [
            *PLANWATCH,
            "-v",
            "check",
            "-c",
            str(config),
            "--db",
            str(tmp_path / "c"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )

    _assert_no_fragment(done.stdout + done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if command == "notify test webhook":
        assert done.returncode == 0, done.stderr
        assert len(lines) == 1, lines
        assert "target 'bogus' cannot be used" in lines[0]
    else:
        assert done.returncode == 2
        assert len(lines) == 1, lines
        assert lines[0].startswith("planwatch: error: target 'bogus': ")


def test_preview_without_a_config_names_the_one_subscription_it_knows() -> None:
    # The error was the half sentence "without a config (-c) only the default
    # subscription".
    unknown = _invoke("notify", "preview", "-s", "unit")

    assert str(unknown.exception) == (
        "no subscription named 'unit'; known: everything (the only one without a "
        "config; give -c CONFIG for its subscriptions)"
    )
