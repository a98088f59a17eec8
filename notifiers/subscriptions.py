"""Who gets which change, when, and in which language.

A *subscription* names targets, filters (source, site, plan, organization with its
sub-units, actions, event kinds), a language, and a mode: immediate (one message
per check that found matching changes) or a digest at a local time of day, daily or
weekly, in a time zone. A target that no subscription names gets everything,
immediately: a config with only ``[[targets]]`` works as it always did.

:class:`Routing` is what the rest of planwatch passes around: the targets by name
(it is a read-only mapping of them), the subscriptions, and the delivery policy.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from notifiers.targets import Target
from storage.events import EventKind

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
# A first path segment such as "en", "fi" or "pt-BR" is a locale prefix, which
# Kausal Watch puts before a plan's base path (/<locale>/<basePath>/...).
_LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z]{2,4})?$")


class Mode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A digest's moments: daily, or weekly on one weekday, at a local time."""

    at: time
    timezone: str
    weekday: int | None = None  # 0 = Monday; None = every day

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def last_due(self, now: datetime) -> datetime:
        """The latest scheduled moment at or before ``now`` (UTC).

        A local time that does not exist on a day (the hour skipped in spring)
        runs that much later, as the wall clock reads it; one that exists twice
        (the hour repeated in autumn) runs at its first occurrence only.
        """
        local_today = now.astimezone(self.zone).date()
        for back in range(8):
            day = local_today - timedelta(days=back)
            if self.weekday is not None and day.weekday() != self.weekday:
                continue
            moment = self._moment(day)
            if moment <= now:
                return moment
        raise AssertionError("a weekly schedule always has a moment in 8 days")

    def next_due(self, now: datetime) -> datetime:
        local_today = now.astimezone(self.zone).date()
        for ahead in range(9):
            day = local_today + timedelta(days=ahead)
            if self.weekday is not None and day.weekday() != self.weekday:
                continue
            moment = self._moment(day)
            if moment > now:
                return moment
        raise AssertionError("a weekly schedule always has a moment in 9 days")

    def describe(self) -> str:
        when = "daily" if self.weekday is None else f"every {WEEKDAYS[self.weekday]}"
        return f"{when} at {self.at:%H:%M} {self.timezone}"

    def _moment(self, day: date) -> datetime:
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the filters look at for one event (built by notifiers.context)."""

    kind: EventKind
    source: str
    urls: tuple[str, ...] = ()
    action_id: str | None = None
    action_identifier: str | None = None
    # The organizations the event concerns, each with all its ancestors, so a
    # subscription to a unit also matches everything under it.
    organizations: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Filters:
    """Every filter given must match; an empty one matches everything."""

    sources: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()
    plans: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    action_identifiers: frozenset[str] = frozenset()
    kinds: frozenset[EventKind] = frozenset()

    def matches(self, facts: Facts) -> bool:
        checks = (
            not self.sources or facts.source in self.sources,
            not self.sites or any(_hosts(u) & self.sites for u in facts.urls),
            not self.plans or any(_in_plan(u, self.plans) for u in facts.urls),
            not self.organizations or bool(self.organizations & facts.organizations),
            not (self.actions or self.action_identifiers) or self._action(facts),
            not self.kinds or facts.kind in self.kinds,
        )
        return all(checks)

    def _action(self, facts: Facts) -> bool:
        return (facts.action_id is not None and facts.action_id in self.actions) or (
            facts.action_identifier is not None
            and facts.action_identifier in self.action_identifiers
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    name: str
    targets: tuple[str, ...]
    language: str = "en"
    filters: Filters = field(default_factory=Filters)
    schedule: Schedule | None = None
    send_empty: bool = False  # a digest says "nothing needs attention"
    timezone: str = "UTC"  # for times in messages (a digest's schedule has its own)

    @property
    def mode(self) -> Mode:
        return Mode.IMMEDIATE if self.schedule is None else Mode.DIGEST


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Retries: exponential backoff from ``first_retry``, up to ``max_attempts``."""

    max_attempts: int = 12  # about 14.5 hours of retries with the delays below
    first_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(hours=6)
    # A claim older than this belongs to a worker presumed dead.
    claim_timeout: timedelta = timedelta(minutes=10)

    def retry_delay(self, attempts: int) -> timedelta:
        delay: timedelta = self.first_retry * 2 ** max(attempts - 1, 0)
        return min(delay, self.max_retry)


