"""The ``planwatch`` command."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import stamina
import typer
from platformdirs import user_data_dir

from monitor.charset import decode_body
from monitor.config import (
    Config,
    Name,
    SourceConfig,
    TargetConfig,
    is_http_url,
    load_config,
)
from monitor.pipeline import CheckOutcome, CheckReport, read_page
from monitor.saved import saved_page
from monitor.tables import TerminalConsole, folding_table, printable
from notifiers.render import describe
from parsers.data import utc_time
from parsers.errors import ConfigError, PlanwatchError
from parsers.jsonout import page_to_json
from storage.db import Database, open_database, open_existing

app = typer.Typer(
    help="Watch Kausal Watch climate plans, keep their history, alert on change.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# No console markup: names, URLs and reasons printed come from sites planwatch does
# not control, and "[phase 2]" would vanish as a style, "[/]" end the command.
# Bold text is asked for with rich's Text, never by writing tags into a string.
# Control characters in them are written as escapes (monitor.tables.printable).
out = TerminalConsole(markup=False)
err = TerminalConsole(stderr=True, markup=False)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="PLANWATCH_DB",
        help="SQLite file path or SQLAlchemy URL (default: the user data directory).",
    ),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config file.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def default_db() -> str:
    return str(Path(user_data_dir("planwatch")) / "planwatch.sqlite")


def _open(db: str | None, config: Config | None = None) -> Database:
    """The database of a command that writes: set up on first use."""
    return open_database(_target(db, config))


def _open_existing(db: str | None, config: Config | None = None) -> Database:
    """The database of a command that reads (or only changes what is there): a
    path that holds none is refused, so a typo creates no empty database."""
    return open_existing(_target(db, config))


def _target(db: str | None, config: Config | None) -> str:
    return db or (config.planwatch.db if config else None) or default_db()


class _PrintableFormatter(logging.Formatter):
    """Log lines quote scraped names and URLs: no control character of theirs
    reaches the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


@app.callback()
def _setup(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        _PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, handlers=[handler]
    )
    # stamina logs each retry as a bare "stamina.retry_scheduled" WARNING; planwatch
    # logs its own, with the attempt and the (redacted) URL.
    stamina.instrumentation.set_on_retry_hooks([])


@app.command()
def demo(
    db: Annotated[
        str,
        typer.Option("--db", help="The SQLite file to leave the demo's history in."),
    ] = "planwatch-demo.sqlite",
) -> None:
    """Check the lab-2024 pages before and after real edits, on 127.0.0.1."""
    from monitor.demo import run_demo

    # As a Path, "postgresql://host/db" became the folders "postgresql:/host/".
    if "://" in db:
        raise PlanwatchError(
            f"demo --db {db}: the demo leaves its history in an SQLite file; "
            "give a file's path, not a database URL"
        )
    result = run_demo(Path(db))
    out.print(
        f"baseline: {result.baseline.pages} pages, outcome {result.baseline.outcome}, "
        f"{len(result.baseline.events)} events"
    )
    out.print(
        f"after the edits: {result.after.pages} pages, outcome {result.after.outcome}, "
        f"{len(result.after.events)} changes found:"
    )
    _print_events(
        [(e.kind.value, e.subject, describe(e), e.url) for e in result.after.events]
    )
    for delivery in result.deliveries:
        out.print(
            f"notification {delivery.notification_id} to {delivery.target}: "
            f"{delivery.status}"
        )
    for message in result.received:
        out.rule("the notification the local receiver got")
        out.print(str(message.get("title")), style="bold", highlight=False)
        out.print(str(message.get("message")), markup=False, highlight=False)
    out.rule()
    out.print(
        f"history database: {result.database}  "
        f"(try: planwatch changes --db {result.database})"
    )


