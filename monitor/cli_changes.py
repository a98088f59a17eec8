"""``planwatch stale``: which actions are past their plan's staleness lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import staleness
from monitor.cli import (
    DbOption,
    JsonOption,
    _open_existing,
    app,
    as_of_moment,
    out,
)
from monitor.tables import folding_table
from parsers.records import TimelinessLimits
from storage import history, memory
from storage.models import Source
from storage.state import ActionState


@dataclass(frozen=True, slots=True)
class StaleRow:
    source: str
    action_id: str
    identifier: str | None
    name: str | None
    url: str | None
    age: staleness.Age
    line: str
    limits: TimelinessLimits

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "action_id": self.action_id,
            "action_identifier": self.identifier,
            "name": self.name,
            "url": self.url,
            "updated_at": self.age.since.isoformat(),
            "exact": self.age.exact,
            "age_days": int(self.age.days),
            "line": self.line,
            "limit_days": getattr(self.limits, self.line),
        }


def stale_rows(
    session: Session, as_of: datetime, source_name: str | None = None
) -> list[StaleRow]:
    """Active actions past a line at ``as_of``, oldest information first."""
    if source_name is not None:
        sources = history.named_sources(session, [source_name])
    else:
        sources = list(session.scalars(select(Source).order_by(Source.name)))
    rows = []
    for source in sources:
        settings = memory.plan_settings(session, source.id)
        limits = (
            TimelinessLimits(
                settings.target_days, settings.acceptable_days, settings.stale_days
            )
            if settings
            else staleness.DEFAULT_LIMITS
        )
        # The actions as they stood at as_of, as `show --as-of` has them: the
        # latest state would lose one updated or removed since, and judge one
        # planwatch had not yet seen.
        for record in history.table_as_of(session, source, as_of).actions:
            action_id, state = record.platform_id, ActionState.from_json(record.state)
            if not staleness.is_active(state):
                continue
            age = staleness.age(state, as_of)
            line = age.passed(limits) if age else None
            if age is None or line is None:
                continue
            name = state.names.get("en") or next(iter(state.names.values()), None)
            rows.append(
                StaleRow(
                    source.name,
                    action_id,
                    state.identifier,
                    name,
                    state.url,
                    age,
                    line,
                    limits,
                )
            )
    return sorted(rows, key=lambda r: (r.age.since, r.source, r.action_id))


@app.command()
def stale(
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="ISO time, or a date (its end); default: now.",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only this source.", show_default=False)
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """List actions past their plan's staleness lines, oldest information first.

    Ages are counted from the latest moment the information can have been updated,
    so an action shown here is at least that old.
    """
    moment = as_of_moment(as_of)
    database = _open_existing(db)
    try:
        with database.reader() as session:
            rows = stale_rows(session, moment, source)
    finally:
        database.close()
    if json_out:
        for row in rows:
            print(json.dumps(row.to_json(), ensure_ascii=False))
        return
    if not rows:
        out.print(f"no action is past a staleness line at {moment.isoformat()}")
        return
    table = folding_table("source", "action", "updated", "age (days)", "past the line")
    for row in rows:
        updated = row.age.since.date().isoformat()
        label = f"{row.identifier or row.action_id}. {row.name or ''}".strip()
        table.add_row(
            row.source,
            label,
            updated if row.age.exact else f"{updated} or before",
            f"{int(row.age.days)}",
            f"{row.line} ({getattr(row.limits, row.line)} days)",
        )
    out.print(table)
