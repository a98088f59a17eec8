"""The config file (TOML), validated when it is loaded.

A bad file fails before the first fetch, with a message naming the key, the value
and what is allowed. Secrets (target URLs) may come from the environment or a file,
so the config itself can be shared::

    [planwatch]
    contact = "watch@example.org"     # sent in the User-Agent
    db = "planwatch.sqlite"           # optional; --db and PLANWATCH_DB win

    [[sources]]
    name = "espoo"
    pages = ["https://ilmastovahti.espoo.fi/en/organizations/1061"]
    interval_minutes = 60

    [[targets]]
    name = "unit-lead"
    url_env = "PLANWATCH_UNIT_LEAD_URL"   # or url = "...", or url_file = "..."
"""

from __future__ import annotations

import os
import tomllib
from datetime import time as dt_time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from notifiers.targets import Target
from parsers.errors import ConfigError

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")]


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
    discover_hours: float = Field(default=24.0, gt=0)
    # Where the data comes from: the pages, the public GraphQL API, or both (the
    # API then cross-checks the pages); see monitor/api_source.py.
    kind: Literal["pages", "api", "both"] = "pages"
    api_url: str | None = None  # default: the site's own proxy, <origin>/api/graphql
    languages: list[str] = Field(default_factory=list)  # API: default all the plan's
    interval_minutes: float = Field(default=60.0, gt=0)
    jitter_seconds: float = Field(default=60.0, ge=0)
    failures_before_alert: int = Field(default=1, ge=1)
    # Change detection (see README, "Changes and what never fires"):
    # the staleness lines [target, acceptable, stale] in days, overriding the plan's;
    stale_days: list[int] | None = None
    # the plan's time zone for task due dates, when its pages do not name it;
    timezone: str | None = None
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
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"not an http(s) URL: {url!r}")
        return pages

    @field_validator("site", "api_url")
    @classmethod
    def _one_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"give the site's root, without ? or #: {url!r}")
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
            raise ValueError("give pages = [...] or site = \"https://...\"")
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
        if len(days) != 3 or not 0 < days[0] <= days[1] <= days[2]:
            raise ValueError(
                "give three day counts [target, acceptable, stale], each > 0 and "
                f"in increasing order (got {days})"
            )
        return days

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {name!r} (use an IANA name such as "
                    "'Europe/Helsinki' or 'UTC')"
                ) from None
        return name

    @field_validator("reminder_days")
    @classmethod
    def _gaps(cls, days: list[int]) -> list[int]:
        if any(day < 1 for day in days):
            raise ValueError(f"reminder gaps must be at least 1 day (got {days})")
        return days


class TargetConfig(_Strict):
    name: Name
    url: SecretStr | None = None
    url_env: str | None = None
    url_file: Path | None = None
    language: str = "en"

    @model_validator(mode="after")
    def _one_url(self) -> TargetConfig:
        given = [k for k in ("url", "url_env", "url_file") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of url, url_env, url_file "
                f"(got {', '.join(given) or 'none'})"
            )
        return self

    def resolve(self) -> Target:
        if self.url is not None:
            url = self.url.get_secret_value()
        elif self.url_env is not None:
            url = os.environ.get(self.url_env, "")
            if not url:
                raise ConfigError(
                    f"target {self.name!r}: environment variable {self.url_env} "
                    "is not set"
                )
        else:
            assert self.url_file is not None
            try:
                url = self.url_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"target {self.name!r}: cannot read url_file {self.url_file}: "
                    f"{exc.strerror}"
                ) from None
        try:
            return Target(self.name, url, self.language)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


class Settings(_Strict):
    contact: str | None = None
    db: str | None = None
    user_agent: str = "planwatch/0.1"
    min_delay_seconds: float = Field(default=1.0, ge=0)
    # Daily jobs (monitor.scheduling.register_daily) run at this local time of day
    # in this time zone, once per local day whatever daylight saving time does.
    timezone: str = "UTC"
    daily_at: dt_time = dt_time(7, 0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r} (use an IANA name such as "
                "'Europe/Helsinki' or 'UTC')"
            ) from None
        return name


class Config(_Strict):
    planwatch: Settings = Settings()
    sources: list[SourceConfig] = Field(default_factory=list)
    targets: list[TargetConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for kind, items in (("source", self.sources), ("target", self.targets)):
            names = [item.name for item in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{kind} names must be unique, repeated: {dupes}")
        return self

    def resolved_targets(self) -> dict[str, Target]:
        return {t.name: t.resolve() for t in self.targets}


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, str(path))


def parse_config(raw: dict[str, Any], where: str = "config") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_explain(exc)}") from None


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        value = error.get("input")
        shown = (
            "" if isinstance(value, dict | list) or value is None else f" = {value!r}"
        )
        if "url" in key:
            shown = ""  # may be a secret
        problems.append(f"{key}{shown}: {error['msg']}")
    return "; ".join(problems)
