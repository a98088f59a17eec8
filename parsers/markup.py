"""What the rendered markup of a Kausal Watch page says, without its embedded data.

The fallback layer, and the cross-check of the embedded one. Only stable hooks are
used: ``data-testid`` attributes, cell ids ``row-<actionPk>-<colIndex>``, the classes
``row-title``, ``completed``/``late``/``on-time``, ``state--<STATE>`` and the badge
sizes ``lg``/``sm``/``md``, ``/actions/``, ``/organizations/`` and ``/indicators/``
links, icon names (``#symbol-icon-circle-half``) and ARIA attributes; never the
emotion or styled-components class hashes, which change with every build.

Headers and labels are configurable per plan and translated, so table columns are
told apart by what their cells hold, never by their header text.

The functions here return what the markup shows, as text and counts; turning that
into records (which needs the observation time and the page's language) is
``parsers.kausal``'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from parsers import i18n, reltime
from parsers.text import clean

_CELL_ID = re.compile(r"^row-(\d+)-(\d+)$")
_WIDTH = re.compile(r"width:\s*([\d.]+)%")
ACTION_PATH = re.compile(r"/actions/([^/?#]+)/?$")
ORG_PATH = re.compile(r"/organizations/([^/?#]+)/?$")
INDICATOR_PATH = re.compile(r"/indicators/(\d+)/?$")
_STATE_CLASS = re.compile(r"\bstate--([A-Z_]+)\b")
_SCHEDULE = re.compile(r"^(\S+)\s*→\s*(\S*)$")
_CARD_STATUS = re.compile(r"^(.+) \(([^()]+)\)$")
_CURRENT_PHASE_ICONS = ("circle-half", "check-circle")
_PHASE_ICONS = ("circle-full", "circle-half", "circle-outline", "check-circle")
_ROLES = {"lg": "PRIMARY", "sm": "COLLABORATOR"}


def path_match(pattern: re.Pattern[str], href: str | None) -> str | None:
    """The id or identifier a link's path names, URL-decoded, or None."""
    if not href:
        return None
    if "?" in href or "#" in href:
        href = urlsplit(href).path
    found = pattern.search(href)
    return unquote(found.group(1)) if found else None


def test_ids(tree: LexborHTMLParser) -> frozenset[str]:
    return frozenset(
        str(node.attributes.get("data-testid")) for node in tree.css("[data-testid]")
    )


class Scan:
    """The nodes the embedded-data path reads, each kind looked for on first use.

    Each CSS query walks the whole tree (a 600-row dashboard holds 30,000
    elements: about half a millisecond a walk), and lexbor walks it once for each
    selector of a list (``"h2, h3"`` is two walks), so a page asks only for the
    kinds of node its kind of page reads.
    """

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.tree = tree
        self.root: LexborNode | None = tree.root  # <html>, whatever the markup says

    @cached_property
    def scripts(self) -> list[LexborNode]:
        return self.tree.css("script")

    @cached_property
    def row_titles(self) -> list[LexborNode]:
        return self.tree.css("th.row-title[id^='row-']")

    @cached_property
    def task_bars(self) -> list[LexborNode]:
        return self.tree.css("div.completed")

    @cached_property
    def tables(self) -> list[LexborNode]:
        return self.tree.css("table[aria-rowcount]")

    @cached_property
    def headings(self) -> list[LexborNode]:
        return self.tree.css("h2, h3")

    @cached_property
    def links(self) -> list[LexborNode]:
        return self.tree.css("li > a[href]")


# -- action tables: the organization page and the dashboard ---------------------------


@dataclass(slots=True)
class Row:
    """One row of an action table, as the markup shows it."""

    action_id: str
    identifier: str | None = None
    name: str | None = None
    id_text: str | None = None
    phase_label: str | None = None
    status_label: str | None = None
    task_total: int | None = None
    task_widths: tuple[float, float, float] | None = None  # completed, late, on time
    updated_text: str | None = None


def table_rows(tree: LexborHTMLParser) -> dict[str, Row]:
    """Every action row of the page's action tables, by the platform's action id."""
    rows: dict[str, Row] = {}
    for cell in tree.css("td[id^='row-'], th[id^='row-']"):
        found = _CELL_ID.match(cell.attributes.get("id") or "")
        if found is None:
            continue
        row = rows.get(found.group(1))
        if row is None:
            row = rows[found.group(1)] = Row(found.group(1))
        _read_cell(row, cell)
    return rows


