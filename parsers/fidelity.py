"""How closely parsed pages agree with the platform's own API answers, per field.

The API answer (the ``MonitorPlanActions`` query of the fixtures'
``truth-query.graphql``, asked in the page's language at the moment the page was
rendered) is the ground truth. Each field of each record is compared where the page
shows it; a field the page does not show (``None`` where the answer has a value) is
counted apart as "not shown", except for the fields a layer must always give
(``REQUIRED``), where a missing value is a disagreement.

Relative and day-only times are intervals: they agree when they hold the true time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from parsers.i18n import MERGED_LABELS
from parsers.records import Action, Layer, Outcome, PageKind, ParsedPage, TimeRange

# Fields a layer always gives for every action it reads.
REQUIRED: dict[Layer, frozenset[str]] = {
    Layer.EMBEDDED: frozenset(
        {
            "identifier",
            "name",
            "status.identifier",
            "status.label",
            "phase.identifier",
            "phase.label",
            "status_summary",
            "completion",
            "updated_at",
            "tasks",
            "tasks.late",
            "responsible_parties",
            "start_date",
            "end_date",
        }
    ),
    Layer.HTML: frozenset({"name"}),
}
REQUIRED[Layer.API] = REQUIRED[Layer.EMBEDDED]


@dataclass
class Tally:
    """Agreement counts per field, and a few examples of each disagreement."""

    compared: Counter[str] = field(default_factory=Counter)
    agreed: Counter[str] = field(default_factory=Counter)
    not_shown: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, agrees: bool, where: str, detail: str = "") -> None:
        self.compared[name] += 1
        self.agreed[name] += agrees
        if not agrees:
            self.examples.setdefault(name, [])
            if len(self.examples[name]) < 5:
                self.examples[name].append(f"{where}: {detail}")

    def skip(self, name: str) -> None:
        self.not_shown[name] += 1

    def merge(self, other: Tally) -> None:
        self.compared.update(other.compared)
        self.agreed.update(other.agreed)
        self.not_shown.update(other.not_shown)
        for name, found in other.examples.items():
            self.examples.setdefault(name, []).extend(found)

    @property
    def perfect(self) -> bool:
        return all(self.agreed[f] == self.compared[f] for f in self.compared)

    def disagreements(self) -> list[str]:
        return [
            f"{name}: {example}"
            for name in sorted(self.examples)
            for example in self.examples[name]
        ]

    def table(self, title: str) -> str:
        names = sorted(set(self.compared) | set(self.not_shown))
        lines = [
            title,
            f"  {'field':34} {'agree':>7} / {'compared':<8} {'share':>7}  not shown",
        ]
        for name in names:
            compared = self.compared[name]
            share = f"{self.agreed[name] / compared:.1%}" if compared else "-"
            lines.append(
                f"  {name:34} {self.agreed[name]:>7} / {compared:<8} {share:>7}  "
                f"{self.not_shown[name] or ''}"
            )
        total, agreed = sum(self.compared.values()), sum(self.agreed.values())
        share = f"{agreed / total:.2%}" if total else "-"
        lines.append(f"  {'all fields':34} {agreed:>7} / {total:<8} {share:>7}")
        return "\n".join(lines)


class Truth:
    """One API answer (``data.plan.actions`` and ``data.planOrganizations``)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        data = answer["data"]
        self.plan: dict[str, Any] = data["plan"]
        self.actions: dict[str, dict[str, Any]] = {
            str(a["id"]): a for a in self.plan["actions"]
        }
        self.by_identifier = {a["identifier"]: a for a in self.actions.values()}
        self.organizations: dict[str, dict[str, Any]] = {
            str(o["id"]): o for o in data.get("planOrganizations") or []
        }
        self.responsible_counts: Counter[str] = Counter(
            org for a in self.actions.values() for org in _party_ids(a)
        )


def compare_page(
    page: ParsedPage,
    truth: Truth,
    tally: Tally,
    *,
    where: str,
    expect_gone: bool = False,
    expect_outcome: Outcome | None = None,
    organization_id: str | None = None,
    action_identifier: str | None = None,
) -> None:
    """Compare one parsed page with the answer taken at the same moment."""
    want_outcome = expect_outcome or (Outcome.NOT_FOUND if expect_gone else Outcome.OK)
    tally.add(
        "page.outcome",
        page.outcome is want_outcome,
        where,
        f"parsed {page.outcome.value}, expected {want_outcome.value}",
    )
    if page.outcome is not Outcome.OK or want_outcome is not Outcome.OK:
        return
    _plan(page, truth, tally, where)
    if page.kind is PageKind.ORGANIZATION and page.organization is not None:
        org = page.organization
        _check(tally, "organization.id", org.id, organization_id, where)
        want = truth.organizations.get(organization_id or "", {})
        if "name" in want:
            _check(tally, "organization.name", org.name, want["name"], where)
        _check(
            tally,
            "organization.action_count",
            org.action_count,
            truth.responsible_counts.get(organization_id or "", 0),
            where,
        )
        want_ids = {
            a for a, raw in truth.actions.items() if organization_id in _party_ids(raw)
        }
        _check(
            tally,
            "organization.actions",
            _keys(page.actions),
            _want_keys(truth, want_ids, page.actions),
            where,
        )
    elif page.kind is PageKind.ACTION_LIST:
        _check(
            tally,
            "action_list.actions",
            _keys(page.actions),
            _want_keys(truth, set(truth.actions), page.actions),
            where,
        )
    elif page.kind is PageKind.ACTION:
        found = page.actions[0].identifier if len(page.actions) == 1 else None
        _check(tally, "action_page.action", found, action_identifier, where)

    for action in page.actions:
        raw = _truth_action(truth, action)
        tally.add(
            "action.known",
            raw is not None,
            where,
            f"{action.id} is not in the answer",
        )
        if raw is not None:
            compare_action(action, raw, page, tally, f"{where} #{action.id}")


