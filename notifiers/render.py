"""Turning events into messages: "action — field: before → after", with a link.

Messages come from Jinja2 templates in ``notifiers/templates/`` (one per body
format: text, Markdown, HTML) and phrase catalogues in ``templates/lang/`` (en, fi,
sv, de). Every value from a watched page passes through the format's escaping
(:mod:`notifiers.escape`) on its way out, so it cannot add markup, links or lines;
titles hold only planwatch's own words, config names and numbers.

Staleness and deadline events are worded from their ``detail``:

- ``became_stale`` / ``no_longer_stale``: ``age_days`` (else the event's ``after``
  when its field is ``age_days``, as a check records it), ``limit_days`` (the
  staleness line crossed), ``updated_at`` (ISO), ``exact`` (false when the age
  comes from a relative time: the message then says "at least").
- ``task_late`` / ``task_due_soon``: ``task`` (its name), ``due_at`` (ISO date),
  ``days_late`` / ``days_left``.
- any of them: ``reminder`` (the n-th reminder of a condition that still holds).

A detail without them still gives a message, only a shorter one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notifiers import escape
from notifiers.context import Item
from notifiers.targets import LANGUAGES
from storage.events import Event, EventKind
from storage.history import identifier_key

TEMPLATES = Path(__file__).with_name("templates")
_REMOVED_MISSING = re.compile(r"missing from every page on (\d+) checks")


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    body_format: str = "text"


@dataclass(frozen=True, slots=True)
class Block:
    """One action (or organization, or site) and its changes."""

    subject: str
    link: str | None
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    heading: str | None
    blocks: tuple[Block, ...]


class Phrases:
    """One language's catalogue; a missing phrase falls back to English.

    ``timezone`` is the zone dates are read in (a subscription's).
    """

    def __init__(self, language: str, timezone: str = "UTC") -> None:
        if language not in LANGUAGES:
            raise ValueError(
                f"language {language!r} is not one of {', '.join(LANGUAGES)}"
            )
        self.language = language
        self.timezone = timezone
        self._own = _catalogue(language)
        self._english = _catalogue("en")

    def __call__(self, key: str, **values: Any) -> str:
        section, _, name = key.partition(".")
        text = self._own.get(section, {}).get(name) or self._english[section][name]
        return str(text).format(**values)

    def has(self, key: str) -> bool:
        section, _, name = key.partition(".")
        return name in self._english.get(section, {})

    def pick(self, by_language: Mapping[str, Any]) -> Any:
        """The value in this language, else English, else any."""
        for lang in (self.language, "en"):
            if by_language.get(lang):
                return by_language[lang]
        return next((v for v in by_language.values() if v), None)


@cache
def _catalogue(language: str) -> dict[str, dict[str, str]]:
    with (TEMPLATES / "lang" / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


@cache
def _environment(body_format: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Text and Markdown are not HTML; their escaping is the finalize below.
        autoescape=body_format == "html",  # noqa: S701
        finalize=escape.finalizer(body_format),  # type: ignore[arg-type]
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals["link"] = lambda url: escape.link(url, body_format)
    return env


# -- messages -------------------------------------------------------------------


def render_check(
    source: str,
    items: Sequence[Item] | Sequence[Event],
    *,
    language: str = "en",
    body_format: str = "text",
    observed_at: datetime | None = None,
    timezone: str = "UTC",
) -> Message:
    """One message listing every change a check found, in one language."""
    t = Phrases(language, timezone)
    entries = [_as_item(i) for i in items]
    count = len(entries)
    moment = observed_at or (entries[0].event.observed_at if entries else None)
    plural = "one" if count == 1 else "other"
    title = t(f"title.check_{plural}", source=source, count=count)
    intro = t(
        f"text.intro_check_{plural}",
        source=source,
        count=count,
        time=_local(moment, timezone) if moment else "",
    )
    section = Section(None, tuple(_blocks(entries, t)))
    body = _render(body_format, t, intro, [section] if entries else [], None)
    return Message(title, body, body_format)


def render_digest(
    subscription: str,
    items: Sequence[Item],
    *,
    since: datetime | None,
    until: datetime,
    language: str = "en",
    body_format: str = "text",
    timezone: str = "UTC",
) -> Message:
    """A digest: changes grouped by organization, then by action."""
    t = Phrases(language, timezone)
    count = len(items)
    if count:
        plural = "one" if count == 1 else "other"
        title = t(f"title.digest_{plural}", subscription=subscription, count=count)
    else:
        title = t("title.digest_empty", subscription=subscription)
    intro = t(
        "text.intro_digest",
        since=_local(since, timezone) if since else "…",
        until=_local(until, timezone),
        zone=timezone,
    )
    sections = _sections(items, t)
    nothing = None if items else t("text.nothing")
    body = _render(body_format, t, intro, sections, nothing)
    return Message(title, body, body_format)


def render_test(
    target: str, *, language: str = "en", body_format: str = "text"
) -> Message:
    t = Phrases(language)
    body = _render(body_format, t, t("text.test_body", target=target), [], None)
    return Message(t("title.test"), body, body_format)


def _render(
    body_format: str,
    t: Phrases,
    intro: str,
    sections: Sequence[Section],
    nothing: str | None,
) -> str:
    template = _environment(body_format).get_template(f"message.{body_format}.j2")
    return template.render(
        intro=intro,
        sections=sections,
        nothing=nothing,
        footer=t("text.footer"),
        open=t("text.open"),
        lang=t.language,
    ).strip()


def _as_item(value: Item | Event) -> Item:
    if isinstance(value, Item):
        return value
    from notifiers.subscriptions import Facts

    return Item(event=value, facts=Facts(kind=value.kind, source=value.source))


def _blocks(items: Iterable[Item], t: Phrases) -> list[Block]:
    """The changes of each record together, records in order of first mention."""
    subjects: dict[tuple[str | None, str | None, str], tuple[str, str | None]] = {}
    changes: dict[tuple[str | None, str | None, str], list[str]] = {}
    for item in items:
        event = item.event
        key = (event.action_id, event.organization_id, event.source)
        if key not in subjects:
            subjects[key] = (subject(item, t), item.link)
            changes[key] = []
        changes[key].append(describe(event, t.language, t.timezone))
    return [
        Block(title, link, tuple(changes[key]))
        for key, (title, link) in subjects.items()
    ]


def _sections(items: Sequence[Item], t: Phrases) -> list[Section]:
    """Organizations in order of first appearance; site events last."""
    groups: dict[str, list[Item]] = {}
    headings: dict[str, str] = {}
    for item in items:
        event = item.event
        if event.action_id is None and event.organization_id is None:
            key = f"site:{event.source}"
            heading = t("text.site", source=event.source)
        elif item.group is not None:
            key = f"org:{event.source}:{item.group}"
            # A bare "3" read like a count: an unwatched page gives no name.
            heading = t.pick(item.group_names) or t("text.organization", id=item.group)
        else:
            key = f"other:{event.source}"
            heading = t("text.other_actions")
        headings.setdefault(key, heading)
        groups.setdefault(key, []).append(item)
    ordered = sorted(
        groups, key=lambda k: (k.startswith("site:"), list(groups).index(k))
    )
    sections = []
    for key in ordered:
        members = sorted(groups[key], key=_by_identifier)
        sections.append(Section(headings[key], tuple(_blocks(members, t))))
    return sections


# -- one change -----------------------------------------------------------------


def subject(item: Item | Event, t: Phrases | None = None) -> str:
    """Who a change is about: "identifier. name", an organization, or the site."""
    t = t or Phrases("en")
    entry = _as_item(item)
    event = entry.event
    name = t.pick(entry.names) or event.name
    if event.action_id is not None:
        label = event.action_identifier or event.action_id
        return f"{label}. {name}" if name else label
    if event.organization_id is not None:
        return str(name or event.organization_id)
    return t("text.site", source=event.source)


def describe(event: Event, language: str = "en", timezone: str = "UTC") -> str:
    """A change in words, without its subject: "status: On time → Late"; a date
    from a moment (an update time) is that moment's date in ``timezone``."""
    t = Phrases(language, timezone)
    kind = event.kind
    special = _SPECIAL.get(kind)
    if special is not None:
        text = str(special(event, t))
        if (event.detail or {}).get("reminder"):
            text = f"{t('values.reminder')}: {text}"
        return text
    field = event.field or kind.value
    label = t(f"fields.{field}") if t.has(f"fields.{field}") else field
    before, after = _before_after(event, t)
    return f"{label}: {before} → {after}"


def _before_after(event: Event, t: Phrases) -> tuple[str, str]:
    detail = event.detail or {}
    for key in ("labels", "languages"):
        pairs = detail.get(key)
        if isinstance(pairs, dict) and pairs:
            pair = t.pick({k: v for k, v in pairs.items() if isinstance(v, list)})
            if pair and len(pair) == 2:
                old = pair[0] if pair[0] else event.before
                new = pair[1] if pair[1] else event.after
                return _value(old, t), _value(new, t)
    if event.kind is EventKind.COMPLETION_CHANGED:
        return _percent(event.before, t), _percent(event.after, t)
    if event.kind is EventKind.UPDATED:
        return _date(event.before, t), _date(event.after, t)
    return _value(event.before, t), _value(event.after, t)


def _added(event: Event, t: Phrases) -> str:
    if (event.detail or {}).get("reappeared"):
        return t("events.action_reappeared")
    return t("events.action_added")


def _removed(event: Event, t: Phrases) -> str:
    reason = str((event.detail or {}).get("reason") or "")
    if reason.startswith("its page answers not found"):
        return t("events.removed_not_found")
    missing = _REMOVED_MISSING.search(reason)
    if missing:
        return t("events.removed_missing", checks=missing.group(1))
    base = t("events.action_removed")
    return f"{base} ({reason})" if reason else base


def _tasks(event: Event, t: Phrases) -> str:
    text = f"{t('fields.tasks')}: {_count(event.before, t)} → {_count(event.after, t)}"
    detail = event.detail or {}
    parts = [t("values.task_added", name=n) for n in detail.get("added", [])]
    for name, pair in (detail.get("states") or {}).items():
        old, new = [*list(pair), None, None][:2]
        parts.append(
            t(
                "values.task_state",
                name=name,
                before=_task_state(old, t),
                after=_task_state(new, t),
            )
        )
    parts += [t("values.task_removed", name=n) for n in detail.get("removed", [])]
    return f"{text} ({'; '.join(parts)})" if parts else text


def _task_state(value: Any, t: Phrases) -> str:
    key = f"task_states.{str(value).lower()}"
    return t(key) if value is not None and t.has(key) else _value(value, t)


def _merged(event: Event, t: Phrases) -> str:
    identifier = (event.detail or {}).get("identifier")
    return t("events.merged", after=identifier or _value(event.after, t))


def _with_reason(key: str) -> Any:
    def phrase(event: Event, t: Phrases) -> str:
        reason = str((event.detail or {}).get("reason") or "").strip()
        return t(key, reason=reason) if reason else t(key, reason="").rstrip(": ")

    return phrase


def _plain(key: str) -> Any:
    return lambda event, t: t(key)


def _stale(event: Event, t: Phrases) -> str:
    d = event.detail or {}
    # A check keeps the age in the event's after (field age_days), not the detail.
    age = d.get("age_days")
    if age is None and event.field == "age_days":
        age = event.after
    limit = d.get("limit_days")
    if age is None or limit is None:
        return t("events.became_stale_bare")
    key = "events.became_stale" if d.get("exact", True) else "events.became_stale_bound"
    return t(key, age=age, limit=limit, updated=_date(d.get("updated_at"), t))


def _fresh(event: Event, t: Phrases) -> str:
    d = event.detail or {}
    if d.get("limit_days") is None:
        return t("events.no_longer_stale_bare")
    return t(
        "events.no_longer_stale",
        limit=d["limit_days"],
        updated=_date(d.get("updated_at") or event.after, t),
    )


def _late(event: Event, t: Phrases) -> str:
    d = event.detail or {}
    if d.get("days_late") is None:
        return t("events.task_late_bare")
    phrase = "events.task_late_one" if d["days_late"] == 1 else "events.task_late"
    # A task no watched page names was "task “?”": it is "a task".
    return t(
        phrase + ("" if d.get("task") else "_unnamed"),
        task=d.get("task"),
        days=d["days_late"],
        due=_date(d.get("due_at"), t),
    )


def _due_soon(event: Event, t: Phrases) -> str:
    d = event.detail or {}
    if d.get("days_left") is None:
        return t("events.task_due_soon_bare")
    phrase = {0: "events.task_due_today", 1: "events.task_due_soon_one"}.get(
        d["days_left"], "events.task_due_soon"
    )
    return t(
        phrase + ("" if d.get("task") else "_unnamed"),
        task=d.get("task"),
        days=d["days_left"],
        due=_date(d.get("due_at"), t),
    )


_SPECIAL: dict[EventKind, Any] = {
    EventKind.ACTION_ADDED: _added,
    EventKind.ACTION_REMOVED: _removed,
    EventKind.TASKS_CHANGED: _tasks,
    EventKind.MERGED: _merged,
    EventKind.SOURCE_FAILING: _with_reason("events.source_failing"),
    EventKind.LAYOUT_ANOMALY: _with_reason("events.layout_anomaly"),
    EventKind.SOURCE_RECOVERED: _plain("events.source_recovered"),
    EventKind.LAYOUT_RESTORED: _plain("events.layout_restored"),
    EventKind.BECAME_STALE: _stale,
    EventKind.NO_LONGER_STALE: _fresh,
    EventKind.TASK_LATE: _late,
    EventKind.TASK_DUE_SOON: _due_soon,
}


# -- values ---------------------------------------------------------------------


def _value(value: Any, t: Phrases) -> str:
    if value is None or value == "" or value == []:
        return t("values.none")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _count(value: Any, t: Phrases) -> str:
    if not isinstance(value, dict):
        return _value(value, t)
    return t("values.tasks", completed=value.get("completed"), total=value.get("total"))


def _percent(value: Any, t: Phrases) -> str:
    return t("values.none") if value is None else t("values.percent", value=value)


def _date(value: Any, t: Phrases) -> str:
    if not value:
        return t("values.none")
    text = str(value)
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text[:10]
    if moment.tzinfo is None or len(text) <= 10:
        return text[:10]  # a date, or a time with no zone to read it from
    try:
        return moment.astimezone(ZoneInfo(t.timezone)).date().isoformat()
    except OverflowError:  # the calendar's edge
        return text[:10]


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _by_identifier(item: Item) -> tuple[tuple[int, int, str], ...]:
    """As the plan lists its actions: by identifier (history's order)."""
    event = item.event
    return identifier_key(event.action_identifier or event.action_id or "")
