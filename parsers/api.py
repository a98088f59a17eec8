"""The public GraphQL API as a second source: queries, and answers -> records.

The API answers with the same ``Action`` objects the pages embed, so the records are
built by ``parsers.data`` and equal what the pages give. One answer (one language)
becomes one action-list page and one page per organization, so the API's records
merge with pages' records the usual way. The API is anonymous: it shows public,
published actions only, as the pages do.

``cross_check`` compares a page with the API's answer in the page's language. Where
the two differ at the same ``updatedAt``, the page is wrong somehow (a layout the
parser misreads, a proxy serving another site): ``layer_disagreement``. Where the
``updatedAt`` differs, one of them lags (the UI's answers are cached for up to ten
minutes): ``source_lag``, reported, not alarmed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from parsers import data as d
from parsers import sitemap
from parsers.errors import ParseError
from parsers.raw import text
from parsers.records import (
    Action,
    Anomaly,
    Layer,
    Organization,
    Outcome,
    PageKind,
    ParsedPage,
)

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")

PLANS_QUERY = """
query PlanwatchPlans($hostname: String) {
  plansForHostname(hostname: $hostname) {
    domain { hostname basePath }
    primaryLanguage
    ... on Plan { id identifier name otherLanguages }
  }
}
"""

_ACTIONS_QUERY = """
query PlanwatchActions($plan: ID!) @locale(lang: "%(lang)s") {
  plan(id: $plan) {
    id identifier name primaryLanguage otherLanguages
    actionStatuses { id identifier name isCompleted }
    actionImplementationPhases { id identifier name order }
    actionTimelinessClasses { identifier label comparison days }
  }
  planActions(plan: $plan) {
    id identifier name completion updatedAt startDate endDate scheduleContinuous
    status { id identifier name }
    implementationPhase { id identifier name }
    statusSummary { identifier }
    timeliness { identifier }
    mergedWith { id identifier }
    supersededBy { id identifier }
    primaryOrg { id }
    responsibleParties { id role organization { id name abbreviation } }
    tasks { id name state dueAt completedAt }
    relatedIndicators { indicator { id name } }
  }
  planOrganizations(plan: $plan, withAncestors: true) {
    id name abbreviation parent { id }
  }
}
"""

# Fields compared between a page and the API (both give them exactly).
_COMPARED = (
    ("identifier", lambda a: a.identifier),
    ("status", lambda a: a.status.identifier if a.status else None),
    ("phase", lambda a: a.phase.identifier if a.phase else None),
    ("completion", lambda a: a.completion),
    ("tasks", lambda a: (a.tasks.total, a.tasks.completed) if a.tasks else None),
    (
        "responsible parties",
        lambda a: (
            None
            if a.responsible_parties is None
            else sorted(p.organization_id for p in a.responsible_parties)
        ),
    ),
    ("merged with", lambda a: a.merged_with),
)


@dataclass(frozen=True, slots=True)
class ApiPlan:
    """The plan a site shows, as ``plansForHostname`` names it."""

    identifier: str
    name: str | None
    primary_language: str | None
    languages: tuple[str, ...]
    base_path: str


def actions_query(lang: str) -> str:
    """The actions query, asking for ``lang`` (an operation directive)."""
    if not _LANGUAGE.fullmatch(lang):
        raise ValueError(f"not a language code: {lang!r}")
    return _ACTIONS_QUERY % {"lang": lang}


def answer_data(answer: Any, what: str) -> dict[str, Any]:
    """An answer's ``data``; a ParseError naming the GraphQL errors if it has none."""
    if not isinstance(answer, dict):
        raise ParseError(f"{what}: not a GraphQL answer (a JSON object)")
    errors = answer.get("errors") or []
    errors = errors if isinstance(errors, list) else [errors]
    data = answer.get("data")
    if errors or not isinstance(data, dict):
        shown = "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e)
            for e in errors[:3]
        )
        raise ParseError(f"{what}: the API answered with errors: {shown or 'no data'}")
    return data


def plan_for_site(answer: Any, site_url: str) -> ApiPlan:
    """The plan of ``site_url`` among those ``plansForHostname`` lists.

    Several plans can share a host under base paths ("/ilmasto"): the longest base
    path that starts the site's path wins.
    """
    data = answer_data(answer, "plansForHostname")
    plans = [p for p in data.get("plansForHostname") or [] if isinstance(p, dict)]
    path = urlsplit(site_url).path.rstrip("/") + "/"
    best: tuple[int, dict[str, Any]] | None = None
    for plan in plans:
        if not text(plan.get("identifier")) and not text(plan.get("id")):
            continue
        base = _base_path(plan)
        prefix = f"/{base}/" if base else "/"
        # The site URL may carry a language prefix before the base path.
        if base and f"/{base}/" not in path:
            continue
        if best is None or len(prefix) > best[0]:
            best = (len(prefix), plan)
    if best is None:
        raise ParseError(f"plansForHostname: no plan is published at {site_url}")
    plan = best[1]
    primary = text(plan.get("primaryLanguage"))
    others = plan.get("otherLanguages")
    others = others if isinstance(others, list) else []
    others = [lang for lang in others if type(lang) is str]
    languages = tuple([primary, *others] if primary else others)
    if not languages:
        raise ParseError(f"plansForHostname: the plan at {site_url} names no language")
    base = _base_path(plan)
    return ApiPlan(
        identifier=text(plan.get("identifier")) or str(text(plan.get("id"))),
        name=text(plan.get("name")),
        primary_language=primary,
        languages=languages,
        base_path=f"/{base}" if base else "",
    )


