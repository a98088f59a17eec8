"""The config file (TOML), validated when it is loaded.

A bad file fails before the first fetch, with a message naming the key, the value
and what is allowed. Secrets (target URLs) may come from the environment or a file,
so the config itself can be shared::

    [planwatch]
    contact = "watch@example.org"     # sent in the User-Agent
    db = "planwatch.sqlite"           # optional, beside this file unless absolute;
                                      # --db and PLANWATCH_DB win

    [[sources]]
    name = "espoo"
    pages = ["https://ilmastovahti.espoo.fi/en/organizations/1061"]
    interval_minutes = 60

    [[targets]]
    name = "unit-lead"
    url_env = "PLANWATCH_UNIT_LEAD_URL"   # or url = "...", or url_file = "..."

    [[subscriptions]]                     # optional: see notifiers/subscriptions.py
    name = "transport"
    targets = ["unit-lead"]
    organizations = ["12"]                # the unit and every unit under it
    language = "fi"
    mode = "digest"
    at = "08:00"
    timezone = "Europe/Helsinki"
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Collection
from dataclasses import replace
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.fetch import redact_url
from notifiers.subscriptions import (
    WEEKDAYS,
    DeliveryPolicy,
    Filters,
    Routing,
    Schedule,
    Subscription,
    implicit_name,
)
from notifiers.targets import Target, build_url
from parsers.errors import ConfigError
from storage.events import EventKind

_NAME = re.compile(r"[\w.:-]+")


def _name(value: str) -> str:
    # Said in words: "String should match pattern '^[\w.:-]+$'" was the message.
    if not _NAME.fullmatch(value):
        raise ValueError(
            "a name may have letters, digits, '_', '.', ':' and '-' only (no spaces)"
        )
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]
# Upper bounds of the durations a config gives: beyond them no setting makes sense,
# and infinity or 1e308 ended in an OverflowError at the first check, or a fetch
# loop that waited for ever.
_YEAR_MINUTES = 366 * 24 * 60
_WEEK_SECONDS = 7 * 24 * 3600
_CENTURY_DAYS = 36_600
Language = Literal["en", "fi", "sv", "de"]
Weekday = Literal[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
]
FORCE_TO_ENV = "PLANWATCH_FORCE_TO"
logger = logging.getLogger(__name__)


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as "
            "'Europe/Helsinki' or 'UTC')"
        ) from None
    return name


ZoneName = Annotated[str, AfterValidator(_known_zone)]


def _local_time(value: dt_time) -> dt_time:
    # The zone is the config's ``timezone``; an offset here ("08:00Z") was dropped
    # without a word, and which of the two was meant cannot be guessed.
    if value.tzinfo is not None:
        raise ValueError(
            "give a local time of day such as '08:00', without an offset; its "
            "time zone is the one in timezone"
        )
    return value


LocalTime = Annotated[dt_time, AfterValidator(_local_time)]


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host: what a page can be fetched from."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed [ in an IPv6 host
        return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    name: Name
    # Pages to check; with ``site``, the site's pages are added (see below).
    pages: list[str] = Field(default_factory=list)
    # A whole site, e.g. "https://ilmastovahti.espoo.fi/en": its action list, action
    # pages and organization pages, found at check time (monitor/discover.py) and
    # reused for discover_hours; the config seeds ``pages`` with its action list.
    site: str | None = None
    discover_hours: float = Field(default=24.0, gt=0, le=_YEAR_MINUTES / 60)
    # Where the data comes from: the pages, the public GraphQL API, or both (the
    # API then cross-checks the pages); see monitor/api_source.py.
    kind: Literal["pages", "api", "both"] = "pages"
    api_url: str | None = None  # default: the site's own proxy, <origin>/api/graphql
    languages: list[str] = Field(default_factory=list)  # API: default all the plan's
    interval_minutes: float = Field(default=60.0, gt=0, le=_YEAR_MINUTES)
    jitter_seconds: float = Field(default=60.0, ge=0, le=24 * 3600)
    failures_before_alert: int = Field(default=1, ge=1)
    # Change detection (see README, "Changes and what never fires"):
    # the staleness lines [target, acceptable, stale] in days, overriding the plan's;
    stale_days: list[int] | None = None
    # the plan's time zone for task due dates, when its pages do not name it;
    timezone: ZoneName | None = None
    # how many days before its due date an open task is "due soon";
    due_soon_days: int = Field(default=30, ge=0, le=730)
    # days between reminders of a condition that still holds, the last repeating;
    reminder_days: list[int] = Field(default=[7, 30], max_length=10)
    # how many recent checks, and hours, a record's values are remembered: a change
    # back to one of them waits for a second check (A/B flips alert once).
    flip_memory: int = Field(default=5, ge=0, le=100)
    flip_hours: float = Field(default=6.0, ge=0, le=24 * 30)

    @field_validator("pages")
    @classmethod
    def _urls(cls, pages: list[str]) -> list[str]:
        for url in pages:
            if not is_http_url(url):
                raise ValueError(f"not an http(s) URL: {redact_url(url)!r}")
        return pages

    @field_validator("interval_minutes")
    @classmethod
    def _a_schedule(cls, minutes: float) -> float:
        # Under a microsecond the slots' timedelta is 0 and the scheduler refuses it
        # mid-check; under a second no check could end before the next is due.
        if minutes < 1 / 60:
            raise ValueError("give at least one second (1/60 = 0.0167 minutes)")
        return minutes

    @field_validator("site", "api_url")
    @classmethod
    def _one_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not is_http_url(url):
            raise ValueError(f"not an http(s) URL: {redact_url(url)!r}")
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise ValueError(
                f"give the site's root, without ? or #: {redact_url(url)!r}"
            )
        return url.rstrip("/")

    @model_validator(mode="before")
    @classmethod
    def _seed_pages(cls, raw: Any) -> Any:
        # A site alone is a source: its action list is the page known at load time.
        if isinstance(raw, dict) and raw.get("site") and not raw.get("pages"):
            site = str(raw["site"]).rstrip("/")
            return {**raw, "pages": [f"{site}/actions"]}
        return raw

    @model_validator(mode="after")
    def _something_to_check(self) -> SourceConfig:
        if not self.pages:
            raise ValueError('give pages = [...] or site = "https://..."')
        for lang in self.languages:
            if not lang.replace("-", "").isalnum() or len(lang) > 10:
                raise ValueError(f"not a language code: {lang!r}")
        return self

    @property
    def api_site(self) -> str:
        """The site the API is asked about: ``site``, else the first page's origin."""
        if self.site is not None:
            return self.site
        parts = urlsplit(self.pages[0])
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("stale_days")
    @classmethod
    def _lines(cls, days: list[int] | None) -> list[int] | None:
        if days is None:
            return None
        if len(days) != 3 or not 0 < days[0] <= days[1] <= days[2] <= _CENTURY_DAYS:
            raise ValueError(
                "give three day counts [target, acceptable, stale], each > 0 and "
                f"in increasing order, up to {_CENTURY_DAYS} (got {days})"
            )
        return days

    @field_validator("reminder_days")
    @classmethod
    def _gaps(cls, days: list[int]) -> list[int]:
        if any(not 1 <= day <= _CENTURY_DAYS for day in days):
            raise ValueError(
                f"reminder gaps must be from 1 to {_CENTURY_DAYS} days (got {days})"
            )
        return days


