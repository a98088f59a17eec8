"""Kausal Watch pages -> records.

Each page carries two layers: the rendered markup and the embedded data (see
``parsers.embedded``). The embedded data holds exact values and wins; the markup is
the fallback when the embedded data is missing or unreadable, and a cross-check when
both are there. A page neither layer explains is reported as what it is, never as an
empty list of actions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from parsers import embedded, i18n, reltime
from parsers.records import (
    Action,
    Anomaly,
    Layer,
    Organization,
    Outcome,
    PageKind,
    ParsedPage,
    Phase,
    PlanContext,
    ResponsibleParty,
    Status,
    Task,
    TaskCounts,
    TimelinessLimits,
    TimeRange,
)
from parsers.text import clean

_CELL_ID = re.compile(r"^row-(\d+)-(\d+)$")
_WIDTH = re.compile(r"width:\s*([\d.]+)%")
_ACTION_HREF = re.compile(r"/actions/([^/?#]+)/?$")
_PAGE_PATH = re.compile(r"/(organizations|actions)(?:/([^/?#]+))?/?$")
_OPEN_TASK_STATES = frozenset({"NOT_STARTED", "IN_PROGRESS"})
_COUNTED_TASK_STATES = frozenset({"NOT_STARTED", "IN_PROGRESS", "COMPLETED"})


def parse_page(
    body: bytes | str,
    url: str,
    *,
    observed_at: datetime | None = None,
    date_header: str | None = None,
) -> ParsedPage:
    """Parse one Kausal Watch page.

    Relative times are read against ``observed_at``; without it, against the render
    time embedded in the page (2024 builds), else the ``Date`` response header, else
    now.
    """
    tree = LexborHTMLParser(body)
    data = embedded.extract(tree)
    render_time = _iso(embedded.render_time(data))
    seen = observed_at or render_time or _http_date(date_header) or datetime.now(UTC)
    page = _Page(tree, data, url, seen, render_time)
    return page.parse()


class _Page:
    def __init__(
        self,
        tree: LexborHTMLParser,
        data: embedded.EmbeddedData,
        url: str,
        observed_at: datetime,
        render_time: datetime | None,
    ) -> None:
        self.tree = tree
        self.data = data
        self.url = url
        self.observed_at = observed_at.astimezone(UTC)
        self.render_time = render_time
        root = tree.css_first("html")
        self.language = (root.attributes.get("lang") if root else None) or None
        self.prefix = _site_prefix(url)

    def parse(self) -> ParsedPage:
        if self.data.not_found or self._html_not_found():
            return self._result(PageKind.NOT_FOUND, Outcome.NOT_FOUND, None, ())

        org_props = next(self.data.find_props("planFromOrgQuery"), None)
        if org_props is not None:
            return self._organization(org_props)
        action_props = self._action_props()
        if action_props is not None:
            return self._action_page(action_props)
        plan_actions = next(self.data.find_props("planActions"), None)
        if plan_actions is not None and isinstance(plan_actions["planActions"], list):
            return self._action_list(plan_actions["planActions"])

        rows = self._table_rows()
        if rows:
            return self._organization_from_html(rows)
        return self._unrecognised()

    # -- organization pages ---------------------------------------------------------

    def _organization(self, props: dict[str, Any]) -> ParsedPage:
        org = props.get("org") or {}
        plan = props.get("planFromOrgQuery") or {}
        raw_actions = [a for a in plan.get("actions") or [] if isinstance(a, dict)]
        actions = tuple(self._action(a) for a in raw_actions)
        heading = self._heading_count()
        rows = self._table_rows()

        anomalies = list(self._cross_check(actions, rows))
        if heading is not None and heading != len(actions):
            anomalies.append(
                Anomaly(
                    "count_mismatch",
                    f"heading says {heading} actions, "
                    f"embedded data lists {len(actions)}",
                )
            )
        if actions and not rows:
            anomalies.append(
                Anomaly(
                    "table_missing",
                    f"heading says {heading} actions but the action table has no rows",
                )
            )

        organization = Organization(
            id=_str(org.get("id")),
            name=clean(org.get("name")),
            action_count=heading if heading is not None else len(actions),
            parent_id=_str((org.get("parent") or {}).get("id")),
        )
        return self._result(
            PageKind.ORGANIZATION,
            Outcome.OK,
            organization,
            actions,
            anomalies,
            layer=Layer.EMBEDDED,
        )

    def _organization_from_html(self, rows: dict[str, _HtmlRow]) -> ParsedPage:
        actions = tuple(row.to_action(self) for row in rows.values())
        heading = self._heading_count()
        anomalies = [
            Anomaly("embedded_missing", "no readable embedded data; used HTML")
        ]
        if heading is not None and heading != len(actions):
            anomalies.append(
                Anomaly(
                    "count_mismatch",
                    f"heading says {heading} actions, "
                    f"the table has {len(actions)} rows",
                )
            )
        h1 = self.tree.css_first("h1")
        organization = Organization(
            id=self._path_id("organizations"),
            name=clean(h1.text()) if h1 else None,
            action_count=heading,
        )
        return self._result(
            PageKind.ORGANIZATION,
            Outcome.OK,
            organization,
            actions,
            anomalies,
            layer=Layer.HTML,
        )

    def _heading_count(self) -> int | None:
        for node in self.tree.css("h2, h3"):
            count = i18n.parse_responsible_count(clean(node.text()) or "")
            if count is not None:
                return count
        return None

    # -- action pages and lists -----------------------------------------------------

    def _action_props(self) -> dict[str, Any] | None:
        for props in self.data.find_props("action"):
            value = props.get("action")
            if isinstance(value, dict) and value.get("__typename") == "Action":
                return value
        return None

    def _action_page(self, raw: dict[str, Any]) -> ParsedPage:
        action = self._action(raw)
        return self._result(
            PageKind.ACTION, Outcome.OK, None, (action,), layer=Layer.EMBEDDED
        )

    def _action_list(self, raw_actions: list[Any]) -> ParsedPage:
        actions = tuple(self._action(a) for a in raw_actions if isinstance(a, dict))
        return self._result(
            PageKind.ACTION_LIST, Outcome.OK, None, actions, layer=Layer.EMBEDDED
        )

    def _action(self, raw: dict[str, Any]) -> Action:
        identifier = _str(raw.get("identifier"))
        tasks = [t for t in raw.get("tasks") or [] if isinstance(t, dict)]
        has_tasks = "tasks" in raw and raw["tasks"] is not None
        updated = _iso(raw.get("updatedAt"))
        return Action(
            id=str(raw["id"]),
            identifier=identifier,
            name=clean(raw.get("name")),
            url=self.action_url(identifier),
            status=_status(raw.get("status")),
            phase=_phase(raw.get("implementationPhase")),
            tasks=self._task_counts(tasks) if has_tasks else None,
            updated_at=TimeRange.at(updated) if updated else None,
            completion=_int(raw.get("completion")),
            task_list=tuple(_task(t) for t in tasks) if has_tasks else None,
            responsible_parties=_parties(raw.get("responsibleParties")),
            status_summary=_str((raw.get("statusSummary") or {}).get("identifier")),
            merged_with=_str((raw.get("mergedWith") or {}).get("id")),
            start_date=_date(raw.get("startDate")),
            end_date=_date(raw.get("endDate")),
            layer=Layer.EMBEDDED,
        )

    def _task_counts(self, tasks: list[dict[str, Any]]) -> TaskCounts:
        # The platform's own rule: cancelled tasks do not count; an open task is late
        # when its due date (a date-only value, read as UTC midnight) is before now.
        counted = [t for t in tasks if t.get("state") in _COUNTED_TASK_STATES]
        completed = sum(1 for t in counted if t.get("state") == "COMPLETED")
        late = 0
        for task in counted:
            due = _date(task.get("dueAt"))
            if task.get("state") in _OPEN_TASK_STATES and due is not None:
                late += datetime(due.year, due.month, due.day, tzinfo=UTC) < (
                    self.observed_at
                )
        return TaskCounts(
            total=len(counted),
            completed=completed,
            late=late,
            on_time=len(counted) - completed - late,
        )

    # -- the rendered table ---------------------------------------------------------

    def _table_rows(self) -> dict[str, _HtmlRow]:
        rows: dict[str, _HtmlRow] = {}
        for cell in self.tree.css("td[id^='row-'], th[id^='row-']"):
            match = _CELL_ID.match(cell.attributes.get("id") or "")
            if match is None:
                continue
            row = rows.setdefault(match.group(1), _HtmlRow(match.group(1)))
            row.add(cell)
        return rows

    def _cross_check(
        self, actions: Iterable[Action], rows: Mapping[str, _HtmlRow]
    ) -> Iterable[Anomaly]:
        if not rows:
            return
        by_id = {a.id: a for a in actions}
        missing = sorted(set(by_id) - set(rows), key=_natural)
        extra = sorted(set(rows) - set(by_id), key=_natural)
        if missing or extra:
            yield Anomaly(
                "layer_disagreement",
                f"table rows and embedded data differ: missing rows {missing}, "
                f"rows without data {extra}",
            )
        for action_id, row in rows.items():
            action = by_id.get(action_id)
            if action is None:
                continue
            table_total = row.task_total
            data_total = action.tasks.total if action.tasks else None
            if None not in (table_total, data_total) and table_total != data_total:
                yield Anomaly(
                    "layer_disagreement",
                    f"action {action_id}: table says {table_total} tasks, "
                    f"embedded data {data_total}",
                )

    # -- helpers --------------------------------------------------------------------

    def action_url(self, identifier: str | None) -> str | None:
        if identifier is None or self.prefix is None:
            return None
        return f"{self.prefix}/actions/{identifier}"

    def _path_id(self, section: str) -> str | None:
        match = _PAGE_PATH.search(urlsplit(self.url).path)
        if match and match.group(1) == section:
            return match.group(2)
        return None

    def _html_not_found(self) -> bool:
        title = self.tree.css_first("h1")
        text = (clean(title.text()) if title else None) or ""
        return text.startswith("404")

    def _unrecognised(self) -> ParsedPage:
        body = self.tree.body
        text = clean(body.text(separator=" ")) if body else ""
        if not text:
            detail = "empty page"
        elif any(word in (text or "") for word in i18n.LOADING_TEXTS) and (
            self.data.empty
        ):
            detail = "a loading shell with no content and no embedded data"
        else:
            detail = "no action table and no embedded actions"
        return self._result(
            PageKind.UNKNOWN,
            Outcome.LAYOUT_UNRECOGNISED,
            None,
            (),
            [Anomaly("layout_unrecognised", detail)],
        )

    def _plan(self) -> PlanContext | None:
        plan = next(self.data.find_props("actionTimelinessClasses"), None)
        if plan is None:
            plan = next(self.data.find_props("primaryLanguage"), None)
        if plan is None:
            return None
        days = {
            c.get("identifier"): c.get("days")
            for c in plan.get("actionTimelinessClasses") or []
            if isinstance(c, dict)
        }
        limits = None
        if days:
            defaults = TimelinessLimits()
            limits = TimelinessLimits(
                target=_int(days.get("OPTIMAL")) or defaults.target,
                acceptable=_int(days.get("ACCEPTABLE")) or defaults.acceptable,
                stale=_int(days.get("STALE")) or defaults.stale,
            )
        primary = _str(plan.get("primaryLanguage"))
        others = [str(lang) for lang in plan.get("otherLanguages") or []]
        return PlanContext(
            identifier=_str(plan.get("identifier") or plan.get("id")),
            name=clean(plan.get("name")),
            primary_language=primary,
            languages=tuple([primary, *others] if primary else others),
            timezone=_str(plan.get("timezone")),
            limits=limits,
        )

    def _result(
        self,
        kind: PageKind,
        outcome: Outcome,
        organization: Organization | None,
        actions: tuple[Action, ...],
        anomalies: Iterable[Anomaly] = (),
        layer: Layer | None = None,
    ) -> ParsedPage:
        return ParsedPage(
            kind=kind,
            outcome=outcome,
            url=self.url,
            language=self.language,
            observed_at=self.observed_at,
            organization=organization,
            actions=actions,
            anomalies=tuple(anomalies),
            plan=self._plan() if outcome is Outcome.OK else None,
            render_time=self.render_time,
            layer=layer,
        )


class _HtmlRow:
    """One row of an action table, read from the markup alone."""

    def __init__(self, action_id: str) -> None:
        self.action_id = action_id
        self.name: str | None = None
        self.identifier: str | None = None
        self.phase_label: str | None = None
        self.status_label: str | None = None
        self.task_total: int | None = None
        self.task_ratios: tuple[float, float, float] | None = None
        self.updated_text: str | None = None
        self.id_text: str | None = None

    def add(self, cell: LexborNode) -> None:
        link = cell.css_first("a[href]")
        text = clean(cell.text(separator=" ")) or ""
        if cell.tag == "th" or (
            link and _ACTION_HREF.search(link.attributes["href"] or "")
        ):
            if link is not None:
                match = _ACTION_HREF.search(link.attributes.get("href") or "")
                self.identifier = match.group(1) if match else None
            self.name = clean(link.text() if link else text)
        elif cell.css_first(".completed, .late, .on-time") is not None:
            self._tasks(cell)
        elif cell.css_first("ul li svg") is not None:
            label = cell.css_first("p, div > div:last-child")
            self.phase_label = _last_text(cell) or (
                clean(label.text()) if label else None
            )
        elif cell.css_first("svg, img") is not None:
            return  # responsible-party, indicator and logo icons carry no text
        elif text:
            self._text(text)

    def _tasks(self, cell: LexborNode) -> None:
        widths = []
        for selector in (".completed", ".late", ".on-time"):
            node = cell.css_first(selector)
            match = _WIDTH.search(node.attributes.get("style") or "") if node else None
            widths.append(float(match.group(1)) if match else 0.0)
        self.task_ratios = (widths[0], widths[1], widths[2])
        self.task_total = i18n.parse_task_label(clean(cell.text(separator=" ")) or "")

    def _text(self, text: str) -> None:
        if reltime.parse_relative(text, datetime.now(UTC)) is not None:
            self.updated_text = text
        elif self.id_text is None and self.name is None:
            self.id_text = text
        else:
            self.status_label = text

    def to_action(self, page: _Page) -> Action:
        updated = (
            reltime.parse_relative(self.updated_text, page.observed_at)
            if self.updated_text
            else None
        )
        counts = None
        if self.task_total is not None:
            counts = TaskCounts(self.task_total, *self._split_counts())
        status = None
        if self.status_label is not None:
            merged = self.status_label in i18n.MERGED_LABELS
            status = Status("merged" if merged else None, self.status_label)
        return Action(
            id=self.action_id,
            identifier=self.identifier or self.id_text,
            name=self.name,
            url=page.action_url(self.identifier or self.id_text),
            status=status,
            phase=Phase(None, self.phase_label) if self.phase_label else None,
            tasks=counts,
            updated_at=updated,
            completion=None,
            layer=Layer.HTML,
        )

    def _split_counts(self) -> tuple[int | None, int | None, int | None]:
        if self.task_ratios is None or not self.task_total:
            return (0, 0, 0) if self.task_total == 0 else (None, None, None)
        total = self.task_total
        completed, late, _ = (round(total * r / 100) for r in self.task_ratios)
        return completed, late, total - completed - late


def _last_text(cell: LexborNode) -> str | None:
    for node in reversed(cell.css("p, div")):
        if node.css_first("svg") is None:
            text = clean(node.text())
            if text:
                return text
    return None


def _site_prefix(url: str) -> str | None:
    """The URL up to the plan's locale and base path: what ``/actions/..`` hangs off."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    path = parts.path.rstrip("/")
    match = _PAGE_PATH.search(path)
    base = path[: match.start()] if match else path
    return urlunsplit((parts.scheme, parts.netloc, base, "", ""))


def _status(raw: Any) -> Status | None:
    if not isinstance(raw, dict):
        return None
    return Status(_str(raw.get("identifier")), clean(raw.get("name")))


def _phase(raw: Any) -> Phase | None:
    if not isinstance(raw, dict):
        return None
    return Phase(_str(raw.get("identifier")), clean(raw.get("name")))


def _task(raw: dict[str, Any]) -> Task:
    return Task(
        id=_str(raw.get("id")),
        name=clean(raw.get("name")),
        state=_str(raw.get("state")),
        due_at=_date(raw.get("dueAt")),
        completed_at=_date(raw.get("completedAt")),
    )


def _parties(raw: Any) -> tuple[ResponsibleParty, ...] | None:
    if not isinstance(raw, list):
        return None
    parties = []
    for party in raw:
        org = party.get("organization") if isinstance(party, dict) else None
        if not isinstance(org, dict) or org.get("id") is None:
            continue
        parties.append(
            ResponsibleParty(
                organization_id=str(org["id"]),
                organization_name=clean(org.get("name")),
                role=_str(party.get("role")),
            )
        )
    return tuple(parties)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def absolute_url(base: str, href: str) -> str:
    return urljoin(base, href)