def compare_action(
    action: Action,
    raw: dict[str, Any],
    page: ParsedPage,
    tally: Tally,
    where: str,
) -> None:
    required = REQUIRED[action.layer]

    def check(
        name: str, got: Any, want: Any, same: Callable[[], bool] | None = None
    ) -> None:
        if got is None and want is not None and name not in required:
            tally.skip(f"action.{name}")
            return
        agrees = same() if same is not None and got is not None else got == want
        tally.add(f"action.{name}", agrees, where, f"parsed {got!r}, API {want!r}")

    status, phase = raw.get("status") or {}, raw.get("implementationPhase") or {}
    check("identifier", action.identifier, raw["identifier"])
    check("name", action.name, raw["name"])
    check(
        "status.identifier",
        _attr(action.status, "identifier"),
        status.get("identifier"),
    )
    label = _attr(action.status, "label")
    if action.layer is Layer.HTML and action.status_summary == "MERGED":
        # The markup names a merged action's state, not its status.
        check(
            "status.label.merged",
            label in MERGED_LABELS,
            _get(raw, "statusSummary") == "MERGED",
        )
    else:
        check("status.label", label, status.get("name"))
    check(
        "phase.identifier", _attr(action.phase, "identifier"), phase.get("identifier")
    )
    check("phase.label", _attr(action.phase, "label"), phase.get("name"))
    check("status_summary", action.status_summary, _get(raw, "statusSummary"))
    check("completion", action.completion, raw.get("completion"))
    want_updated = _moment(raw.get("updatedAt"))
    check(
        "updated_at",
        action.updated_at,
        want_updated,
        lambda: _holds(action.updated_at, want_updated),
    )
    check("start_date", action.start_date, _day(raw.get("startDate")))
    check("end_date", action.end_date, _day(raw.get("endDate")))
    if "mergedWith" in raw:
        merged = raw.get("mergedWith") or {}
        check("merged_with", action.merged_with, merged.get("id"))
        if action.merged_with is not None or action.layer is Layer.HTML:
            check(
                "merged_with_identifier",
                action.merged_with_identifier,
                merged.get("identifier"),
            )
    if "timeliness" in raw and action.timeliness is not None:
        check("timeliness", action.timeliness, _get(raw, "timeliness"))
    check("primary_org_id", action.primary_org_id, _get(raw, "primaryOrg", "id"))

    tasks = raw.get("tasks") or []
    counted = [t for t in tasks if t["state"] != "CANCELLED"]
    want_counts = (len(counted), sum(t["state"] == "COMPLETED" for t in counted))
    got_counts = (action.tasks.total, action.tasks.completed) if action.tasks else None
    check("tasks", got_counts, want_counts)
    if action.tasks is not None:
        check("tasks.late", action.tasks.late, _late(counted, page.observed_at))
    _tasks(action, tasks, page, check)
    _parties(action, raw, check)
    _indicators(action, raw, check)


def _tasks(
    action: Action, tasks: list[dict[str, Any]], page: ParsedPage, check: Any
) -> None:
    listed = action.task_list
    if listed is None:
        check("task_list", None, len(tasks))
        return
    with_ids = action.layer is Layer.EMBEDDED
    if with_ids:
        check(
            "task_list.states",
            {(t.id, t.state, t.due_at) for t in listed},
            {(t["id"], t["state"], _day(t["dueAt"])) for t in tasks},
        )
    visible = [t for t in tasks if t["state"] != "CANCELLED"]
    if any(t.name is not None for t in listed):
        # A page without task ids lists its visible tasks: compare as a bag.
        key = (lambda t: (t.id, t.name)) if with_ids else (lambda t: (None, t.name))
        check(
            "task_list.names",
            sorted(map(key, listed), key=str),
            sorted(
                (
                    (t["id"] if with_ids else None, t["name"])
                    for t in (tasks if with_ids else visible)
                ),
                key=str,
            ),
        )
    if page.kind is PageKind.ACTION:
        got = sorted(
            ((t.state, t.completed_at) for t in listed if t.state == "COMPLETED"),
            key=str,
        )
        want = sorted(
            (
                (t["state"], _day(t["completedAt"]))
                for t in visible
                if t["state"] == "COMPLETED"
            ),
            key=str,
        )
        check("task_list.completed_at", got, want)
        if not with_ids:
            check(
                "task_list.due_at",
                sorted(
                    (t.name, t.due_at)
                    for t in listed
                    if t.state != "COMPLETED" and t.due_at is not None
                ),
                sorted(
                    (t["name"], _day(t["dueAt"]))
                    for t in visible
                    if t["state"] != "COMPLETED"
                    and any(x.name == t["name"] and x.due_at for x in listed)
                ),
            )


