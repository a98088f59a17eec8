"""History commands: changes, history, show, export, sources, import, db.

They read through ``Database.reader()``, which on SQLite never takes the write lock:
a maintainer's query runs while ``planwatch run`` checks, without either waiting.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.cli import (
    ConfigOption,
    DbOption,
    JsonOption,
    _open,
    _open_existing,
    _print_events,
    app,
    as_of_moment,
    check_source_name,
    default_db,
    out,
    parse_moment,
)
from monitor.config import Config, is_http_url, load_config
from monitor.pipeline import observe_saved, record_check
from monitor.saved import MAX_PAGE_BYTES, saved_page
from monitor.tables import folding_table, printable
from notifiers.render import describe
from parsers.errors import PlanwatchError
from storage import export as exporting
from storage import history, retention
from storage.db import Database, upgrade_database
from storage.events import Event, EventKind
from storage.models import Source
from storage.warc import ArchivedPage, group_crawls, looks_like_warc, read_warc

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="Only this source (when a name is ambiguous)."),
]


# -- changes ---------------------------------------------------------------------------


@app.command()
def changes(
    db: DbOption = None,
    since: Annotated[
        str | None, typer.Option(help="From this ISO time or date on.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to this ISO time, or the end of this date.")
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", "--source", help="Only this source (repeatable)."),
    ] = None,
    organization: Annotated[
        str | None,
        typer.Option(help="Only this organization's actions (id or name)."),
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (id, identifier or URL).")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only these kinds (repeatable or comma-separated)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """List the changes found, oldest first."""
    wanted = history.ChangeFilter(
        since=parse_moment("--since", since),
        until=parse_moment("--until", until, end_of_day=True),
        sources=tuple(site or ()),
        organization=organization,
        action=action,
        kinds=_kinds(kind),
    )
    with _reading(db) as session:
        events = history.find_changes(session, wanted)
    if json_out:
        for event in events:
            print(json.dumps(change_json(event), ensure_ascii=False))
        return
    _print_events(
        [
            (
                e.kind.value,
                f"{e.source}: {e.subject}",
                describe(e),
                e.observed_at.isoformat(timespec="seconds"),
            )
            for e in events
        ],
        last="when",  # the time a change was observed, headed "where"
    )


def change_json(event: Event) -> dict[str, Any]:
    """The documented line of ``planwatch changes --json``."""
    return {
        "kind": event.kind.value,
        "observed_at": event.observed_at.isoformat(),
        "source": event.source,
        "action_id": event.action_id,
        "action_identifier": event.action_identifier,
        "field": event.field,
        "before": event.before,
        "after": event.after,
    }


def _kinds(values: Sequence[str] | None) -> tuple[str, ...]:
    kinds = [k.strip() for value in values or () for k in value.split(",") if k.strip()]
    known = {k.value for k in EventKind}
    for kind in kinds:
        if kind not in known:
            raise PlanwatchError(
                f"--kind {kind}: not a change kind; known: {', '.join(sorted(known))}"
            )
    return tuple(kinds)


# -- history and show ------------------------------------------------------------------


@app.command(name="history")
def history_(
    action: Annotated[
        str, typer.Argument(help="Platform id, identifier or the action page's URL.")
    ],
    db: DbOption = None,
    source: SourceOption = None,
    json_out: JsonOption = False,
) -> None:
    """Every version of one action, with what changed."""
    with _reading(db) as session:
        ref = history.one_action(session, action, source)
        found = history.action_history(session, ref)
    if json_out:
        print(json.dumps(history_json(found), ensure_ascii=False, indent=1))
        return
    _print_history(found)


def history_json(found: history.ActionHistory) -> dict[str, Any]:
    latest = found.versions[-1].state if found.versions else {}
    tied = {id(e) for v in found.versions for e in found.events_of(v)}
    return {
        "source": found.ref.source,
        "action_id": found.ref.platform_id,
        "identifier": found.ref.identifier,
        "name": exporting.display_name(latest.get("names")),
        "first_seen_at": found.first_seen_at.isoformat(),
        "last_seen_at": found.last_seen_at.isoformat(),
        "removed_at": _iso(found.removed_at),
        "versions": [
            {
                "valid_from": version.valid_from.isoformat(),
                "valid_to": _iso(version.valid_to),
                "changed_fields": version.changed,
                "changes": [change_json(e) for e in found.events_of(version)],
                "state": version.state,
            }
            for version in found.versions
        ],
        "other_changes": [change_json(e) for e in found.events if id(e) not in tied],
    }


def _print_history(found: history.ActionHistory) -> None:
    latest = found.versions[-1].state if found.versions else {}
    name = exporting.display_name(latest.get("names")) or ""
    out.print(
        Text.assemble(
            (
                printable(
                    f"{found.ref.source}: "
                    f"{found.ref.identifier or found.ref.platform_id}. {name}"
                ),
                "bold",
            ),
            f" (id {found.ref.platform_id}), seen "
            f"{_day(found.first_seen_at)} – {_day(found.last_seen_at)}"
            + (f", removed {_day(found.removed_at)}" if found.removed_at else ""),
        ),
        highlight=False,
    )
    table = folding_table("from", "to", "status", "phase", "tasks", "what changed")
    for version in found.versions:
        state = version.state
        events = found.events_of(version)
        if events:
            what = "\n".join(describe(e) for e in events)
        elif version.changed is None:
            what = "first seen"
        else:
            what = ", ".join(version.changed) or "(details only)"
        table.add_row(
            _stamp(version.valid_from),
            _stamp(version.valid_to) if version.valid_to else "now",
            state.get("status") or "",
            state.get("phase") or "",
            _tasks(state),
            what,
        )
    out.print(table)
    tied = {id(e) for v in found.versions for e in found.events_of(v)}
    for event in found.events:
        if id(event) not in tied:
            out.print(
                f"{_stamp(event.observed_at)}  {describe(event)}", highlight=False
            )


@app.command()
def show(
    reference: Annotated[
        str, typer.Argument(help="A source name, or an organization's id or name.")
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO time, or a date (its end); default: now."),
    ] = None,
    db: DbOption = None,
    source: SourceOption = None,
    json_out: JsonOption = False,
) -> None:
    """The whole table of a source or an organization as it stood at a moment."""
    moment = as_of_moment(as_of)
    with _reading(db) as session:
        src, organization = history.source_or_organization(session, reference, source)
        table = history.table_as_of(session, src, moment, organization)
    if json_out:
        print(json.dumps(show_json(table), ensure_ascii=False, indent=1))
        return
    _print_table(table)


def show_json(table: history.Table) -> dict[str, Any]:
    return {
        "source": table.source,
        "as_of": table.as_of.isoformat(),
        "organization": (
            None if table.organization is None else _org_json(table.organization)
        ),
        "actions": [exporting.action_row(table.source, a) for a in table.actions],
        "organizations": [_org_json(o) for o in table.organizations],
    }


def _org_json(record: history.RecordAt) -> dict[str, Any]:
    return {
        "organization_id": record.platform_id,
        "name": exporting.display_name(record.state.get("names")),
        "action_count": record.state.get("action_count"),
        "parent_id": record.state.get("parent_id"),
        "valid_from": record.valid_from.isoformat(),
        "valid_to": _iso(record.valid_to),
    }


def _print_table(table: history.Table) -> None:
    title = table.source
    if table.organization is not None:
        org_name = exporting.display_name(table.organization.state.get("names"))
        title += f", {org_name or 'organization ' + table.organization.platform_id}"
    out.print(
        Text.assemble(
            (printable(title), "bold"),
            f" as of {_stamp(table.as_of)}: {len(table.actions)} actions",
        ),
        highlight=False,
    )
    actions = folding_table(
        "identifier", "name", "status", "phase", "tasks", "done %", "updated", "since"
    )
    for record in table.actions:
        row = exporting.action_row(table.source, record)
        actions.add_row(
            row["identifier"] or record.platform_id,
            row["name"] or "",
            row["status"] or "",
            row["phase"] or "",
            _tasks(record.state),
            "" if row["completion"] is None else str(row["completion"]),
            (row["information_updated"] or "")[:10],
            _day(record.valid_from),
        )
    out.print(actions)
    if table.organization is None and table.organizations:
        orgs = folding_table("organization", "name", "actions", "since")
        for record in table.organizations:
            data = _org_json(record)
            orgs.add_row(
                record.platform_id,
                data["name"] or "",
                "" if data["action_count"] is None else str(data["action_count"]),
                _day(record.valid_from),
            )
        out.print(orgs)


# -- export ----------------------------------------------------------------------------


@app.command(name="export")
def export_(
    what: Annotated[
        str,
        typer.Argument(
            help="records (each action as of --as-of), versions (every version of "
            "every action) or changes."
        ),
    ] = "records",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, json or ndjson.")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
    db: DbOption = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "--site", help="Only this source (repeatable)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="records: ISO time or date.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="changes: from then on.")] = None,
    until: Annotated[str | None, typer.Option(help="changes: up to then.")] = None,
) -> None:
    """Write records, versions or changes as CSV, JSON or NDJSON."""
    if fmt not in exporting.FORMATS:
        raise PlanwatchError(
            f"--format {fmt}: choose one of {', '.join(exporting.FORMATS)}"
        )
    _only_for_its_export(what, {"--since": since, "--until": until, "--as-of": as_of})
    with _reading(db) as session:
        if what == "changes":
            wanted = history.ChangeFilter(
                since=parse_moment("--since", since),
                until=parse_moment("--until", until, end_of_day=True),
                sources=tuple(source or ()),
            )
            rows = [
                exporting.change_row(e) for e in history.find_changes(session, wanted)
            ]
            columns: Sequence[str] = exporting.CHANGE_COLUMNS
        elif what in ("records", "versions"):
            moment = as_of_moment(as_of)
            rows = list(_record_rows(session, what, moment, source or ()))
            columns = (
                exporting.ACTION_COLUMNS
                if what == "records"
                else exporting.VERSION_COLUMNS
            )
        else:
            raise PlanwatchError(f"export {what}: choose records, versions or changes")
    with _output(output) as stream:
        count = exporting.write_rows(rows, columns, fmt, stream)
    if output is not None:
        out.print(f"{count} {what} written to {output}")


EXPORTS = ("records", "versions", "changes")
# A time option the export does not read would look applied and change nothing.
_TIME_OPTIONS = {"--since": "changes", "--until": "changes", "--as-of": "records"}


def _only_for_its_export(what: str, given: dict[str, str | None]) -> None:
    for option, value in given.items():
        reader = _TIME_OPTIONS[option]
        if value is not None and what in EXPORTS and what != reader:
            raise PlanwatchError(
                f"{option} applies to export {reader} only, not to export {what}"
            )


def _record_rows(
    session: Session, what: str, moment: datetime, names: Sequence[str]
) -> Iterator[dict[str, Any]]:
    if names:
        sources = history.named_sources(session, names)
    else:
        sources = list(session.scalars(select(Source).order_by(Source.name)))
    for src in sources:
        if what == "records":
            table = history.table_as_of(session, src, moment)
            for record in table.actions:
                yield exporting.action_row(src.name, record)
            continue
        for version_of in history.all_action_versions(session, src):
            yield exporting.version_row(src.name, *version_of)


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle
    except OSError as exc:
        raise PlanwatchError(f"cannot write {path}: {exc.strerror}") from None


# -- sources ---------------------------------------------------------------------------


@app.command()
def sources(
    db: DbOption = None,
    config_path: ConfigOption = None,
    json_out: JsonOption = False,
) -> None:
    """Each source with its last outcome, last change and next check."""
    config = load_config(config_path) if config_path is not None else None
    intervals = {s.name: s.interval_minutes for s in config.sources} if config else {}
    with _reading(db, config) as session:
        statuses = history.source_statuses(session)
    now = datetime.now(UTC)
    rows = [_source_json(s, intervals.get(s.name), now) for s in statuses]
    known = {s.name for s in statuses}
    rows += [_never_checked(name, now) for name in intervals if name not in known]
    if json_out:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = folding_table(
        "source", "last check", "outcome", "last change", "next check", "actions"
    )
    for row in rows:
        table.add_row(
            row["source"],
            _short(row["last_check_at"]),
            row["last_outcome"] or "",
            _short(row["last_change_at"])
            + (
                f" ({', '.join(row['last_change_kinds'])})"
                if row["last_change_kinds"]
                else ""
            ),
            _short(row["next_check_at"]) or ("" if config else "(give -c)"),
            str(row["actions"]),
        )
    out.print(table)


def _source_json(
    status: history.SourceStatus, interval: float | None, now: datetime
) -> dict[str, Any]:
    next_check = status.next_check_at
    if next_check is None and interval is not None:
        last = status.last_check_at
        next_check = (
            now if last is None else max(now, last + timedelta(minutes=interval))
        )
    return {
        "source": status.name,
        "last_check_at": _iso(status.last_check_at),
        "last_outcome": status.last_outcome,
        "last_change_at": _iso(status.last_change_at),
        "last_change_kinds": list(status.last_events),
        "next_check_at": _iso(next_check),
        "consecutive_failures": status.consecutive_failures,
        "checks": status.checks,
        "actions": status.actions,
    }


def _never_checked(name: str, now: datetime) -> dict[str, Any]:
    return {
        "source": name,
        "last_check_at": None,
        "last_outcome": None,
        "last_change_at": None,
        "last_change_kinds": [],
        "next_check_at": now.isoformat(),
        "consecutive_failures": 0,
        "checks": 0,
        "actions": 0,
    }


# -- import ----------------------------------------------------------------------------


@app.command(name="import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="A manifest (CSV with header url,observed_at,path) or a WARC file."
        ),
    ],
    db: DbOption = None,
    source: Annotated[
        str, typer.Option(help="Source name to file the pages under.")
    ] = "import",
    gap: Annotated[
        float,
        typer.Option(
            help="WARC: minutes without a page that end one crawl (one check)."
        ),
    ] = 30.0,
) -> None:
    """Load saved pages as if they had been fetched at their times."""
    check_source_name(source)
    if not gap > 0:
        raise PlanwatchError(f"--gap {gap}: give a number of minutes above 0")
    crawls = (
        _warc_crawls(path, gap) if looks_like_warc(path) else _manifest_crawls(path)
    )
    if not crawls:
        out.print(f"{path}: no pages to import", highlight=False)
        return
    database = _open(db)
    try:
        _import(database, source, crawls)
    finally:
        database.close()


def _import(
    database: Database, source: str, crawls: Sequence[list[ArchivedPage]]
) -> None:
    with database.reader() as session:
        last = session.scalar(select(Source.last_check_at).where(Source.name == source))
    skipped = 0
    for crawl in crawls:
        observed_at = crawl[0].observed_at
        # History is appended in time order: versions must not start in the past.
        if last is not None and observed_at <= last:
            skipped += 1
            continue
        observations = [
            replace(
                observe_saved(p.url, p.body, p.observed_at, p.status_code or 200),
                headers=p.headers,
            )
            for p in crawl
        ]
        report = record_check(database, source, observations, observed_at=observed_at)
        out.print(
            f"{observed_at.isoformat()}: {report.outcome}, {report.pages} pages, "
            f"{len(report.events)} changes"
        )
    if skipped:
        out.print(
            f"skipped {skipped} checks observed at or before the source's last "
            f"check ({last.isoformat() if last else ''}): already imported or older"
        )


def _warc_crawls(path: Path, gap: float) -> list[list[ArchivedPage]]:
    pages, report = read_warc(path, MAX_PAGE_BYTES)
    for reason, count in sorted(report.skipped.items()):
        out.print(f"{path}: skipped {count} {reason}", highlight=False)
    opened = [
        replace(page, body=saved_page(page.body, f"{path}, {page.url}"))
        for page in pages
    ]
    return list(group_crawls(opened, timedelta(minutes=gap)))


def _manifest_crawls(path: Path) -> list[list[ArchivedPage]]:
    """Manifest rows with the same observed_at are one check."""
    checks: dict[datetime, list[ArchivedPage]] = {}
    try:
        # A spreadsheet's "CSV UTF-8" starts with a byte order mark.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"url", "observed_at", "path"} <= set(
                reader.fieldnames
            ):
                raise PlanwatchError(f"{path}: the header must be url,observed_at,path")
            for number, row in enumerate(reader, start=2):
                where = f"{path}, line {number}"
                _check_manifest_row(where, row)
                moment = parse_moment(f"{where}: observed_at", row["observed_at"])
                assert moment is not None
                page = _manifest_page(where, path, row["path"])
                try:
                    body = saved_page(page.read_bytes(), f"{where}: {page}")
                except OSError as exc:
                    raise PlanwatchError(
                        f"{where}: cannot read {page}: {exc.strerror}"
                    ) from None
                checks.setdefault(moment, []).append(
                    ArchivedPage(row["url"].strip(), moment, 200, {}, body)
                )
    except OSError as exc:
        raise PlanwatchError(f"cannot read manifest {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        # Neither a WARC (looks_like_warc said no) nor readable CSV text.
        raise PlanwatchError(
            f"{path}: neither a WARC file nor a UTF-8 CSV manifest with the header "
            f"url,observed_at,path ({type(exc).__name__})"
        ) from None
    return [checks[moment] for moment in sorted(checks)]


def _check_manifest_row(where: str, row: dict[str, str | None]) -> None:
    for column in ("url", "observed_at", "path"):
        value = row.get(column)
        if not value or not value.strip():
            raise PlanwatchError(
                f"{where}: no {column}; each row is url,observed_at,path"
            )
        if "\x00" in value:
            raise PlanwatchError(f"{where}: {column} holds a NUL byte")
    url = (row["url"] or "").strip()
    # urlsplit drops tabs and newlines anywhere; a URL holds no blank or control.
    if not is_http_url(url) or not all(c.isprintable() and c != " " for c in url):
        raise PlanwatchError(
            f"{where}: url {url!r} is not an absolute http(s) URL; give the "
            "address the page was fetched from, e.g. https://example.org/actions/1"
        )


def _manifest_page(where: str, manifest: Path, name: str | None) -> Path:
    """The file a row names, which must lie in the manifest's folder (symlinks
    resolved): a manifest from elsewhere must not read /etc/passwd into the history."""
    folder = manifest.parent.resolve()
    page = (folder / (name or "")).resolve()
    if not page.is_relative_to(folder):
        raise PlanwatchError(
            f"{where}: path {name!r} lies outside the manifest's folder {folder}; "
            "paths are relative to the manifest and stay inside its folder"
        )
    return page


# -- db --------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the database schema to this version's (back the file up first)."""
    before, after = upgrade_database(db or default_db())
    if before == after:
        out.print(f"database schema is current ({after})")
    else:
        out.print(f"database schema upgraded from {before or 'none'} to {after}")