class TargetConfig(_Strict):
    """A notification target: a whole Apprise URL, or the fields of one.

    Secrets come from the environment or a file (``url_env``/``url_file``,
    ``password_env``/``password_file``); an inline ``url`` in a config file may not
    hold a password. With fields, planwatch percent-encodes each part itself.
    """

    # Room for "target:" before it: the subscription a target no subscription
    # names gets, kept in a 200-character column.
    name: Annotated[Name, Field(max_length=200 - len(implicit_name("")))]
    url: SecretStr | None = None
    url_env: str | None = None
    url_file: Path | None = None
    scheme: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*$")
    host: str | None = Field(default=None, min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    recipients: list[str] = Field(default_factory=list)
    path: list[str] = Field(default_factory=list)
    params: dict[str, str] = Field(default_factory=dict)
    language: Language = "en"
    format: Literal["text", "markdown", "html"] | None = None

    @field_validator("url")
    @classmethod
    def _no_inline_password(
        cls, url: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        from_file = bool(info.context and info.context.get("from_file"))
        if url is not None and from_file and _has_password(url.get_secret_value()):
            raise ValueError(
                "holds a password: put the URL in url_env or url_file, or give "
                "the fields with password_env or password_file"
            )
        return url

    @model_validator(mode="after")
    def _one_way(self) -> TargetConfig:
        whole = [k for k in ("url", "url_env", "url_file") if getattr(self, k)]
        fields = [
            k
            for k in ("scheme", "host", "port", "user", "password_env", "password_file")
            if getattr(self, k) is not None
        ] + [k for k in ("recipients", "path", "params") if getattr(self, k)]
        if whole and fields:
            raise ValueError(
                f"give either a whole URL ({', '.join(whole)}) or its fields "
                f"({', '.join(fields)}), not both"
            )
        if fields and not (self.scheme and self.host):
            raise ValueError("with fields, give at least scheme and host")
        if self.password_env and self.password_file:
            raise ValueError("give one of password_env, password_file")
        if not fields and len(whole) != 1:
            raise ValueError(
                "give exactly one of url, url_env, url_file, or the fields scheme, "
                f"host, ... (got {', '.join(whole) or 'none'})"
            )
        return self

    def resolve(self) -> Target:
        url = self._url()
        try:
            return Target(self.name, url, self.language, self.format or "")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def _url(self) -> str:
        if self.scheme is not None and self.host is not None:
            return build_url(
                scheme=self.scheme,
                host=self.host,
                port=self.port,
                user=self.user,
                password=self._secret(
                    "password", self.password_env, self.password_file
                ),
                path=self.path,
                recipients=self.recipients,
                params=self.params,
            )
        if self.url is not None:
            return self.url.get_secret_value()
        url = self._secret("url", self.url_env, self.url_file)
        assert url is not None
        return url

    def _secret(self, what: str, env: str | None, file: Path | None) -> str | None:
        if env is not None:
            value = os.environ.get(env, "")
            if not value:
                raise ConfigError(
                    f"target {self.name!r}: environment variable {env} "
                    f"({what}) is not set"
                )
            return value
        if file is not None:
            try:
                return file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"target {self.name!r}: cannot read {what}_file {file}: "
                    f"{exc.strerror}"
                ) from None
        return None


class SubscriptionConfig(_Strict):
    """Which changes go to which targets, when, in which language."""

    name: Name
    targets: list[Name] = Field(min_length=1)
    language: Language = "en"
    mode: Literal["immediate", "digest"] = "immediate"
    sources: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    action_identifiers: list[str] = Field(default_factory=list)
    kinds: list[EventKind] = Field(default_factory=list)
    every: Literal["day", "week"] = "day"
    at: LocalTime | None = None
    weekday: Weekday | None = None
    timezone: ZoneName = "UTC"
    send_empty: bool = False

    @field_validator("sites", "plans")
    @classmethod
    def _no_scheme(cls, values: list[str], info: ValidationInfo) -> list[str]:
        for value in values:
            if "://" in value or not value.strip("/"):
                raise ValueError(
                    f"{value!r}: give a host name such as 'ilmastovahti.espoo.fi' "
                    "(plans: host/basePath), without a scheme"
                )
            if info.field_name == "sites" and "/" in value.strip("/"):
                # Sites match host names only: a path never matched anything.
                raise ValueError(
                    f"{value!r}: a site is a host name; for the plan under a path "
                    "give plans = ['host/basePath']"
                )
        return [v.strip("/").lower() for v in values]

    @model_validator(mode="after")
    def _schedule(self) -> SubscriptionConfig:
        if self.mode == "immediate":
            given = [k for k in ("at", "weekday") if getattr(self, k) is not None]
            if given or self.every != "day" or self.send_empty:
                raise ValueError(
                    'at, every, weekday and send_empty are for mode = "digest"'
                )
            return self
        if self.at is None:
            raise ValueError('mode = "digest" needs at = "HH:MM" (local time)')
        if (self.every == "week") != (self.weekday is not None):
            raise ValueError('give weekday with every = "week", and only then')
        return self

    def subscription(self) -> Subscription:
        schedule = None
        if self.mode == "digest":
            assert self.at is not None
            schedule = Schedule(
                at=self.at,
                timezone=self.timezone,
                weekday=WEEKDAYS.index(self.weekday) if self.weekday else None,
            )
        return Subscription(
            name=self.name,
            targets=tuple(self.targets),
            language=self.language,
            filters=Filters(
                sources=frozenset(self.sources),
                sites=frozenset(self.sites),
                plans=frozenset(self.plans),
                organizations=frozenset(self.organizations),
                actions=frozenset(self.actions),
                action_identifiers=frozenset(self.action_identifiers),
                kinds=frozenset(self.kinds),
            ),
            schedule=schedule,
            send_empty=self.send_empty,
            timezone=self.timezone,
        )


class NotificationSettings(_Strict):
    """Delivery: how often to try, how long to wait, when a claim is stale."""

    max_attempts: int = Field(default=12, ge=1, le=100)
    first_retry_seconds: float = Field(default=30.0, gt=0, le=_WEEK_SECONDS)
    max_retry_seconds: float = Field(default=6 * 3600.0, gt=0, le=_WEEK_SECONDS)
    claim_timeout_seconds: float = Field(default=600.0, gt=0, le=_WEEK_SECONDS)

    def policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            max_attempts=self.max_attempts,
            first_retry=timedelta(seconds=self.first_retry_seconds),
            max_retry=timedelta(seconds=self.max_retry_seconds),
            claim_timeout=timedelta(seconds=self.claim_timeout_seconds),
        )


