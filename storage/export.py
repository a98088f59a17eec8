"""Flat rows of records and changes, written as CSV, JSON or NDJSON.

Column names are the ones the SQL views use (``storage/views.py``), so a spreadsheet
made from ``planwatch export`` and a Datasette table read the same way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TextIO

from parsers.errors import PlanwatchError
from storage.events import Event
from storage.history import RecordAt

FORMATS = ("csv", "json", "ndjson")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ACTION_COLUMNS = (
    "source",
    "action_id",
    "identifier",
    "name",
    "status",
    "phase",
    "tasks_total",
    "tasks_completed",
    "completion",
    "information_updated",
    "responsible",
    "organizations",
    "merged_with",
    "url",
    "valid_from",
    "valid_to",
)
VERSION_COLUMNS = (*ACTION_COLUMNS, "changed_fields")
CHANGE_COLUMNS = (
    "observed_at",
    "source",
    "kind",
    "action_id",
    "action_identifier",
    "organization_id",
    "name",
    "field",
    "before",
    "after",
    "url",
)


def display_name(names: dict[str, Any] | None) -> str | None:
    """The English name, else the first language's: the same rule as the views."""
    if not names:
        return None
    return str(names.get("en") or next(iter(names.values())))


def information_updated(state: dict[str, Any]) -> str | None:
    """The exact time, else the interval a relative time allows."""
    if state.get("updated_exact"):
        return str(state["updated_exact"])
    earliest, latest = state.get("updated_earliest"), state.get("updated_latest")
    if earliest or latest:
        return f"{earliest or '?'}/{latest or '?'}"
    return None


def action_row(source: str, record: RecordAt) -> dict[str, Any]:
    state = record.state
    return {
        "source": source,
        "action_id": record.platform_id,
        "identifier": state.get("identifier"),
        "name": display_name(state.get("names")),
        "status": state.get("status"),
        "phase": state.get("phase"),
        "tasks_total": state.get("tasks_total"),
        "tasks_completed": state.get("tasks_completed"),
        "completion": state.get("completion"),
        "information_updated": information_updated(state),
        "responsible": [
            {"organization_id": pair[0], "role": pair[1]}
            for pair in state.get("responsible") or ()
        ],
        "organizations": list(state.get("organizations") or ()),
        "merged_with": state.get("merged_with"),
        "url": state.get("url"),
        "valid_from": _iso(record.valid_from),
        "valid_to": _iso(record.valid_to),
    }


def version_row(
    source: str, record: RecordAt, changed: Sequence[str] | None
) -> dict[str, Any]:
    return {**action_row(source, record), "changed_fields": changed}


def change_row(event: Event) -> dict[str, Any]:
    return {
        "observed_at": event.observed_at.isoformat(),
        "source": event.source,
        "kind": event.kind.value,
        "action_id": event.action_id,
        "action_identifier": event.action_identifier,
        "organization_id": event.organization_id,
        "name": event.name,
        "field": event.field,
        "before": event.before,
        "after": event.after,
        "url": event.url,
    }


def write_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    stream: TextIO,
) -> int:
    """Write ``rows`` to ``stream``; return how many were written."""
    if fmt not in FORMATS:
        raise PlanwatchError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    if fmt == "csv":
        return _csv(rows, columns, stream)
    if fmt == "ndjson":
        count = 0
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    items = list(rows)
    json.dump(items, stream, ensure_ascii=False, indent=1)
    stream.write("\n")
    return len(items)


def _csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], stream: TextIO) -> int:
    writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in _flat(rows):
        writer.writerow(row)
        count += 1
    return count


def _flat(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    # Spreadsheet cells hold text: lists of ids become "1; 4", structures JSON.
    for row in rows:
        yield {key: _cell(value) for key, value in row.items()}


def _cell(value: Any) -> Any:
    # changed_fields comes as a tuple: its cell read "('completion', 'tasks')".
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # Scraped text a spreadsheet would run as a formula (CSV injection).
        return "'" + value
    return value


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