@db_app.command("prune")
def db_prune(
    keep_days: Annotated[
        int,
        typer.Option(
            "--keep-days",
            help="Keep raw pages younger than this; older ones only if they "
            "introduced a change.",
        ),
    ],
    db: DbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Drop old raw pages; keep every version, event and snapshot's metadata."""
    database = _open_existing(db)
    try:
        with database.sessions.begin() as session:
            report = retention.prune(
                session, keep_days=keep_days, now=datetime.now(UTC), dry_run=dry_run
            )
    finally:
        database.close()
    data = {
        "cutoff": report.cutoff.isoformat(),
        "snapshots_pruned": report.snapshots_pruned,
        "snapshots_kept": report.snapshots_kept,
        "blobs_deleted": report.blobs_deleted,
        "bytes_freed": report.bytes_freed,
        "dry_run": report.dry_run,
    }
    if json_out:
        print(json.dumps(data))
        return
    verb = "would drop" if dry_run else "dropped"
    out.print(
        f"{verb} the raw pages of {report.snapshots_pruned} snapshots older than "
        f"{_stamp(report.cutoff)} ({report.blobs_deleted} blobs, "
        f"{report.bytes_freed} bytes compressed); kept {report.snapshots_kept} "
        "that introduced a change or are a page's latest",
        highlight=False,
    )


# -- helpers ---------------------------------------------------------------------------


@contextlib.contextmanager
def _reading(db: str | None, config: Config | None = None) -> Iterator[Session]:
    database = _open_existing(db, config)
    try:
        with database.reader() as session:
            yield session
    finally:
        database.close()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _day(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d")


def _short(iso: str | None) -> str:
    return "" if iso is None else iso[:16].replace("T", " ")


def _tasks(state: dict[str, Any]) -> str:
    total, done = state.get("tasks_total"), state.get("tasks_completed")
    if total is None:
        return ""
    return f"{done if done is not None else '?'}/{total}"
