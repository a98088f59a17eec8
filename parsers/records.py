"""Typed records that a parsed page yields.

Every record is a frozen msgspec ``Struct``: typed and immutable like a frozen
dataclass, but built in C, which matters when a page yields 600 actions with their
tasks (``msgspec.structs.replace`` makes a changed copy). A value the page does not
show is ``None``, never a guess: an organization page's embedded data has task
states but no task names, so its ``Action.task_list`` holds tasks with
``name=None``; the action table of the 2024 UI shows no status text, so
``Status.label`` may be ``None`` while ``Status.identifier`` is known.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import msgspec


class PageKind(enum.StrEnum):
    ORGANIZATION = "organization"
    ACTION = "action"
    ACTION_LIST = "action_list"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


class Outcome(enum.StrEnum):
    """What the parser made of a page. Only ``OK`` may be diffed against history."""

    OK = "ok"
    NOT_FOUND = "not_found"
    LAYOUT_UNRECOGNISED = "layout_unrecognised"


# The prefix of an ``Action.id`` made from the identifier (see ``platform_id``).
ID_FROM_IDENTIFIER = "identifier:"


class Layer(enum.StrEnum):
    """Where a record's values came from."""

    EMBEDDED = "embedded"  # the React flight payload or the Apollo SSR transport
    HTML = "html"  # the rendered markup only
    API = "api"  # the public GraphQL API, asked directly


class Status(msgspec.Struct, frozen=True):
    identifier: str | None
    label: str | None


class Phase(msgspec.Struct, frozen=True):
    identifier: str | None
    label: str | None


class TaskCounts(msgspec.Struct, frozen=True):
    """Counts as the platform's task bar computes them (cancelled tasks excluded)."""

    total: int | None
    completed: int | None
    late: int | None
    on_time: int | None


class Task(msgspec.Struct, frozen=True):
    id: str | None
    name: str | None
    state: str | None  # NOT_STARTED, IN_PROGRESS, COMPLETED, CANCELLED
    due_at: date | None
    completed_at: date | None


class TimeRange(msgspec.Struct, frozen=True):
    """When something happened: exact where the page says so, else an interval.

    ``exact`` set means ``earliest == latest == exact``. A relative string such as
    "vuosi sitten" gives only the interval.
    """

    exact: datetime | None
    earliest: datetime | None
    latest: datetime | None

    @classmethod
    def at(cls, moment: datetime) -> TimeRange:
        return cls(exact=moment, earliest=moment, latest=moment)


class ResponsibleParty(msgspec.Struct, frozen=True):
    organization_id: str
    organization_name: str | None
    role: str | None  # PRIMARY, COLLABORATOR or None when the page does not say


class IndicatorRef(msgspec.Struct, frozen=True):
    """An indicator an action links to."""

    id: str
    name: str | None


class Action(msgspec.Struct, frozen=True):
    id: str  # the platform's numeric primary key, stable across identifier changes
    identifier: str | None
    name: str | None
    url: str | None
    status: Status | None
    phase: Phase | None
    tasks: TaskCounts | None
    updated_at: TimeRange | None
    completion: int | None
    task_list: tuple[Task, ...] | None = None
    responsible_parties: tuple[ResponsibleParty, ...] | None = None
    status_summary: str | None = None
    merged_with: str | None = None  # the platform id of the action this was merged into
    start_date: date | None = None
    end_date: date | None = None
    layer: Layer = Layer.EMBEDDED
    # The identifier of the action this was merged into (links use identifiers).
    merged_with_identifier: str | None = None
    # The platform id and identifier of the action that superseded this one.
    superseded_by: str | None = None
    superseded_by_identifier: str | None = None
    related_indicators: tuple[IndicatorRef, ...] | None = None
    # The platform's own timeliness class at render time: OPTIMAL, ACCEPTABLE, LATE.
    timeliness: str | None = None
    schedule_continuous: bool | None = None
    primary_org_id: str | None = None

    @property
    def platform_id(self) -> str | None:
        """The platform's numeric id, or None where the page does not show it.

        Action cards and action pages read from the markup alone carry no numeric id:
        their ``id`` is then ``"identifier:<identifier>"``, a key for this page only.
        """
        return None if self.id.startswith(ID_FROM_IDENTIFIER) else self.id


class Organization(msgspec.Struct, frozen=True):
    id: str | None
    name: str | None
    action_count: int | None
    parent_id: str | None = None
    abbreviation: str | None = None


class TimelinessLimits(msgspec.Struct, frozen=True):
    """Staleness lines in days (the plan's target, acceptable and stale intervals)."""

    target: int = 30
    acceptable: int = 60
    stale: int = 180


class StatusDef(msgspec.Struct, frozen=True):
    """One of the plan's action statuses (names are per plan and per language)."""

    identifier: str
    name: str | None
    is_completed: bool | None = None


class PhaseDef(msgspec.Struct, frozen=True):
    identifier: str
    name: str | None
    order: int | None = None


class TimelinessClass(msgspec.Struct, frozen=True):
    """A staleness line as the plan states it: e.g. OPTIMAL, LTE 30 days."""

    identifier: str
    label: str | None
    comparison: str | None  # LTE or GT
    days: int | None


class PlanContext(msgspec.Struct, frozen=True):
    identifier: str | None
    name: str | None
    primary_language: str | None
    languages: tuple[str, ...]
    timezone: str | None
    limits: TimelinessLimits | None  # None when the page carries no timeliness classes
    statuses: tuple[StatusDef, ...] = ()
    phases: tuple[PhaseDef, ...] = ()
    timeliness_classes: tuple[TimelinessClass, ...] = ()


class Anomaly(msgspec.Struct, frozen=True):
    code: str  # e.g. "layout_unrecognised", "count_mismatch", "layer_disagreement"
    detail: str


class ParsedPage(msgspec.Struct, frozen=True):
    kind: PageKind
    outcome: Outcome
    url: str
    language: str | None
    observed_at: datetime
    organization: Organization | None
    actions: tuple[Action, ...]
    anomalies: tuple[Anomaly, ...] = ()
    plan: PlanContext | None = None
    render_time: datetime | None = None
    layer: Layer | None = None
    extra: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK
