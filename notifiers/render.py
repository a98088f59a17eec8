"""Turning events into one message: "action, field: before -> after" with a link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.events import Event, EventKind


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    body_format: str = "text"


def render_check(source: str, events: Sequence[Event]) -> Message:
    """One plain-text message listing every event of a check."""
    count = len(events)
    title = f"planwatch: {count} change{'s' if count != 1 else ''} in {source}"
    lines = [line(event) for event in events]
    return Message(title=title, body="\n".join(lines))


def line(event: Event) -> str:
    text = f"{event.subject}, {describe(event)}"
    if event.url:
        text += f" <{event.url}>"
    return _one_line(text)


def describe(event: Event) -> str:
    kind = event.kind
    if kind is EventKind.ACTION_ADDED:
        return "added"
    if kind is EventKind.ACTION_REMOVED:
        return "removed"
    if kind is EventKind.TASKS_CHANGED:
        return f"tasks: {_tasks(event.before)} -> {_tasks(event.after)}" + _task_detail(
            event.detail
        )
    if kind is EventKind.UPDATED:
        return f"information updated: {_value(event.before)} -> {_value(event.after)}"
    if kind in (EventKind.LAYOUT_ANOMALY, EventKind.SOURCE_FAILING):
        return f"{kind.value}: {event.detail.get('reason', '')}".rstrip(": ")
    if kind in (EventKind.LAYOUT_RESTORED, EventKind.SOURCE_RECOVERED):
        return kind.value.replace("_", " ")
    label = event.field or kind.value
    before, after = event.before, event.after
    labels = event.detail.get("labels") if event.detail else None
    if isinstance(labels, dict) and labels:
        before, after = _labelled(labels, before, after)
    return f"{label}: {_value(before)} -> {_value(after)}"


def _labelled(labels: dict[str, Any], before: Any, after: Any) -> tuple[Any, Any]:
    pair = labels.get("en") or next(iter(labels.values()))
    old, new = pair
    return (
        f"{old} ({before})" if old else before,
        f"{new} ({after})" if new else after,
    )


def _tasks(value: Any) -> str:
    if not isinstance(value, dict):
        return _value(value)
    return f"{value.get('completed')}/{value.get('total')} completed"


def _task_detail(detail: dict[str, Any]) -> str:
    parts = []
    for name in detail.get("added", []):
        parts.append(f"added {name!r}")
    for name, (old, new) in (detail.get("states") or {}).items():
        parts.append(f"{name!r} {old} -> {new}")
    for name in detail.get("removed", []):
        parts.append(f"removed {name!r}")
    return f" ({'; '.join(parts)})" if parts else ""


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _one_line(text: str) -> str:
    # Page content is untrusted: it must not add lines or fake entries to a message.
    return " ".join(text.split())