def row_tasks(scan: Scan) -> dict[str, int | None]:
    """Each table row's action id and task count: the cheap view for cross-checks."""
    rows: dict[str, int | None] = {}
    # One cell per row is enough: the row titles, else every cell.
    cells = scan.row_titles or scan.tree.css("[id^='row-']")
    for cell in cells:
        found = _CELL_ID.match(cell.attrs.get("id") or "")
        if found is not None and found.group(1) not in rows:
            rows[found.group(1)] = None
    labels: dict[str, int | None] = {}  # a plan's bars repeat a few labels
    for bar in scan.task_bars:
        node: LexborNode | None = bar.parent
        while node is not None and node.tag != "td":
            node = node.parent
        found = _CELL_ID.match(node.attrs.get("id") or "") if node else None
        if node is not None and found is not None:
            label = node.text(separator=" ")
            if label not in labels:
                labels[label] = i18n.parse_task_label(clean(label) or "")
            rows[found.group(1)] = labels[label]
    return rows


def card_targets(scan: Scan) -> list[str]:
    """Where each action card links to: its identifier, or a merged one's target."""
    targets = []
    for link in scan.links:
        target = path_match(ACTION_PATH, link.attrs.get("href"))
        if target is not None and _contains(link, "div"):
            targets.append(target)
    return targets


def declared_rows(scan: Scan) -> int | None:
    """How many rows the action table says it has (``aria-rowcount``)."""
    for table in scan.tables:
        if table.css_first("[id^='row-']") is not None or not table.css_first("tr td"):
            value = table.attributes.get("aria-rowcount") or ""
            if value.isdecimal():
                return int(value)
    return None


def _read_cell(row: Row, cell: LexborNode) -> None:
    # Cheapest tests first: a table of 300 rows has over 2,000 cells.
    link = cell.css_first("a[href]")
    href = link.attributes.get("href") if link is not None else None
    identifier = path_match(ACTION_PATH, href)
    if cell.tag == "th" or identifier is not None:
        row.identifier = identifier or row.identifier
        row.name = clean((link or cell).text())
        return
    text = clean(cell.text(separator=" ")) or ""
    if not text:
        return  # responsible-party, indicator and logo icons, an empty status
    if i18n.parse_task_label(text) is not None:
        _read_tasks(row, cell)
    elif reltime.match(text) is not None:
        row.updated_text = text
    elif cell.css_first("ul li") is not None:
        row.phase_label = text  # the timeline icons carry no text
    elif (label := _badge_label(cell)) is not None:
        row.status_label = label
    elif row.name is None and row.id_text is None:
        row.id_text = text  # the identifier column comes before the name


def _read_tasks(row: Row, cell: LexborNode) -> None:
    widths = []
    for selector in (".completed", ".late", ".on-time"):
        node = cell.css_first(selector)
        found = _WIDTH.search(node.attributes.get("style") or "") if node else None
        try:
            widths.append(float(found.group(1)) if found else 0.0)
        except ValueError:  # "1.5.5": the widths do not tell the counts
            break
    else:
        row.task_widths = (widths[0], widths[1], widths[2])
    row.task_total = i18n.parse_task_label(clean(cell.text(separator=" ")) or "")


def _badge_label(cell: LexborNode) -> str | None:
    """The label of a status badge: a text after the (empty) coloured dot."""
    for node in cell.css("div"):
        if _has_element_children(node):
            continue
        label = clean(node.text())
        before = _previous_element(node)
        if label and before is not None and not clean(before.text()):
            return label
    return None


def split_counts(
    total: int | None, widths: tuple[float, float, float] | None
) -> tuple[int | None, int | None, int | None]:
    """(completed, late, on time) from a task bar's segment widths."""
    if total == 0:
        return 0, 0, 0
    if total is None or widths is None or not all(0 <= w <= 100 for w in widths):
        return None, None, None  # a segment wider than the bar is no count
    try:
        completed, late, _ = (round(total * width / 100) for width in widths)
    except OverflowError:  # a count past floating point: no width splits it
        return None, None, None
    if completed + late > total:
        return None, None, None
    return completed, late, total - completed - late


# -- the organization page's own parts ----------------------------------------------


def heading_count(scan: Scan) -> int | None:
    """The N of "Responsible in N actions" (any locale), or None."""
    for node in scan.headings:
        count = i18n.parse_responsible_count(clean(node.text()) or "")
        if count is not None:
            return count
    return None


def organization_header(tree: LexborHTMLParser) -> tuple[str | None, str | None]:
    """(name, parent id): the ``h1`` and the parent link written before it."""
    scope = tree.css_first("[data-testid='organization-page']") or tree.body
    h1 = scope.css_first("h1") if scope is not None else None
    if h1 is None:
        return None, None
    parent = None
    container = h1.parent
    if container is not None:
        for link in container.css("a[href]"):
            parent = path_match(ORG_PATH, link.attributes.get("href")) or parent
    return clean(h1.text()), parent


