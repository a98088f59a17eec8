"""The ``planwatch`` command."""

from __future__ import annotations

import csv
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from platformdirs import user_data_dir
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from monitor.config import Config, SourceConfig, TargetConfig, load_config
from monitor.pipeline import CheckReport, observe_saved, record_check
from notifiers.render import describe
from parsers.errors import PlanwatchError
from parsers.jsonout import page_to_json
from parsers.kausal import parse_page
from storage import repo
from storage.db import Database, create_db_engine, open_database, upgrade
from storage.models import EventRow, Source

app = typer.Typer(
    help="Watch Kausal Watch climate plans, keep their history, alert on change.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)

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
    target = db or (config.planwatch.db if config else None) or default_db()
    return open_database(target)


@app.callback()
def _setup(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def demo(
    db: Annotated[
        Path, typer.Option("--db", help="Where to leave the demo's history database.")
    ] = Path("planwatch-demo.sqlite"),
) -> None:
    """Check the lab-2024 pages before and after real edits, on 127.0.0.1."""
    from monitor.demo import run_demo

    result = run_demo(db)
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
        out.print(f"[bold]{message.get('title')}[/bold]", highlight=False)
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
    from monitor.service import check_sources

    config = _config(config_path, urls, notify, source)
    targets = config.resolved_targets()
    database = _open(db, config)
    try:
        reports, deliveries = check_sources(database, config, targets)
    finally:
        database.close()
    if json_out:
        for report in reports:
            print(json.dumps(_report_json(report)))
        return
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
def run(config_path: ConfigOption = None, db: DbOption = None) -> None:
    """Check every configured source on its schedule until stopped."""
    from monitor.service import run_forever

    config = _config(config_path, None, None, "cli")
    targets = config.resolved_targets()
    database = _open(db, config)
    try:
        run_forever(database, config, targets)
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
    moment = _iso_option("--observed-at", observed_at)
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise PlanwatchError(f"cannot read {file}: {exc.strerror}") from None
    page = parse_page(body, url, observed_at=moment)
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
    table = Table("id", "identifier", "name", "status", "phase", "tasks", "updated")
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


@app.command()
def changes(
    db: DbOption = None,
    since: Annotated[str | None, typer.Option(help="ISO-8601 time or date.")] = None,
    json_out: JsonOption = False,
) -> None:
    """List the changes found, oldest first."""
    moment = _iso_option("--since", since)
    database = _open(db)
    try:
        with database.session() as session:
            query = (
                select(EventRow, Source.name)
                .join(Source, Source.id == EventRow.source_id)
                .order_by(EventRow.observed_at, EventRow.id)
            )
            if moment is not None:
                query = query.where(EventRow.observed_at >= moment)
            rows = session.execute(query).all()
            events = [repo.event_from_row(row, name) for row, name in rows]
    finally:
        database.close()
    if json_out:
        for event in events:
            print(
                json.dumps(
                    {
                        "kind": event.kind.value,
                        "observed_at": event.observed_at.isoformat(),
                        "source": event.source,
                        "action_id": event.action_id,
                        "action_identifier": event.action_identifier,
                        "field": event.field,
                        "before": event.before,
                        "after": event.after,
                    },
                    ensure_ascii=False,
                )
            )
        return
    _print_events(
        [
            (
                e.kind.value,
                e.subject,
                describe(e),
                e.observed_at.isoformat(timespec="seconds"),
            )
            for e in events
        ]
    )


@app.command(name="import")
def import_(
    manifest: Annotated[
        Path, typer.Argument(help="CSV with header url,observed_at,path.")
    ],
    db: DbOption = None,
    source: Annotated[
        str, typer.Option(help="Source name to file the pages under.")
    ] = "import",
) -> None:
    """Load saved pages as if they had been fetched at the manifest's times."""
    checks = _read_manifest(manifest)
    database = _open(db)
    try:
        for observed_at, pages in sorted(checks.items()):
            observations = [
                observe_saved(url, body, observed_at) for url, body in pages
            ]
            report = record_check(
                database, source, observations, observed_at=observed_at
            )
            out.print(
                f"{observed_at.isoformat()}: {report.outcome}, "
                f"{len(report.events)} changes"
            )
    finally:
        database.close()


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the database schema to this version's (back the file up first)."""
    target = db or default_db()
    engine = create_db_engine(target)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    out.print("database schema is current")


def _config(
    path: Path | None, urls: list[str] | None, notify: list[str] | None, source: str
) -> Config:
    if path is not None and urls:
        raise PlanwatchError("give either --config or URLs, not both")
    if path is not None:
        return load_config(path)
    if not urls:
        raise PlanwatchError("nothing to check: give --config FILE or page URLs")
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


def _read_manifest(path: Path) -> dict[datetime, list[tuple[str, bytes]]]:
    checks: dict[datetime, list[tuple[str, bytes]]] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"url", "observed_at", "path"} <= set(
                reader.fieldnames
            ):
                raise PlanwatchError(f"{path}: the header must be url,observed_at,path")
            for number, row in enumerate(reader, start=2):
                where = f"{path}, line {number}"
                moment = _iso_option(f"{where}: observed_at", row["observed_at"])
                assert moment is not None
                page = path.parent / row["path"]
                try:
                    body = page.read_bytes()
                except OSError as exc:
                    raise PlanwatchError(
                        f"{where}: cannot read {page}: {exc.strerror}"
                    ) from None
                checks.setdefault(moment, []).append((row["url"], body))
    except OSError as exc:
        raise PlanwatchError(f"cannot read manifest {path}: {exc.strerror}") from None
    return checks


def _iso_option(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PlanwatchError(f"{name}: not an ISO-8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def _print_events(rows: list[tuple[str, str, str, str | None]]) -> None:
    if not rows:
        out.print("no changes")
        return
    table = Table("kind", "about", "change", "where")
    for kind, subject, text, where in rows:
        table.add_row(kind, subject, text, where or "")
    out.print(table)


# Commands of other areas live in their own modules and register themselves on `app`
# when imported here (one line each, at the end of this block).
# (none yet)
from monitor import cli_web  # noqa: E402, F401


def main() -> None:
    try:
        app()
    except PlanwatchError as exc:
        err.print(f"planwatch: error: {exc}", markup=False, highlight=False)
        sys.exit(2)