def _parties(action: Action, raw: dict[str, Any], check: Any) -> None:
    parties = action.responsible_parties
    want = raw.get("responsibleParties") or []
    if parties is None:
        check("responsible_parties", None, sorted(_party_ids(raw)))
        return
    check(
        "responsible_parties",
        sorted(p.organization_id for p in parties),
        sorted(_party_ids(raw)),
    )
    if any(p.role is not None for p in parties):
        check(
            "responsible_parties.roles",
            sorted((p.organization_id, p.role) for p in parties),
            sorted((str(p["organization"]["id"]), p.get("role")) for p in want),
        )
    else:
        check("responsible_parties.roles", None, [p.get("role") for p in want])
    if any(p.organization_name is not None for p in parties):
        check(
            "responsible_parties.names",
            sorted((p.organization_id, p.organization_name) for p in parties),
            sorted(
                (str(p["organization"]["id"]), p["organization"]["name"]) for p in want
            ),
        )


def _indicators(action: Action, raw: dict[str, Any], check: Any) -> None:
    if "relatedIndicators" not in raw:
        return
    want = [i["indicator"] for i in raw.get("relatedIndicators") or []]
    found = action.related_indicators
    if found is None:
        check("related_indicators", None, len(want))
        return
    check(
        "related_indicators",
        sorted(i.id for i in found),
        sorted(str(i["id"]) for i in want),
    )
    if any(i.name is not None for i in found):
        check(
            "related_indicators.names",
            sorted((i.id, i.name) for i in found),
            sorted((str(i["id"]), i["name"]) for i in want),
        )


def _plan(page: ParsedPage, truth: Truth, tally: Tally, where: str) -> None:
    plan = page.plan
    if plan is None:
        tally.skip("plan")
        return
    _check(
        tally, "plan.identifier", plan.identifier, truth.plan.get("identifier"), where
    )
    if "primaryLanguage" in truth.plan:
        _check(
            tally,
            "plan.primary_language",
            plan.primary_language,
            truth.plan["primaryLanguage"],
            where,
        )
        _check(
            tally,
            "plan.languages",
            plan.languages,
            (truth.plan["primaryLanguage"], *truth.plan.get("otherLanguages", ())),
            where,
        )


def _check(tally: Tally, name: str, got: Any, want: Any, where: str) -> None:
    tally.add(name, got == want, where, f"parsed {got!r}, API {want!r}")


def _truth_action(truth: Truth, action: Action) -> dict[str, Any] | None:
    if action.platform_id is not None:
        return truth.actions.get(action.platform_id)
    return truth.by_identifier.get(action.identifier or "")


def _keys(actions: Iterable[Action]) -> set[str]:
    """Platform ids, or identifiers where the page shows no ids."""
    return {a.platform_id or a.identifier or "" for a in actions}


def _want_keys(truth: Truth, ids: set[str], actions: Iterable[Action]) -> set[str]:
    if all(a.platform_id is not None for a in actions):
        return ids
    return {truth.actions[i]["identifier"] for i in ids if i in truth.actions}


def _party_ids(raw: dict[str, Any]) -> set[str]:
    return {str(p["organization"]["id"]) for p in raw.get("responsibleParties") or []}


def _late(tasks: list[dict[str, Any]], now: datetime) -> int:
    late = 0
    for task in tasks:
        due = _day(task.get("dueAt"))
        if task["state"] in ("NOT_STARTED", "IN_PROGRESS") and due is not None:
            late += datetime(due.year, due.month, due.day, tzinfo=UTC) < now
    return late


def _holds(span: TimeRange | None, moment: datetime | None) -> bool:
    if span is None or moment is None:
        return span is None and moment is None
    if span.exact is not None:
        return span.exact == moment
    return (
        span.earliest is not None
        and span.latest is not None
        and span.earliest <= moment <= span.latest
    )


def _attr(value: Any, name: str) -> Any:
    return None if value is None else getattr(value, name)


def _get(raw: dict[str, Any], key: str, inner: str = "identifier") -> Any:
    value = raw.get(key)
    return value.get(inner) if isinstance(value, dict) else None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else None