@app.command()
def check(
    urls: Annotated[list[str] | None, typer.Argument(help="Pages to check.")] = None,
    config_path: ConfigOption = None,
    db: DbOption = None,
    notify: Annotated[
        list[str] | None, typer.Option("--notify", help="Apprise URL to notify.")
    ] = None,
    source: Annotated[
        str, typer.Option(help="Source name for URLs given here.")
    ] = "cli",
    json_out: JsonOption = False,
) -> None:
    """Check every configured page (or the URLs given) once, now."""
    from monitor.progress import page_progress, quiet_retries
    from monitor.service import check_sources

    config = _config(config_path, urls, notify, source)
    targets = config.resolved_targets()
    database = _open(db, config)
    try:
        with quiet_retries(), page_progress(err, config.sources) as on_page:
            reports, deliveries = check_sources(
                database, config, targets, on_page=on_page
            )
    finally:
        database.close()
    if json_out:
        for report in reports:
            print(json.dumps(_report_json(report)))
    else:
        _print_check(reports, deliveries)
    # For cron and scripts: a source that could not be read is not a success.
    if any(r.outcome in (CheckOutcome.FAILED, CheckOutcome.ANOMALY) for r in reports):
        raise typer.Exit(1)


def _print_check(reports: list[CheckReport], deliveries: list[Any]) -> None:
    for report in reports:
        out.print(
            f"{report.source}: {report.outcome} ({report.pages} pages, "
            f"{report.failed_pages} failed, {len(report.events)} changes)"
        )
        _print_events(
            [(e.kind.value, e.subject, describe(e), e.url) for e in report.events]
        )
    for delivery in deliveries:
        line = f"notification to {delivery.target}: {delivery.status}"
        out.print(line + (f" ({delivery.error})" if delivery.error else ""))


