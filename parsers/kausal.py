"""Kausal Watch pages -> records.

Each page carries two layers: the rendered markup and the embedded data (see
``parsers.embedded``). The embedded data holds exact values and wins; the markup is
the fallback when the embedded data is missing or unreadable, and a cross-check when
both are there. A page neither layer explains is reported as what it is, never as an
empty list of actions.

Page kinds: an organization's page (its heading "Responsible in N actions" and its
action table), the action list (cards, or the dashboard's table), an action's own
page; and the pages that are none of these: not found, and whatever else a site can
answer with (an error page, a login wall, a maintenance notice, a loading shell, an
empty table, a layout we do not know).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import msgspec
from selectolax.lexbor import LexborHTMLParser

from parsers import data as d
from parsers import embedded, i18n, markup, reltime, sitemap
from parsers import raw as raw_shapes
from parsers.records import (
    ID_FROM_IDENTIFIER,
    Action,
    Anomaly,
    IndicatorRef,
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
    TimeRange,
)
from parsers.text import clean

_PAGE_PATH = re.compile(r"/(organizations|actions)(?:/([^/?#]+))?/?$")
# A date shown on a page is a day somewhere: from UTC+14 to UTC-12.
_EARLIEST_ZONE = timedelta(hours=14)
_LATEST_ZONE = timedelta(hours=12)
# Keys of the objects that carry the plan's context (statuses, lines, time zone).
_PLAN_KEYS = (
    "primaryLanguage",
    "actionStatuses",
    "actionTimelinessClasses",
    "timezone",
)
_Times = tuple[datetime | None, str | None]  # observed_at, the Date header
_END_TAG = re.compile(r"</html\s*>", re.IGNORECASE)
_END_TAG_BYTES = re.compile(rb"</html\s*>", re.IGNORECASE)
_404 = re.compile(r"404(?:\W+(.*))?", re.DOTALL)
_NOT_FOUND_FOLDED = frozenset(
    {"not found", *(text.casefold() for text in i18n.NOT_FOUND_TEXTS)}
)
_KAUSAL_MARKERS = ("self.__next_f", "symbol-icon-", 'data-testid="root-layout"')


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
    # Known shortcoming: lexbor builds some deeply nested markup in quadratic time
    # (40,000 unclosed <div>s with a <p> in each, 520 kB: 9 s), so a hostile page
    # under the body limit can hold a check for minutes; there is no depth guard.
    times = (observed_at, date_header)
    body = _unmarked(body)
    return _parse_cut(body, url, times) or parse_whole(body, url, times)


def _unmarked(body: bytes | str) -> bytes | str:
    """The body without a leading UTF-8 byte order mark, which browsers drop; lexbor
    keeps it as text, before which a saved redirect stub or JSON answer was misread."""
    if isinstance(body, bytes):
        return body.removeprefix(b"\xef\xbb\xbf")
    return body.removeprefix("\ufeff")


def parser_failure(url: str, observed_at: datetime, error: Exception) -> ParsedPage:
    """What to record of a page ``parse_page`` failed on: a layout it could not read.

    A parser raising is a bug in planwatch, but the page's check must still end in
    an outcome that removes nothing and replaces no baseline.
    """
    detail = f"the parser failed on this page: {type(error).__name__}: {error}"
    return ParsedPage(
        kind=PageKind.UNKNOWN,
        outcome=Outcome.LAYOUT_UNRECOGNISED,
        url=url,
        language=None,
        observed_at=observed_at.astimezone(UTC),
        organization=None,
        actions=(),
        anomalies=(Anomaly("layout_unrecognised", detail[:300]),),
        extra={"seen": "parser_error"},
    )


def _parse_cut(body: bytes | str, url: str, times: _Times) -> ParsedPage | None:
    """The page from its embedded data read straight from the body and its markup
    parsed without it; None when that cannot be done exactly or the embedded data
    does not explain the page."""
    cut = embedded.cut_scripts(body)
    if cut is None:
        return None
    scan = markup.Scan(LexborHTMLParser(cut.markup))
    data = cut.data(scan.scripts)
    if data is None:
        return None
    return _page(scan, data, url, times, body).parse(markup=False)


def parse_whole(
    body: bytes | str, url: str, times: _Times = (None, None)
) -> ParsedPage:
    """The page parsed as it came, scripts and all (``parse_page``'s fallback)."""
    body = _unmarked(body)
    scan = markup.Scan(LexborHTMLParser(body))
    data = embedded.extract(scan.tree, scan.scripts)
    page = _page(scan, data, url, times, body).parse()
    assert page is not None  # only a parse without the markup fallback gives up
    return page


def _page(
    scan: markup.Scan,
    data: embedded.EmbeddedData,
    url: str,
    times: _Times,
    body: bytes | str,
) -> _Page:
    observed_at, date_header = times
    start = body[:64]  # is it HTML at all?
    start = start.decode("utf-8", "replace") if isinstance(start, bytes) else start
    render_time = d.utc_iso(embedded.render_time(data))
    seen = observed_at or render_time or d.http_date(date_header) or datetime.now(UTC)
    return _Page(scan, data, url, seen, render_time, start.lstrip(), body)


class _Page:
    def __init__(
        self,
        scan: markup.Scan,
        data: embedded.EmbeddedData,
        url: str,
        observed_at: datetime,
        render_time: datetime | None,
        start: str = "",
        body: bytes | str = "",
    ) -> None:
        self.start = start  # the body's first characters: is it HTML at all?
        self.body = body
        self.scan = scan
        self.tree = scan.tree
        self.data = data
        self.url = url
        self.observed_at = observed_at.astimezone(UTC)
        self.render_time = render_time
        root = scan.root
        self.language = (root.attributes.get("lang") if root else None) or None
        self.prefix = _site_prefix(url)
        self.section, self.path_id = _path(url)
        # a filtered list shows only part of the actions its data holds
        self.filtered = sitemap.filtered(url)
        self._test_ids: frozenset[str] | None = None
        self.problems: list[str] = []  # embedded values that did not read

    def parse(self, *, markup: bool = True) -> ParsedPage | None:
        """The page as its embedded data, else its markup, explains it; without
        ``markup``, None where the embedded data explains nothing."""
        if self.data.not_found:
            return self._not_found("the embedded data says not found")

        org_props = next(self.data.find_props("planFromOrgQuery", apollo=False), None)
        if org_props is not None:
            return self._organization(org_props)
        action_props = self._action_props()
        if action_props is not None:
            return self._action_page(action_props)
        plan_actions = self._plan_actions()
        if plan_actions is not None:
            return self._action_list(plan_actions)

        return self._from_markup() if markup else None

    # -- organization pages ---------------------------------------------------------

    def _organization(self, props: dict[str, Any]) -> ParsedPage:
        org = props.get("org")
        org = org if isinstance(org, dict) else {}
        plan = props.get("planFromOrgQuery") or {}
        if not isinstance(plan, dict):
            self.problems.append(f"planFromOrgQuery is {plan!r:.40}")
            plan = {}
        raw_actions = plan.get("actions")
        if raw_actions is None:
            raw_actions = []
        elif not isinstance(raw_actions, list):
            self.problems.append(f"planFromOrgQuery.actions is {raw_actions!r:.40}")
            raw_actions = []
        actions = d.actions(raw_actions, self.observed_at, self.url_for, self.problems)
        heading = markup.heading_count(self.scan)
        rows = markup.row_tasks(self.scan)

        anomalies = list(self._cross_check_rows(actions, rows))
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
        organization = d.organization(
            org, heading if heading is not None else len(actions)
        )
        return self._result(
            PageKind.ORGANIZATION,
            Outcome.OK,
            organization,
            actions,
            anomalies,
            layer=Layer.EMBEDDED,
        )

    def _organization_from_markup(self) -> ParsedPage | None:
        rows = markup.table_rows(self.tree)
        heading = markup.heading_count(self.scan)
        if not rows and heading is None:
            return None
        name, parent = markup.organization_header(self.tree)
        organization = Organization(
            id=self.path_id if self.section == "organizations" else None,
            name=name,
            action_count=heading,
            parent_id=parent,
        )
        if not rows and heading:
            return self._unrecognised(
                "empty_table",
                f"heading says {heading} actions above an empty action table, "
                "and no embedded data",
            )
        actions = tuple(self._row_action(row) for row in rows.values())
        anomalies = [self._embedded_missing()]
        anomalies += self._table_counts(len(actions), heading, "heading says")
        return self._result(
            PageKind.ORGANIZATION,
            Outcome.OK,
            organization,
            actions,
            anomalies,
            layer=Layer.HTML,
        )

    def _table_counts(
        self, found: int, expected: int | None, source: str
    ) -> list[Anomaly]:
        anomalies = []
        if expected is not None and expected != found:
            anomalies.append(
                Anomaly(
                    "count_mismatch",
                    f"{source} {expected} actions, the table has {found} rows",
                )
            )
        declared = markup.declared_rows(self.scan)
        if declared is not None and declared != found:
            anomalies.append(
                Anomaly(
                    "count_mismatch",
                    f"the table declares {declared} rows and holds {found}: truncated",
                )
            )
        return anomalies

    # -- action pages ---------------------------------------------------------------

    def _action_props(self) -> dict[str, Any] | None:
        for props in self.data.find_props("action", apollo=False):
            value = props.get("action")
            if isinstance(value, dict) and value.get("__typename") == "Action":
                return value
        return None

    def _action_page(self, raw: dict[str, Any]) -> ParsedPage:
        action = d.action(raw, self.observed_at, self.url_for, self.problems)
        anomalies = []
        shown = markup.action_page(self.tree, action.identifier)
        if shown.name is not None and action.task_list is not None:
            visible = sum(1 for t in action.task_list if t.state != "CANCELLED")
            if shown.tasks and len(shown.tasks) != visible:
                anomalies.append(
                    Anomaly(
                        "layer_disagreement",
                        f"action {action.id}: the page lists {len(shown.tasks)} "
                        f"tasks, embedded data {visible}",
                    )
                )
        return self._result(
            PageKind.ACTION, Outcome.OK, None, (action,), anomalies, Layer.EMBEDDED
        )

    def _action_from_markup(self) -> ParsedPage | None:
        url_identifier = self.path_id if self.section == "actions" else None
        shown = markup.action_page(self.tree, url_identifier)
        if not _shows_action(shown):
            return None
        lang = self.language
        tasks = tuple(_markup_task(t, lang) for t in shown.tasks)
        updated = i18n.last_updated_date(shown.updated_text or "", lang)
        phase_label, status_label = shown.phase_label, shown.status_label
        start = end = None
        if shown.schedule is not None:
            start = i18n.absolute_date(shown.schedule[0], lang)
            end = i18n.absolute_date(shown.schedule[1] or "", lang)
        identifier = shown.identifier or url_identifier
        action = Action(
            id=ID_FROM_IDENTIFIER + (identifier or ""),
            identifier=identifier,
            name=shown.name,
            url=self.url_for(identifier),
            status=_markup_status(status_label),
            phase=Phase(None, phase_label) if phase_label else None,
            tasks=_counts_from_tasks(tasks, self.observed_at),
            updated_at=_day_range(updated) if updated else None,
            completion=shown.completion,
            task_list=tasks,
            responsible_parties=tuple(
                ResponsibleParty(p.organization_id, p.name, p.role)
                for p in shown.parties
            ),
            status_summary=_markup_summary(status_label),
            start_date=start,
            end_date=end,
            layer=Layer.HTML,
            related_indicators=tuple(
                IndicatorRef(ident, name) for ident, name in shown.indicators
            ),
            primary_org_id=shown.primary_org_id,
        )
        return self._result(
            PageKind.ACTION,
            Outcome.OK,
            None,
            (action,),
            [self._embedded_missing(ids=False)],
            Layer.HTML,
        )

    # -- action lists ---------------------------------------------------------------

    def _plan_actions(self) -> list[Any] | None:
        return self.data.first_list("planActions", raw_shapes.ACTIONS)

    def _action_list(self, raw_actions: list[Any]) -> ParsedPage:
        actions = d.actions(raw_actions, self.observed_at, self.url_for, self.problems)
        anomalies: list[Anomaly] = []
        declared = markup.declared_rows(self.scan)
        rows = markup.row_tasks(self.scan)
        if declared and not rows:
            anomalies.append(
                Anomaly(
                    "table_missing",
                    f"the action table declares {declared} rows but shows none",
                )
            )
        if not self.filtered:
            anomalies += self._cross_check_rows(actions, rows)
            if not rows:
                targets = markup.card_targets(self.scan)
                anomalies += self._cross_check_cards(actions, targets)
        return self._result(
            PageKind.ACTION_LIST, Outcome.OK, None, actions, anomalies, Layer.EMBEDDED
        )

    def _action_list_from_markup(self) -> ParsedPage | None:
        rows = markup.table_rows(self.tree)
        if rows:
            actions = tuple(self._row_action(row) for row in rows.values())
            anomalies = [self._embedded_missing()]
            if not self.filtered:
                anomalies += self._table_counts(len(actions), None, "")
        else:
            cards = markup.cards(self.tree)
            declared = markup.declared_rows(self.scan)
            if not cards and declared:
                return self._unrecognised(
                    "empty_table",
                    f"the action table declares {declared} rows but shows none, "
                    "and no embedded data",
                )
            if not cards:
                return None
            actions = tuple(self._card_action(card) for card in cards)
            anomalies = [self._embedded_missing(ids=False)]
        return self._result(
            PageKind.ACTION_LIST, Outcome.OK, None, actions, anomalies, Layer.HTML
        )

    # -- the markup alone -----------------------------------------------------------

    def _from_markup(self) -> ParsedPage:
        if self._markup_not_found():
            return self._not_found("the page says not found")
        readers = {
            PageKind.ORGANIZATION: self._organization_from_markup,
            PageKind.ACTION: self._action_from_markup,
            PageKind.ACTION_LIST: self._action_list_from_markup,
        }
        expected = self._expected_kind()
        order = [expected] if expected else []
        order += [kind for kind in readers if kind not in order]
        for kind in order:
            page = readers[kind]()
            if page is not None and page.outcome is Outcome.OK and self._cut_short():
                return self._unrecognised(
                    "truncated",
                    "the page stops before its end (no </html>) and holds no "
                    "embedded data: its markup shows only part of it",
                )
            if page is not None:
                return page
        return self._unknown()

    def _cut_short(self) -> bool:
        """Whether the body stops before its document's end tag, which the UI always
        writes (styled-components' styles may follow it): a dropped stream or a
        truncated capture, whose markup holds part of the page."""
        if isinstance(self.body, str):
            return _END_TAG.search(self.body) is None
        return _END_TAG_BYTES.search(self.body) is None

    def _expected_kind(self) -> PageKind | None:
        ids = self.test_ids
        if "organization-page" in ids or self.section == "organizations":
            return PageKind.ORGANIZATION
        if "action-page" in ids or (self.section == "actions" and self.path_id):
            return PageKind.ACTION
        if "actions-list-page" in ids or self.section == "actions":
            return PageKind.ACTION_LIST
        return None

    @property
    def test_ids(self) -> frozenset[str]:
        if self._test_ids is None:
            self._test_ids = markup.test_ids(self.tree)
        return self._test_ids

    def _row_action(self, row: markup.Row) -> Action:
        identifier = row.identifier or row.id_text
        merged_into = None
        if _markup_summary(row.status_label) == "MERGED":
            # A merged action's row links to the action it was merged into.
            identifier, merged_into = row.id_text, row.identifier
        updated = (
            reltime.parse_relative(row.updated_text, self.observed_at)
            if row.updated_text
            else None
        )
        counts = None
        if row.task_total is not None:
            counts = TaskCounts(
                row.task_total, *markup.split_counts(row.task_total, row.task_widths)
            )
        return Action(
            id=row.action_id,
            identifier=identifier,
            name=row.name,
            url=self.url_for(identifier),
            status=_markup_status(row.status_label),
            phase=Phase(None, row.phase_label) if row.phase_label else None,
            tasks=counts,
            updated_at=updated,
            completion=None,
            status_summary=_markup_summary(row.status_label),
            layer=Layer.HTML,
            merged_with_identifier=merged_into,
        )

    def _card_action(self, card: markup.Card) -> Action:
        phase_label, status_label = markup.card_status(card.status_line)
        return Action(
            id=ID_FROM_IDENTIFIER + card.identifier,
            identifier=card.identifier,
            name=card.name,
            url=self.url_for(card.identifier),
            status=_markup_status(status_label),
            phase=Phase(None, phase_label) if phase_label else None,
            tasks=None,
            updated_at=None,
            completion=None,
            status_summary=_markup_summary(status_label),
            layer=Layer.HTML,
            merged_with_identifier=card.merged_into,
        )

    def _embedded_missing(self, ids: bool = True) -> Anomaly:
        if ids:
            return Anomaly("embedded_missing", "no readable embedded data; used HTML")
        return Anomaly(
            "ids_missing",
            "no readable embedded data; used HTML, which shows no platform ids: "
            f"actions are keyed by identifier ({ID_FROM_IDENTIFIER}<identifier>)",
        )

    # -- cross-checks ---------------------------------------------------------------

    def _cross_check_rows(
        self, actions: Iterable[Action], rows: Mapping[str, int | None]
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
        for action_id, table_total in rows.items():
            action = by_id.get(action_id)
            if action is None:
                continue
            data_total = action.tasks.total if action.tasks else None
            if None not in (table_total, data_total) and table_total != data_total:
                yield Anomaly(
                    "layer_disagreement",
                    f"action {action_id}: table says {table_total} tasks, "
                    f"embedded data {data_total}",
                )

    def _cross_check_cards(
        self, actions: Iterable[Action], targets: list[str]
    ) -> Iterable[Anomaly]:
        if not targets:
            return
        # A merged action's card links to the action it was merged into.
        shown = set(targets)
        held = {
            key for a in actions if (key := a.merged_with_identifier or a.identifier)
        }
        if shown != held or len(targets) != sum(1 for _ in actions):
            yield Anomaly(
                "layer_disagreement",
                f"cards and embedded data differ: {len(targets)} cards for "
                f"{sum(1 for _ in actions)} actions; missing cards "
                f"{sorted(held - shown, key=_natural)}, cards without data "
                f"{sorted(shown - held, key=_natural)}",
            )

    # -- pages that are not plan content --------------------------------------------

    def _markup_not_found(self) -> bool:
        noindex = any(
            (meta.attributes.get("content") or "").strip().lower() == "noindex"
            for meta in self.tree.css("meta[name='robots']")
        )
        for node in self.tree.css("title, h1, h2"):
            text = clean(node.text()) or ""
            if text in i18n.NOT_FOUND_TEXTS or _says_404(text):
                return True
        # Next's not-found answer adds a bare "noindex" and renders no content.
        return noindex and not markup.row_tasks(self.scan) and not self._content()

    def _content(self) -> bool:
        return bool(
            {"organization-page", "action-page", "actions-list-page"} & self.test_ids
            or self.tree.css_first("li[class*='state--']")
            or markup.heading_count(self.scan) is not None
            or _shows_action(markup.action_page(self.tree, None))
            or markup.cards(self.tree)
        )

    def _not_found(self, detail: str) -> ParsedPage:
        return self._result(
            PageKind.NOT_FOUND,
            Outcome.NOT_FOUND,
            None,
            (),
            extra={"seen": "not_found", "detail": detail},
        )

    def _unknown(self) -> ParsedPage:
        if self.start.startswith(("<?xml", "{", "[")):
            return self._unrecognised("not_html", "not an HTML page (XML or JSON)")
        if "indicator-page" in self.test_ids or "/indicators/" in self.url:
            return self._unrecognised(
                "indicator_page", "an indicator page: not a page kind planwatch reads"
            )
        seen, detail = _what_it_is(self.tree, self.data)
        return self._unrecognised(seen, detail)

    def _unrecognised(self, seen: str, detail: str) -> ParsedPage:
        return self._result(
            PageKind.UNKNOWN,
            Outcome.LAYOUT_UNRECOGNISED,
            None,
            (),
            [Anomaly("layout_unrecognised", detail)],
            extra={"seen": seen},
        )

    # -- helpers --------------------------------------------------------------------

    def url_for(self, identifier: str | None) -> str | None:
        if identifier is None or self.prefix is None:
            return None
        return f"{self.prefix}/actions/{identifier}"

    def _plan(self) -> PlanContext | None:
        # The layout gives the plan's context in the flight payload; the Apollo
        # results (megabytes on a large plan's list) are asked only without it.
        plans: list[dict[str, Any]] = []
        for apollo in (False, True):
            for key in _PLAN_KEYS:
                found = next(self.data.find_props(key, apollo=apollo), None)
                if found is not None and all(found is not p for p in plans):
                    plans.append(found)
            if plans:
                break
        # The plan's own context first: it names the plan and its languages.
        plans.sort(key=lambda p: "primaryLanguage" not in p)
        return d.plan_context(plans)

    def _result(
        self,
        kind: PageKind,
        outcome: Outcome,
        organization: Organization | None,
        actions: tuple[Action, ...],
        anomalies: Iterable[Anomaly] = (),
        layer: Layer | None = None,
        extra: dict[str, str] | None = None,
    ) -> ParsedPage:
        anomalies = list(anomalies)
        if self.problems:
            anomalies.append(d.unreadable(self.problems))
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
            extra=extra or {},
        )


def _what_it_is(tree: LexborHTMLParser, data: embedded.EmbeddedData) -> tuple[str, str]:
    """(code, description) of a page that is no page we know."""
    html = tree.html or ""
    body = tree.body
    text = clean(body.text(separator=" ")) if body is not None else ""
    text = text or ""
    head = " ".join(clean(n.text()) or "" for n in tree.css("title, h1, h2")).casefold()
    folded = text.casefold()
    if not text and tree.css_first("body *, head *") is None:
        return "empty", "empty page"
    if tree.css_first("urlset, sitemapindex, rss, feed"):
        return "not_html", "not an HTML page (XML)"
    if not tree.css_first("body *") and re.fullmatch(r"(https?://|/)\S*", text):
        return "redirect_stub", f"only a redirect target: {text[:80]}"
    if tree.css_first("input[type='password']") or _mentions(head, i18n.LOGIN_TEXTS):
        return "login_wall", "a login wall: no plan content, a sign-in form or title"
    if _mentions(head, i18n.MAINTENANCE_TEXTS) or (
        len(text) < 2000 and _mentions(folded, i18n.MAINTENANCE_TEXTS)
    ):
        return "maintenance", "a maintenance notice, no plan content"
    if _mentions(head, i18n.ERROR_TEXTS) or (
        len(text) < 2000 and _mentions(folded, i18n.ERROR_TEXTS)
    ):
        return "error_page", f"an error page: {(head or folded)[:80]!r}"
    if not any(marker in html for marker in _KAUSAL_MARKERS):
        return "not_kausal", "not a Kausal Watch page (no embedded data, no UI icons)"
    loading = any(word.casefold() in folded for word in i18n.LOADING_TEXTS)
    # Content streamed after the fallback comes in hidden segments ("S:0", ...).
    streamed = any(
        clean(node.text(separator=" ")) for node in tree.css("div[hidden][id^='S:']")
    )
    if loading and data.empty and not streamed:
        return "loading_shell", "a loading shell with no content and no embedded data"
    held = (
        "no embedded data"
        if data.empty
        else "embedded data with no organization, action or action list"
    )
    return "unknown_layout", f"no action table, no cards, no action page; {held}"


def _says_404(text: str) -> bool:
    """Whether a heading is a 404 notice: "404" alone or before a not-found text
    ("404 Not Found", "404: This page could not be found."), not any text that
    begins with the digits (action 404's title, "404 toimenpiteen ...")."""
    found = _404.fullmatch(text)
    if found is None:
        return False
    rest = found.group(1)
    return not rest or rest.casefold() in _NOT_FOUND_FOLDED


def _mentions(text: str, words: Iterable[str]) -> bool:
    return any(re.search(rf"\b{re.escape(word)}\b", text) for word in words)


def _shows_action(shown: markup.ActionMarkup) -> bool:
    """Whether an action page's markup shows an action: its name, and its progress,
    tasks or responsible parties."""
    return shown.name is not None and bool(
        shown.status_label or shown.phase_label or shown.tasks or shown.parties
    )


def _markup_status(label: str | None) -> Status | None:
    return Status(None, label) if label else None


def _markup_summary(label: str | None) -> str | None:
    # The markup names a merged action's state in words only; the summary is the
    # one identifier those words stand for.
    return "MERGED" if label and label in i18n.MERGED_LABELS else None


def _markup_task(task: markup.PageTask, lang: str | None) -> Task:
    shown = i18n.absolute_date(task.date_text or "", lang)
    done = task.state == "COMPLETED"
    return Task(
        id=None,
        name=task.name,
        state=task.state,
        due_at=None if done else shown,
        completed_at=shown if done else None,
    )


def _counts_from_tasks(tasks: tuple[Task, ...], now: datetime) -> TaskCounts:
    counted = [t for t in tasks if t.state in d.COUNTED_TASK_STATES]
    completed = sum(1 for t in counted if t.state == "COMPLETED")
    late = sum(
        1
        for t in counted
        if t.state in d.OPEN_TASK_STATES
        and t.due_at is not None
        and datetime.combine(t.due_at, time(), UTC) < now
    )
    # An open task whose date the page does not give precisely cannot be judged.
    unknown = sum(
        1 for t in counted if t.state in d.OPEN_TASK_STATES and t.due_at is None
    )
    return TaskCounts(
        total=len(counted),
        completed=completed,
        late=None if unknown else late,
        on_time=None if unknown else len(counted) - completed - late,
    )


def _day_range(day: date) -> TimeRange:
    """A date as shown somewhere on Earth: every moment it can stand for (within
    the calendar: 0001-01-01 and 9999-12-31 reach past its ends)."""
    start = datetime.combine(day, time(), UTC)
    end = start + (timedelta(days=1) - timedelta(microseconds=1))
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    return TimeRange(
        exact=None,
        earliest=start - min(_EARLIEST_ZONE, start - first),
        latest=end + min(_LATEST_ZONE, last - end),
    )


def _site_prefix(url: str) -> str | None:
    """The URL up to the plan's locale and base path: what ``/actions/..`` hangs off."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    path = parts.path.rstrip("/")
    match = _PAGE_PATH.search(path)
    base = path[: match.start()] if match else path
    return sitemap.public_url(urlunsplit((parts.scheme, parts.netloc, base, "", "")))


def _path(url: str) -> tuple[str | None, str | None]:
    match = _PAGE_PATH.search(urlsplit(url).path)
    if match is None:
        return None, None
    return match.group(1), unquote(match.group(2)) if match.group(2) else None


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdecimal() else (0, value)


def resolve_identifier_keys(pages: Iterable[ParsedPage]) -> list[ParsedPage]:
    """Pages whose identifier-keyed actions take the platform ids other pages show.

    Action cards and action pages read from the markup alone carry no platform id
    (``Action.platform_id`` is None). When another page of the same check maps the
    identifier to an id, the action takes it; the others keep their stand-in key.
    """
    pages = list(pages)
    known = {
        a.identifier: a.id
        for page in pages
        for a in page.actions
        if a.identifier and a.platform_id is not None
    }
    resolved = []
    for page in pages:
        actions = tuple(
            msgspec.structs.replace(a, id=known[a.identifier])
            if a.platform_id is None and a.identifier in known
            else a
            for a in page.actions
        )
        resolved.append(
            msgspec.structs.replace(page, actions=actions)
            if actions != page.actions
            else page
        )
    return resolved


def absolute_url(base: str, href: str) -> str:
    return urljoin(base, href)
