"""The platform's ``Action`` object as the UI's queries ask for it, typed.

A large plan's page embeds a megabyte of actions. msgspec reads them into these
structs in C, straight from the JSON (skipping the fields no record needs) or from
already decoded dicts; ``parsers.data`` builds the records from the structs.

The types are the ones the platform sends. Where an object holds anything else (a
number for an identifier, a string for a completion, a list where an object
belongs), msgspec refuses it and ``lenient`` reads that object field by field,
turning what it can into the same types and leaving out what it cannot, as a
reader of untrusted data must: the result is the same structs either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

Id = str | int  # the platform's ids are strings; some answers give numbers
Problems = list[str]  # what could not be read, one line each
Said = Callable[[str, Any], None]  # say that a value (named) did not read


class Named(msgspec.Struct, gc=False):
    """A status or an implementation phase."""

    identifier: str | None = None
    name: str | None = None


class Ref(msgspec.Struct, gc=False):
    """A link to another object: an action, an organization, a summary."""

    id: Id | None = None
    identifier: str | None = None
    name: str | None = None


class Party(msgspec.Struct, gc=False):
    role: str | None = None
    organization: Ref | None = None


class RawTask(msgspec.Struct, gc=False):
    id: Id | None = None
    name: str | None = None
    state: str | None = None
    dueAt: str | None = None
    completedAt: str | None = None


class IndicatorLink(msgspec.Struct, gc=False):
    indicator: Ref | None = None


class RawAction(msgspec.Struct, gc=False):
    id: Id | None = None
    identifier: str | None = None
    name: str | None = None
    status: Named | None = None
    implementationPhase: Named | None = None
    statusSummary: Ref | None = None
    timeliness: Ref | None = None
    completion: int | None = None
    updatedAt: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    scheduleContinuous: bool | None = None
    tasks: list[RawTask] | None = None
    responsibleParties: list[Party] | None = None
    primaryOrg: Ref | None = None
    mergedWith: Ref | None = None
    supersededBy: Ref | None = None
    relatedIndicators: list[IndicatorLink] | None = None


ACTIONS = msgspec.json.Decoder(list[RawAction])


def actions(items: Iterable[Any], problems: Problems | None = None) -> list[RawAction]:
    """Structs for the action objects among ``items`` (structs, dicts, anything).

    What cannot be read (an item that is no object, a field of the wrong type) is
    left out and, when ``problems`` is given, said there.
    """
    items = list(items)
    if all(type(item) is RawAction for item in items):
        return items
    try:
        return msgspec.convert(items, list[RawAction])
    except (ValueError, TypeError):  # msgspec.ValidationError is a ValueError
        pass
    found = []
    for index, item in enumerate(items):
        if isinstance(item, dict | RawAction):
            found.append(action(item, problems))
        elif problems is not None:
            problems.append(f"item {index} of the action list is {_shown(item)}")
    return found


def action(
    item: dict[str, Any] | RawAction, problems: Problems | None = None
) -> RawAction:
    if isinstance(item, RawAction):
        return item
    try:
        return msgspec.convert(item, RawAction)
    except (ValueError, TypeError):
        return lenient(item, problems)


# -- reading odd objects field by field -------------------------------------------


def lenient(raw: dict[str, Any], problems: Problems | None = None) -> RawAction:
    """An action object whose fields may hold any JSON value.

    A field that holds something other than null and does not read is None in the
    struct, and said in ``problems``.
    """
    raw_id = raw.get("id")

    def read(key: str, reader: Callable[[Any], Any]) -> Any:
        value = raw.get(key)
        found = reader(value)
        if problems is not None and value is not None:
            if found is None:
                problems.append(f"action {raw_id}: {key} is {_shown(value)}")
            elif isinstance(value, list) and not all(
                isinstance(i, dict) for i in value
            ):
                problems.append(f"action {raw_id}: {key} holds {_shown(value)}")
        return found

    def said(what: str, value: Any) -> None:
        if problems is not None:
            problems.append(f"action {raw_id}: {what} is {_shown(value)}")

    return RawAction(
        id=identity(raw_id),
        identifier=read("identifier", text),
        name=read("name", text),
        status=read("status", lambda value: _named(value, said, "status")),
        implementationPhase=read(
            "implementationPhase",
            lambda value: _named(value, said, "implementationPhase"),
        ),
        statusSummary=read(
            "statusSummary", lambda value: _ref(value, said, "statusSummary")
        ),
        timeliness=read("timeliness", lambda value: _ref(value, said, "timeliness")),
        completion=read("completion", integer),
        updatedAt=read("updatedAt", _str),
        startDate=read("startDate", _str),
        endDate=read("endDate", _str),
        scheduleContinuous=read("scheduleContinuous", boolean),
        tasks=read("tasks", lambda value: _tasks(value, said)),
        responsibleParties=read("responsibleParties", lambda v: _parties(v, said)),
        primaryOrg=read("primaryOrg", lambda value: _ref(value, said, "primaryOrg")),
        mergedWith=read("mergedWith", lambda value: _ref(value, said, "mergedWith")),
        supersededBy=read(
            "supersededBy", lambda value: _ref(value, said, "supersededBy")
        ),
        relatedIndicators=read(
            "relatedIndicators", lambda value: _indicators(value, said)
        ),
    )


def _named(value: Any, said: Said, what: str) -> Named | None:
    if not isinstance(value, dict):
        return None
    return Named(
        _inner_text(value, "identifier", said, what),
        _inner_text(value, "name", said, what),
    )


def _inner_text(value: dict[str, Any], key: str, said: Said, what: str) -> str | None:
    """``text`` of a field of a nested object; an object or a list there is said."""
    given = value.get(key)
    if isinstance(given, dict | list):
        said(f"{what} {key}", given)
    return text(given)


def _ref(value: Any, said: Said, what: str) -> Ref | None:
    if not isinstance(value, dict):
        return None
    given = value.get("id")
    found = identity(given)
    if found is None and given is not None:
        said(f"{what} id", given)
    return Ref(
        found,
        _inner_text(value, "identifier", said, what),
        _inner_text(value, "name", said, what),
    )


def _task(value: dict[str, Any], said: Said) -> RawTask:
    task_id = text(value.get("id"))
    task = RawTask(
        id=task_id,
        name=_inner_text(value, "name", said, f"task {task_id}"),
        state=_inner_text(value, "state", said, f"task {task_id}"),
        dueAt=_str(value.get("dueAt")),
        completedAt=_str(value.get("completedAt")),
    )
    # A date that is no text is left out here: said, as one that is no date is.
    for key in ("dueAt", "completedAt"):
        given = value.get(key)
        if given is not None and type(given) is not str:
            said(f"task {task.id} {key}", given)
    return task


def _party(value: dict[str, Any], said: Said) -> Party | None:
    org = value.get("organization")
    if not isinstance(org, dict) or org.get("id") is None:
        return None  # a party names the organization it is
    org_id = identity(org["id"])
    if org_id is None:
        said("a responsible party's organization id", org["id"])
        return None
    return Party(
        role=_inner_text(value, "role", said, "a responsible party's"),
        organization=Ref(id=org_id, name=text(org.get("name"))),
    )


def _indicator(value: dict[str, Any], said: Said) -> IndicatorLink | None:
    indicator = value.get("indicator")
    if not isinstance(indicator, dict) or indicator.get("id") is None:
        return None
    indicator_id = identity(indicator["id"])
    if indicator_id is None:
        said("a related indicator's id", indicator["id"])
        return None
    return IndicatorLink(Ref(id=indicator_id, name=text(indicator.get("name"))))


def _tasks(value: Any, said: Said) -> list[RawTask] | None:
    if not isinstance(value, list):
        return None
    return [_task(item, said) for item in value if isinstance(item, dict)]


def _parties(value: Any, said: Said) -> list[Party] | None:
    # A party without its organization names no one: left out, as the UI does.
    return _objects(value, lambda item: _party(item, said))


def _indicators(value: Any, said: Said) -> list[IndicatorLink] | None:
    return _objects(value, lambda item: _indicator(item, said))


def _objects(value: Any, read: Callable[[Any], Any]) -> list[Any] | None:
    """The items of a list that read, or None for no list."""
    if not isinstance(value, list):
        return None
    found = (read(item) for item in value if isinstance(item, dict))
    return [item for item in found if item is not None]


def _shown(value: Any) -> str:
    """A value as a problem line shows it: its JSON type and a short repr."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def identity(value: Any) -> str | None:
    """An id as the platform gives them (text or a whole number), else None."""
    if type(value) is str:
        return value
    return str(value) if type(value) is int else None


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def integer(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinity
        return None