@app.command()
def run(
    config_path: ConfigOption = None,
    db: DbOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="When another planwatch holds the database, wait for it."
        ),
    ] = False,
    exclusive: Annotated[
        bool,
        typer.Option(
            "--exclusive",
            help="PostgreSQL: act alone instead of sharing the work with other runs.",
        ),
    ] = False,
) -> None:
    """Check every configured source on its schedule until stopped."""
    from monitor.progress import log_each_check
    from monitor.service import run_forever

    log_each_check()
    if config_path is None:  # run takes no URLs: "or page URLs" sent users astray
        raise PlanwatchError("nothing to run: give --config FILE (-c)")
    config = _config(config_path, None, None, "cli")
    targets = config.resolved_targets()
    database = _open(db, config)
    try:
        run_forever(database, config, targets, wait=wait, exclusive=exclusive)
    finally:
        database.close()


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(help="A saved page (HTML).")],
    url: Annotated[str, typer.Option(help="The URL the page was fetched from.")],
    observed_at: Annotated[
        str | None, typer.Option(help="ISO-8601 time relative times are read against.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Print what the parser sees in a saved page."""
    if not is_http_url(url):
        raise ConfigError(
            f"--url {url!r}: not an absolute http(s) URL; give the address the page "
            "was fetched from, e.g. https://ilmastovahti.espoo.fi/en/actions/IL-15"
        )
    moment = parse_moment("--observed-at", observed_at)
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise PlanwatchError(f"cannot read {file}: {exc.strerror}") from None
    # Decoded as a check decodes a fetched body (BOM, <meta charset>, detection),
    # with no Content-Type to go by.
    text = decode_body(saved_page(body, str(file)), None).text
    page = read_page(text, url, observed_at=moment)
    data = page_to_json(page)
    if json_out:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(
        f"{data['kind']} page ({data['outcome']}), language {data['language']}, "
        f"{len(data['actions'])} actions"
    )
    for anomaly in data["anomalies"]:
        out.print(f"anomaly {anomaly['code']}: {anomaly['detail']}")
    table = folding_table(
        "id", "identifier", "name", "status", "phase", "tasks", "updated"
    )
    for action in data["actions"]:
        table.add_row(
            action["id"],
            action["identifier"],
            action["name"],
            (action["status"] or {}).get("identifier"),
            (action["phase"] or {}).get("identifier"),
            str((action["tasks"] or {}).get("total")),
            (action["updated_at"] or {}).get("exact")
            or (action["updated_at"] or {}).get("latest"),
        )
    out.print(table)


def _config(
    path: Path | None, urls: list[str] | None, notify: list[str] | None, source: str
) -> Config:
    if path is not None and urls:
        raise PlanwatchError("give either --config or URLs, not both")
    if path is not None:
        config = load_config(path)
        if not config.sources:
            raise PlanwatchError(
                f"{path}: nothing to check: the config has no sources; add a "
                "[[sources]] table"
            )
        return config
    if not urls:
        raise PlanwatchError("nothing to check: give --config FILE or page URLs")
    check_source_name(source)
    from pydantic import SecretStr, ValidationError

    try:
        return Config(
            sources=[SourceConfig(name=source, pages=urls)],
            targets=[
                TargetConfig(name=f"notify-{i + 1}", url=SecretStr(url))
                for i, url in enumerate(notify or [])
            ],
        )
    except ValidationError as exc:
        from monitor.config import _explain

        raise PlanwatchError(f"command line: {_explain(exc)}") from None


def check_source_name(source: str) -> None:
    """A --source is a name a config would give: the web view addresses sources
    by it. Refused naming the option, not the config key it becomes."""
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(Name).validate_python(source)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise PlanwatchError(f"--source {source!r}: {message}") from None


def parse_moment(
    name: str, value: str | None, *, end_of_day: bool = False
) -> datetime | None:
    """An ISO-8601 time (UTC unless it says otherwise) or a date: every time option.

    A date means its start, or with ``end_of_day`` its last microsecond: ``--until
    2026-06-30`` includes the 30th, ``--as-of 2026-06-01`` is the state that evening.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        day = _iso_date(text)
        if day is not None:
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
        return utc_time(text)
    except ValueError:
        raise PlanwatchError(
            f"{name}: not an ISO-8601 date or time: {value!r} "
            "(e.g. 2026-06-01 or 2026-06-01T09:30:00+03:00)"
        ) from None
    except OverflowError:
        raise PlanwatchError(
            f"{name}: {value!r} is outside the years 1 to 9999 in UTC"
        ) from None


def _iso_date(text: str) -> date | None:
    """A date in any ISO-8601 spelling (2026-12-05, 20261205, 2026-W49-6), or None."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def as_of_moment(value: str | None) -> datetime:
    """``--as-of``: a time, or a bare date's end (README, Commands); default now."""
    return parse_moment("--as-of", value, end_of_day=True) or datetime.now(UTC)


def _report_json(report: CheckReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "check_id": report.check_id,
        "outcome": report.outcome.value,
        "observed_at": report.observed_at.isoformat(),
        "pages": report.pages,
        "failed_pages": report.failed_pages,
        "events": [
            {
                "kind": e.kind.value,
                "action_id": e.action_id,
                "field": e.field,
                "before": e.before,
                "after": e.after,
            }
            for e in report.events
        ],
    }


def _print_events(
    rows: list[tuple[str, str, str, str | None]], last: str = "where"
) -> None:
    """Events as a table; ``last`` heads the fourth column (a page, or a time)."""
    if not rows:
        out.print("no changes")
        return
    table = folding_table("kind", "about", "change", last)
    for kind, subject, text, where in rows:
        table.add_row(kind, subject, text, where or "")
    out.print(table)


# Commands of other areas live in their own modules and register themselves on `app`
# when imported here (one line each, at the end of this block).
from monitor import cli_history  # noqa: E402, F401, I001
from monitor import cli_web  # noqa: E402, F401
from monitor import cli_notify  # noqa: E402, F401
from monitor import cli_changes  # noqa: E402, F401
from monitor import cli_sites  # noqa: E402, F401


def main() -> None:
    try:
        app()
    except PlanwatchError as exc:
        # One line, however long: paths and URLs in it stay whole for copying.
        err.print(
            f"planwatch: error: {exc}", markup=False, highlight=False, soft_wrap=True
        )
        sys.exit(2)