def implicit_name(target: str) -> str:
    """The subscription a target no subscription names gets: everything."""
    return f"target:{target}"


class Routing(Mapping[str, Target]):
    """The targets by name, with the subscriptions that route events to them.

    ``force_to`` (staging) sends every message, whatever its target, to one URL.
    """

    def __init__(
        self,
        targets: Mapping[str, Target],
        subscriptions: Iterable[Subscription] = (),
        *,
        policy: DeliveryPolicy | None = None,
        source_pages: Mapping[str, Iterable[str]] | None = None,
        force_to: str | None = None,
    ) -> None:
        self._targets = dict(targets)
        explicit = list(subscriptions)
        named = {t for s in explicit for t in s.targets}
        for sub in explicit:
            unknown = [t for t in sub.targets if t not in self._targets]
            if unknown:
                raise ValueError(
                    f"subscription {sub.name!r}: no target named {unknown[0]!r}"
                )
        implicit = [
            Subscription(name=implicit_name(name), targets=(name,), language=t.language)
            for name, t in self._targets.items()
            if name not in named
        ]
        self.explicit: tuple[Subscription, ...] = tuple(explicit)
        self.subscriptions: tuple[Subscription, ...] = (*explicit, *implicit)
        self.policy = policy or DeliveryPolicy()
        self.source_pages = {k: tuple(v) for k, v in (source_pages or {}).items()}
        self.force_to = force_to
        if force_to is not None:
            Target("force-to", force_to)  # validates and registers the secret

    @classmethod
    def of(cls, targets: Mapping[str, Target] | None) -> Routing:
        if isinstance(targets, Routing):
            return targets
        return cls(targets or {})

    def __getitem__(self, name: str) -> Target:
        return self._targets[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def target_for(self, name: str) -> Target | None:
        """Where a message for the target ``name`` goes now; None for a target
        these targets do not name (another config's), forced or not."""
        target = self._targets.get(name)
        if self.force_to is None or target is None:
            return target
        return Target(name, self.force_to, target.language)

    def subscription(self, name: str) -> Subscription:
        for sub in self.subscriptions:
            if sub.name == name:
                return sub
        known = ", ".join(s.name for s in self.subscriptions) or "none"
        raise KeyError(f"no subscription named {name!r} (known: {known})")

    def forced_to(self, url: str | None) -> Routing:
        return self._copy(force_to=url)

    def with_policy(self, **changes: Any) -> Routing:
        return self._copy(policy=replace(self.policy, **changes))

    def _copy(self, **changes: Any) -> Routing:
        values: dict[str, Any] = {
            "policy": self.policy,
            "source_pages": self.source_pages,
            "force_to": self.force_to,
        }
        values.update(changes)
        return Routing(self._targets, self.explicit, **values)


def _hosts(url: str) -> frozenset[str]:
    """The names a filter may give ``url``'s site by: its host, and with a port
    in the URL also "host:port" (a copy served on 127.0.0.1:8080 is not :9090)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return frozenset()
    if not host:
        return frozenset()
    return frozenset({host, f"{host}:{port}"} if port is not None else {host})


def _in_plan(url: str, plans: frozenset[str]) -> bool:
    """Is ``url`` under one of ``plans`` ("host" or "host/basePath")?"""
    hosts = _hosts(url)
    segments = [s for s in urlsplit(url).path.lower().split("/") if s]
    paths = ["/".join(segments) + "/"]
    if segments and _LOCALE.match(segments[0]):
        paths.append("/".join(segments[1:]) + "/")
    for plan in plans:
        plan_host, _, base = plan.lower().partition("/")
        base = base.strip("/") + "/" if base.strip("/") else ""
        if plan_host in hosts and any(p.startswith(base) for p in paths):
            return True
    return False
