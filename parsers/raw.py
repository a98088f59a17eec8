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

from collections.abc import Iterable
from typing import Any

import msgspec

Id = str | int  # the platform's ids are strings; some answers give numbers


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


def actions(items: Iterable[Any]) -> list[RawAction]:
    """Structs for the action objects among ``items`` (structs, dicts, anything)."""
    items = list(items)
    if all(type(item) is RawAction for item in items):
        return items
    try:
        return msgspec.convert(items, list[RawAction])
    except (ValueError, TypeError):  # msgspec.ValidationError is a ValueError
        return [action(item) for item in items if isinstance(item, dict | RawAction)]


def action(item: dict[str, Any] | RawAction) -> RawAction:
    if isinstance(item, RawAction):
        return item
    try:
        return msgspec.convert(item, RawAction)
    except (ValueError, TypeError):
        return lenient(item)


# -- reading odd objects field by field -------------------------------------------


def lenient(raw: dict[str, Any]) -> RawAction:
    """An action object whose fields may hold any JSON value."""
    raw_id = raw.get("id")
    return RawAction(
        id=None if raw_id is None else str(raw_id),
        identifier=text(raw.get("identifier")),
        name=text(raw.get("name")),
        status=_named(raw.get("status")),
        implementationPhase=_named(raw.get("implementationPhase")),
        statusSummary=_ref(raw.get("statusSummary")),
        timeliness=_ref(raw.get("timeliness")),
        completion=integer(raw.get("completion")),
        updatedAt=_str(raw.get("updatedAt")),
        startDate=_str(raw.get("startDate")),
        endDate=_str(raw.get("endDate")),
        scheduleContinuous=boolean(raw.get("scheduleContinuous")),
        tasks=_list(raw.get("tasks"), _task),
        responsibleParties=_list(raw.get("responsibleParties"), _party),
        primaryOrg=_ref(raw.get("primaryOrg")),
        mergedWith=_ref(raw.get("mergedWith")),
        supersededBy=_ref(raw.get("supersededBy")),
        relatedIndicators=_list(raw.get("relatedIndicators"), _indicator),
    )


def _named(value: Any) -> Named | None:
    if not isinstance(value, dict):
        return None
    return Named(text(value.get("identifier")), text(value.get("name")))


def _ref(value: Any) -> Ref | None:
    if not isinstance(value, dict):
        return None
    return Ref(
        text(value.get("id")), text(value.get("identifier")), text(value.get("name"))
    )


def _task(value: dict[str, Any]) -> RawTask:
    return RawTask(
        id=text(value.get("id")),
        name=text(value.get("name")),
        state=text(value.get("state")),
        dueAt=_str(value.get("dueAt")),
        completedAt=_str(value.get("completedAt")),
    )


def _party(value: dict[str, Any]) -> Party | None:
    org = value.get("organization")
    if not isinstance(org, dict) or org.get("id") is None:
        return None  # a party names the organization it is
    return Party(
        role=text(value.get("role")),
        organization=Ref(id=str(org["id"]), name=text(org.get("name"))),
    )


def _indicator(value: dict[str, Any]) -> IndicatorLink | None:
    indicator = value.get("indicator")
    if not isinstance(indicator, dict) or indicator.get("id") is None:
        return None
    return IndicatorLink(Ref(id=str(indicator["id"]), name=text(indicator.get("name"))))


def _list(value: Any, read: Any) -> list[Any] | None:
    """The readable items of a list (dicts only), or None for no list."""
    if not isinstance(value, list):
        return None
    found = (read(item) for item in value if isinstance(item, dict))
    return [item for item in found if item is not None]


def text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


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