# -- action cards (the action list's default view) ----------------------------------


@dataclass(slots=True)
class Card:
    identifier: str
    name: str | None
    status_line: str | None  # "Implementation (On time)", "Completed", ...
    organization: str | None  # the primary organization's abbreviation or name
    merged_into: str | None = None  # the identifier a merged action's card links to


def cards(tree: LexborHTMLParser) -> list[Card]:
    found: list[Card] = []
    for link in tree.css("li > a[href]"):
        target = path_match(ACTION_PATH, link.attributes.get("href"))
        if target is None:
            continue
        leaves = _text_leaves(link)
        if len(leaves) < 2:
            continue  # a plain link ("Next", a related action), not a card
        name = leaves[-1][1]
        rest = leaves[:-1]
        identifier, merged_into = target, None
        if rest and rest[0][1] == target:
            rest = rest[1:]
        elif len(rest) >= 2 and merged_target(rest[1][1]) is not None:
            # A merged action's card links to the action it was merged into.
            identifier, merged_into = rest[0][1], target
            rest = rest[1:]
        organization = None
        for node, text in rest:
            before = _previous_element(node)
            if before is not None and (before.tag == "img" or before.css_first("img")):
                organization = text
                rest = [leaf for leaf in rest if leaf[0] is not node]
                break
        status = rest[0][1] if rest else None
        found.append(Card(identifier, name, status, organization, merged_into))
    return found


def merged_target(line: str) -> str | None:
    """The identifier in a "Merged with action → 6" line, or None if not one."""
    label, arrow, target = line.partition("→")
    if arrow and clean(label) in i18n.MERGED_LABELS:
        return clean(target) or None
    return None


def card_status(line: str | None) -> tuple[str | None, str | None]:
    """(phase label, status label) of a card's status line."""
    if not line:
        return None, None
    if merged_target(line) is not None:
        return None, clean(line.partition("→")[0])
    found = _CARD_STATUS.match(line)
    if found:
        return found.group(1), found.group(2)
    return None, line


# -- the action page ------------------------------------------------------------------


@dataclass(slots=True)
class PageTask:
    state: str
    name: str | None
    date_text: str | None


@dataclass(slots=True)
class PageParty:
    organization_id: str
    name: str | None
    role: str | None


@dataclass(slots=True)
class ActionMarkup:
    identifier: str | None
    name: str | None
    status_label: str | None = None
    phase_label: str | None = None
    completion: int | None = None
    tasks: list[PageTask] = field(default_factory=list)
    updated_text: str | None = None
    parties: list[PageParty] = field(default_factory=list)
    indicators: list[tuple[str, str | None]] = field(default_factory=list)
    schedule: tuple[str, str | None] | None = None
    primary_org_id: str | None = None


def action_page(tree: LexborHTMLParser, url_identifier: str | None) -> ActionMarkup:
    root = tree.css_first("[data-testid='action-page']") or tree.body
    page = ActionMarkup(identifier=url_identifier, name=None)
    if root is None:
        return page
    h1 = root.css_first("h1")
    if h1 is not None:
        spans = [clean(s.text()) for s in h1.css("span")]
        spans = [s for s in spans if s]
        if len(spans) >= 2:
            page.identifier, page.name = spans[0], spans[-1]
        else:
            page.name = clean(h1.text())
    _progress(page, root)
    bar = root.css_first("[role='progressbar'][aria-valuenow]")
    value = bar.attributes.get("aria-valuenow") if bar is not None else None
    page.completion = int(value) if value and value.isdecimal() else None
    for item in root.css("li[class*='state--']"):
        state = _STATE_CLASS.search(item.attributes.get("class") or "")
        if state is None:
            continue
        title = item.css_first("h4") or item.css_first(".task-title")
        date_node = item.css_first("span")
        page.tasks.append(
            PageTask(
                state.group(1),
                clean(title.text()) if title is not None else None,
                clean(date_node.text()) if date_node is not None else None,
            )
        )
    _links(page, root)
    _leaf_lines(page, root)
    return page