def _watched(source: SourceConfig) -> list[str]:
    """The addresses a source fetches from: what a message may link to."""
    return [*source.pages, *([source.site] if source.site else [])]


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def _header_text(value: str) -> str:
    # Both go into the User-Agent header, which is ASCII on one line: an accented
    # name or a line break ended the first fetch in a traceback.
    if not value.strip() or not (value.isascii() and value.isprintable()):
        raise ValueError(
            "give printable ASCII text on one line (it is sent in the User-Agent "
            "header), e.g. 'watch@example.org'"
        )
    return value


HeaderText = Annotated[str, AfterValidator(_header_text)]


class Settings(_Strict):
    contact: HeaderText | None = None
    db: str | None = None
    user_agent: HeaderText = "planwatch/0.1"
    min_delay_seconds: float = Field(default=1.0, ge=0, le=3600)
    # Daily jobs (monitor.scheduling.register_daily) run at this local time of day
    # in this time zone, once per local day whatever daylight saving time does.
    timezone: ZoneName = "UTC"
    daily_at: LocalTime = dt_time(7, 0)


class Config(_Strict):
    planwatch: Settings = Settings()
    sources: list[SourceConfig] = Field(default_factory=list)
    targets: list[TargetConfig] = Field(default_factory=list)
    subscriptions: list[SubscriptionConfig] = Field(default_factory=list)
    notifications: NotificationSettings = NotificationSettings()

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        named: tuple[tuple[str, list[Any]], ...] = (
            ("source", self.sources),
            ("target", self.targets),
            ("subscription", self.subscriptions),
        )
        for kind, items in named:
            names = [item.name for item in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{kind} names must be unique, repeated: {dupes}")
        return self

    @model_validator(mode="after")
    def _subscribed_targets_exist(self) -> Config:
        known = [t.name for t in self.targets]
        for sub in self.subscriptions:
            for name in sub.targets:
                if name not in known:
                    raise ValueError(
                        f"subscription {sub.name!r} names target {name!r}, which is "
                        f"not among the targets ({', '.join(known) or 'none'})"
                    )
        return self

    @model_validator(mode="after")
    def _subscribed_sources_exist(self) -> Config:
        # Messages are queued by a source's check, with the routing of the config
        # that checks it: a source this config lacks never reaches the filter.
        known = [s.name for s in self.sources]
        for sub in self.subscriptions:
            for name in sub.sources:
                if name not in known:
                    raise ValueError(
                        f"subscription {sub.name!r} names source {name!r}, which is "
                        f"not among the sources ({', '.join(known) or 'none'})"
                    )
        return self

    def resolved_targets(self, only: Collection[str] | None = None) -> Routing:
        """The targets with their secrets read, and the subscriptions routing to them.

        Every target must work (``check``, ``run``, ``notify send``: a bad file
        fails before the first fetch), or, with ``only``, those named: a command
        about one target is not stopped by another. The others are left out, one
        that cannot be used with a warning naming it, and the subscriptions keep
        only the targets read.

        ``PLANWATCH_FORCE_TO`` (an Apprise URL) sends every message there instead:
        for a staging copy of a real configuration.
        """
        wanted = {t.name for t in self.targets} if only is None else set(only)
        targets = {t.name: t.resolve() for t in self.targets if t.name in wanted}
        for left_out in (t for t in self.targets if t.name not in wanted):
            _warn_if_unusable(left_out)
        subscriptions = [
            replace(s, targets=tuple(t for t in s.targets if t in targets))
            for s in (c.subscription() for c in self.subscriptions)
        ]
        try:
            return Routing(
                targets,
                subscriptions,
                policy=self.notifications.policy(),
                source_pages={s.name: _watched(s) for s in self.sources},
                force_to=os.environ.get(FORCE_TO_ENV) or None,
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def subscription_targets(self) -> dict[str, list[str]]:
        """Every subscription by name, its implicit ones included, with its targets."""
        named = {t for s in self.subscriptions for t in s.targets}
        routes = {s.name: list(s.targets) for s in self.subscriptions}
        for target in self.targets:
            if target.name not in named:
                routes[implicit_name(target.name)] = [target.name]
        return routes


def _warn_if_unusable(target: TargetConfig) -> None:
    try:
        target.resolve()
    except ConfigError:
        # Not its reason: that may quote the URL's host; notify test NAME says it.
        logger.warning(
            "target %r cannot be used and is left out (planwatch notify test %s "
            "says why; check and run refuse this config)",
            target.name,
            target.name,
        )


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    config = parse_config(raw, str(path))
    db = config.planwatch.db
    if not db or "://" in db or db == ":memory:":
        return config
    if not Path(db).expanduser().is_absolute():
        # The config's neighbour, wherever planwatch runs (a systemd unit in /,
        # cron in $HOME): from the working directory, one config kept two
        # histories.
        settings = config.planwatch.model_copy(update={"db": str(path.parent / db)})
        config = config.model_copy(update={"planwatch": settings})
    return config


def parse_config(raw: dict[str, Any], where: str = "config") -> Config:
    try:
        return Config.model_validate(raw, context={"from_file": True})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_explain(exc)}") from None


# A target's keys whose values are never secret, and so are quoted in errors.
_PLAIN = frozenset({"name", "scheme", "port", "language", "format"})


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        value = error.get("input")
        shown = (
            "" if isinstance(value, dict | list) or value is None else f" = {value!r}"
        )
        if isinstance(value, str) and "://" in value:
            shown = f" = {redact_url(value)!r}"  # a site's password, say
        if any(word in key for word in ("url", "password", "params", "user")):
            shown = ""  # may be a secret
        loc = error["loc"]
        if loc[:1] == ("targets",) and (len(loc) != 3 or loc[2] not in _PLAIN):
            shown = ""  # host, path, recipients hold the tokens of chat services
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            shown = ""  # a key planwatch does not know may be "token" or a typo
            message = _unknown_key(error["loc"])
        problems.append(f"{key}{shown}: {message}")
    return "; ".join(problems)


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    # A typo'd key deserves the keys that would have been read in its place.
    model: Any = Config
    for part in loc[:-1]:
        fields = getattr(model, "model_fields", {})
        if isinstance(part, str):
            model = _model_in(fields[part].annotation) if part in fields else None
    known = sorted(getattr(model, "model_fields", {}))
    if not known:
        return "not a key planwatch knows"
    tables = [
        table
        for table, other in _TABLES.items()
        if other is not model and str(loc[-1]) in other.model_fields
    ]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if tables:
        # A key of another table (min_delay_seconds under [[sources]]): a near
        # name here ("jitter_seconds") would be another setting.
        verb = "has" if len(tables) == 1 else "have"
        hint = f"{', '.join(tables)} {verb} a key of that name; "
    return f"not a key planwatch knows here; {hint}known: {', '.join(known)}"


_TABLES: dict[str, type[BaseModel]] = {
    "[planwatch]": Settings,
    "[[sources]]": SourceConfig,
    "[[targets]]": TargetConfig,
    "[[subscriptions]]": SubscriptionConfig,
    "[notifications]": NotificationSettings,
}


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
