"""An action's status and phase over time, as geometry for an inline SVG.

Each lane is a row of bands, one per stretch of time with the same value; a
band's width is proportional to how long the value held as far as planwatch saw.
The template draws the bands; nothing here knows about markup, so every text that
comes from a page is escaped by the template like any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.web.queries import ChangeView, VersionView

WIDTH = 720
LEFT = 64  # room for the lane names
RIGHT = 12
TOP = 8
LANE_HEIGHT = 30
LANE_GAP = 8
MARKER_LANE = 18
AXIS_HEIGHT = 26
CHAR_WIDTH = 8.4  # a generous average for the 14px sans-serif labels
TICKS = 4
MIN_SPAN = timedelta(hours=1)

_TOKEN = re.compile(r"[a-z0-9_]{1,40}")


@dataclass(frozen=True, slots=True)
class Band:
    value: str  # the identifier ("unknown" when no page said)
    label: str
    start: datetime
    end: datetime
    open: bool  # the value still held at the last check
    x: float
    width: float
    css: str

    @property
    def label_fits(self) -> bool:
        return self.width >= len(self.label) * CHAR_WIDTH + 8


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    y: float
    height: float
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: float
    left: float
    right: float
    lanes: tuple[Lane, ...]
    markers: tuple[Marker, ...]
    marker_y: float
    ticks: tuple[Tick, ...]
    axis_y: float
    start: datetime
    end: datetime


def css_token(value: str | None) -> str:
    """A class-name suffix for a platform identifier; anything odd is "other"."""
    if value and _TOKEN.fullmatch(value):
        return value
    return "other"


def timeline_chart(
    versions: Sequence[VersionView],
    changes: Sequence[ChangeView],
    observed_until: datetime,
) -> Chart | None:
    if not versions:
        return None
    start = versions[0].valid_from
    end = max(observed_until, start + MIN_SPAN)
    scale = _Scale(start, end, LEFT, WIDTH - RIGHT)

    status = _bands(versions, observed_until, scale, "st", _status)
    phase = _bands(versions, observed_until, scale, "ph", _phase)
    lanes = (
        Lane("Status", TOP, LANE_HEIGHT, status),
        Lane("Phase", TOP + LANE_HEIGHT + LANE_GAP, LANE_HEIGHT, phase),
    )
    marker_y = TOP + 2 * (LANE_HEIGHT + LANE_GAP) + MARKER_LANE / 2
    axis_y = marker_y + MARKER_LANE / 2 + 4
    markers = tuple(
        Marker(scale.x(c.observed_at), c.observed_at, c.text)
        for c in changes
        if start <= c.observed_at <= end
    )
    return Chart(
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        lanes=lanes,
        markers=markers,
        marker_y=marker_y,
        ticks=_ticks(scale),
        axis_y=axis_y,
        start=start,
        end=end,
    )


@dataclass(frozen=True, slots=True)
class _Scale:
    start: datetime
    end: datetime
    x0: float
    x1: float

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        share = (moment - self.start).total_seconds() / span
        return round(self.x0 + min(1.0, max(0.0, share)) * (self.x1 - self.x0), 2)


def _status(version: VersionView) -> tuple[str | None, str | None]:
    return version.status, version.status_label


def _phase(version: VersionView) -> tuple[str | None, str | None]:
    return version.phase, version.phase_label


def _bands(
    versions: Sequence[VersionView],
    observed_until: datetime,
    scale: _Scale,
    prefix: str,
    pick: Callable[[VersionView], tuple[str | None, str | None]],
) -> tuple[Band, ...]:
    # Consecutive versions with the same value are one band: a version row also
    # starts when a task or a date changed.
    stretches: list[tuple[str, str, datetime, datetime, bool]] = []
    for version in versions:
        value, label = pick(version)
        key = value or "unknown"
        text = label or value or "unknown"
        end = version.valid_to or observed_until
        still_open = version.valid_to is None
        if (
            stretches
            and stretches[-1][0] == key
            and stretches[-1][3] == version.valid_from
        ):
            stretches[-1] = (key, stretches[-1][1], stretches[-1][2], end, still_open)
        else:
            stretches.append((key, text, version.valid_from, end, still_open))
    bands = []
    for key, text, begin, end, still_open in stretches:
        x0, x1 = scale.x(begin), scale.x(max(end, begin))
        bands.append(
            Band(
                value=key,
                label=text,
                start=begin,
                end=end,
                open=still_open,
                x=x0,
                width=max(round(x1 - x0, 2), 2.0),
                css=f"{prefix}-{css_token(key)}",
            )
        )
    return tuple(bands)


def _ticks(scale: _Scale) -> tuple[Tick, ...]:
    span = scale.end - scale.start
    fmt = "%Y-%m-%d" if span >= timedelta(days=TICKS) else "%m-%d %H:%M"
    ticks = []
    for i in range(TICKS + 1):
        moment = scale.start + span * i / TICKS
        ticks.append(Tick(scale.x(moment), moment.strftime(fmt)))
    return tuple(ticks)