def _progress(page: ActionMarkup, root: LexborNode) -> None:
    """Status and phase: the badge under "Progress" and the phase timeline."""
    for timeline in root.css("ul"):
        items = timeline.css("li")
        icons = [_icon(item) for item in items]
        if not items or not all(
            any(n in (i or "") for n in _PHASE_ICONS) for i in icons
        ):
            continue
        for item, icon in zip(items, icons, strict=True):
            if icon and icon.endswith(_CURRENT_PHASE_ICONS):
                page.phase_label = clean(item.text())
        block = timeline.parent
        while block is not None and block.css_first("h2") is None:
            block = block.parent
        heading = block.css_first("h2") if block is not None else None
        badge = _next_element(heading) if heading is not None else None
        if badge is not None:
            leaves = _text_leaves(badge)
            page.status_label = leaves[0][1] if leaves else None
        return


def _links(page: ActionMarkup, root: LexborNode) -> None:
    for link in root.css("a[href]"):
        href = link.attributes.get("href")
        org = path_match(ORG_PATH, href)
        if org is not None:
            badge = link.css_first("[aria-label]")
            if badge is None:
                if page.primary_org_id is None and _inside(link, "header"):
                    page.primary_org_id = org
                continue
            page.parties.append(_party(org, badge))
            continue
        indicator = path_match(INDICATOR_PATH, href)
        title = link.css_first("h3")
        if indicator is not None and title is not None:
            page.indicators.append((indicator, clean(title.text())))


def _party(org_id: str, badge: LexborNode) -> PageParty:
    # The badge shows the abbreviation (or the name); its label is
    # "[<Main responsible>: ]<abbreviation> <name>", the prefix in any language.
    shown = clean(badge.text()) or ""
    label = clean(badge.attributes.get("aria-label")) or ""
    name = None
    for start in (0, label.find(": ") + 2 if ": " in label else -1):
        if start < 0:
            continue
        rest = label[start:]
        if rest.startswith(shown + " "):
            name = rest[len(shown) + 1 :]
            break
        if rest.strip() == shown:
            name = shown
            break
    classes = (badge.attributes.get("class") or "").split()
    role = next((_ROLES[c] for c in classes if c in _ROLES), None)
    return PageParty(org_id, name or None, role)


def _leaf_lines(page: ActionMarkup, root: LexborNode) -> None:
    """The "Information updated <date>" line and the schedule "<start> → <end>"."""
    for node in root.css("div"):
        if _has_element_children(node):
            continue
        text = clean(node.text())
        if not text:
            continue
        if page.updated_text is None and _looks_updated(text):
            page.updated_text = text
        if page.schedule is None:
            found = _SCHEDULE.match(text)
            if found:
                page.schedule = (found.group(1), found.group(2) or None)


def _looks_updated(text: str) -> bool:
    # A label we know, with a date whose order the language alone decides.
    folded = i18n.normalise(text)
    return any(
        folded.startswith(i18n.normalise(label) + " ")
        for label in i18n.LAST_UPDATED_LABELS
    )


# -- small DOM helpers ----------------------------------------------------------------


def _icon(node: LexborNode) -> str | None:
    use = node.css_first("use")
    if use is None:
        return None
    return use.attributes.get("xlink:href") or use.attributes.get("href")


def _contains(node: LexborNode, tag: str) -> bool:
    """Whether an element inside ``node`` is a ``tag``: ``css_first`` without the
    cost of a selector (4 µs a call, 600 calls on a plan's action list)."""
    below = list(node.iter())
    while below:
        child = below.pop()
        if child.tag == tag:
            return True
        below.extend(child.iter())
    return False


def _has_element_children(node: LexborNode) -> bool:
    return any((child.tag or "-")[0] != "-" for child in node.iter(include_text=False))


def _text_leaves(node: LexborNode) -> list[tuple[LexborNode, str]]:
    """Blocks under ``node`` with text and no child blocks, in page order.

    Inline children (a span with an arrow, a strong word) belong to their block.
    """
    leaves = []
    for child in node.traverse(include_text=False):
        tag = child.tag or "-"
        if child is node or tag[0] == "-" or tag in _SKIPPED or tag in _INLINE:
            continue
        if any(
            (c.tag or "-")[0] != "-" and c.tag not in _INLINE
            for c in child.iter(include_text=False)
        ):
            continue
        text = clean(child.text())
        if text:
            leaves.append((child, text))
    return leaves


_INLINE = frozenset({"span", "strong", "em", "b", "i", "abbr", "br", "small", "sup"})
_SKIPPED = frozenset({"svg", "use", "title", "img", "script", "style"})


def _previous_element(node: LexborNode) -> LexborNode | None:
    sibling = node.prev
    while sibling is not None and (sibling.tag or "-")[0] == "-":
        sibling = sibling.prev
    return sibling


def _next_element(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and (sibling.tag or "-")[0] == "-":
        sibling = sibling.next
    return sibling


def _inside(node: LexborNode, tag: str) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == tag:
            return True
        parent = parent.parent
    return False