def _base_path(plan: dict[str, Any]) -> str:
    """The plan's base path on its host, without slashes ("" for none)."""
    domain = plan.get("domain")
    base = text(domain.get("basePath")) if isinstance(domain, dict) else None
    return (base or "").strip("/")


def site_prefix(origin: str, plan: ApiPlan, lang: str) -> str:
    """Where a language's pages live: the primary language has no prefix."""
    language = "" if lang == plan.primary_language else f"/{lang}"
    return f"{sitemap.public_url(origin).rstrip('/')}{language}{plan.base_path}"


def pages_from_answer(
    answer: Any,
    *,
    url: str,
    lang: str,
    prefix: str,
    observed_at: datetime,
) -> list[ParsedPage]:
    """One language's answer as an action-list page and one page per organization.

    ``url`` names the answer (the endpoint and the plan); organization pages get
    ``<url>&organization=<id>``.
    """
    data = answer_data(answer, f"planActions ({lang})")
    plan = data.get("plan")
    plan = plan if isinstance(plan, dict) else {}
    raw_actions = data.get("planActions")
    if raw_actions is None:
        raw_actions = plan.get("actions")
    if not isinstance(raw_actions, list):
        raise ParseError(f"planActions ({lang}): the answer holds no actions")

    def url_for(identifier: str | None) -> str | None:
        return None if identifier is None else f"{prefix}/actions/{identifier}"

    problems: list[str] = []
    read = d.actions(raw_actions, observed_at, url_for, problems)
    actions = tuple(_as_api(a) for a in read)
    context = d.plan_context([plan]) if plan else None
    # Every page of the answer carries the same actions: each says what did not read.
    anomalies = (d.unreadable(problems),) if problems else ()
    pages = [
        _page(PageKind.ACTION_LIST, url, lang, observed_at, None, actions, context)
    ]
    for org, held in _organizations(data, actions):
        pages.append(
            _page(
                PageKind.ORGANIZATION,
                f"{url}&organization={org.id}",
                lang,
                observed_at,
                org,
                held,
                context,
            )
        )
    if anomalies:
        pages = [msgspec.structs.replace(p, anomalies=anomalies) for p in pages]
    return pages


def _as_api(action: Action) -> Action:
    return msgspec.structs.replace(action, layer=Layer.API)


def _organizations(
    data: dict[str, Any], actions: tuple[Action, ...]
) -> Iterable[tuple[Organization, tuple[Action, ...]]]:
    held: dict[str, list[Action]] = {}
    names: dict[str, str | None] = {}
    for action in actions:
        for party in action.responsible_parties or ():
            held.setdefault(party.organization_id, []).append(action)
            names.setdefault(party.organization_id, party.organization_name)
    organizations = data.get("planOrganizations")
    listed = {
        str(o["id"]): o
        for o in (organizations if isinstance(organizations, list) else [])
        if isinstance(o, dict) and o.get("id") is not None
    }
    for org_id in sorted(set(listed) | set(held), key=_natural):
        raw = listed.get(org_id) or {"id": org_id, "name": names.get(org_id)}
        mine = tuple(held.get(org_id, ()))
        # "Responsible in N actions": direct responsibility, as the page counts.
        yield d.organization(raw, len(mine)), mine


def _page(
    kind: PageKind,
    url: str,
    lang: str,
    observed_at: datetime,
    organization: Organization | None,
    actions: tuple[Action, ...],
    plan: Any,
) -> ParsedPage:
    return ParsedPage(
        kind=kind,
        outcome=Outcome.OK,
        url=url,
        language=lang,
        observed_at=observed_at,
        organization=organization,
        actions=actions,
        plan=plan,
        layer=Layer.API,
    )


def cross_check(page: ParsedPage, api: Mapping[str, Action]) -> list[Anomaly]:
    """How ``page`` differs from the API's actions (by platform id), same language.

    Actions the page lacks are not checked: a page shows a part of the plan, except
    an unfiltered action list, which shows all of it.
    """
    anomalies: list[Anomaly] = []
    seen = {a.platform_id for a in page.actions if a.platform_id is not None}
    extra = sorted(seen - set(api), key=_natural)
    if extra:
        anomalies.append(
            Anomaly(
                "layer_disagreement",
                f"the page shows actions the API does not: {extra}",
            )
        )
    if page.kind is PageKind.ACTION_LIST and not sitemap.filtered(page.url):
        missing = sorted(set(api) - seen, key=_natural)
        if missing and seen:
            anomalies.append(
                Anomaly(
                    "layer_disagreement",
                    f"the API lists actions the page does not: {missing}",
                )
            )
    lagging = []
    for action in page.actions:
        other = api.get(action.platform_id or "")
        if other is None:
            continue
        differ = [
            name
            for name, value in _COMPARED
            if value(action) is not None and value(action) != value(other)
        ]
        if not differ:
            continue
        mine, theirs = _exact(action), _exact(other)
        if mine is not None and theirs is not None and mine != theirs:
            lagging.append(action.id)
            continue
        anomalies.append(
            Anomaly(
                "layer_disagreement",
                f"action {action.id}: the page and the API differ in "
                f"{', '.join(differ)} at the same update time",
            )
        )
    if lagging:
        anomalies.append(
            Anomaly(
                "source_lag",
                "the page and the API show different versions (one of them is "
                f"cached) of actions {sorted(lagging, key=_natural)}",
            )
        )
    return anomalies


def _exact(action: Action) -> datetime | None:
    return action.updated_at.exact if action.updated_at else None


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdecimal() else (0, value)
