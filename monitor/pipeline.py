"""One check of one source: fetch, parse, store, diff, queue notifications.

The loop reads like a table of contents; each step is a small function. Failures of
the watched site are outcomes, not exceptions: a failed fetch, an error page or an
unknown layout never removes an action and never replaces the stored state.

A check is compared with the stored state only when it was observed after the
source's last check: recording the same observations again (re-importing an archive)
is ``skipped`` and adds nothing.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy.orm import Session

from monitor import deadlines, settled, staleness
from monitor.changes import (
    Change,
    Fingerprint,
    changed_fields,
    diff_action,
    diff_organization,
    fingerprint,
    folded_update_flip,
    hold_flips,
    merge_pages,
    restore,
)
from monitor.fetch import Fetcher, FetchOutcome, FetchResult, redact_url
from monitor.rules import ChangeRules
from notifiers.outbox import queue_check
from notifiers.subscriptions import Routing
from notifiers.targets import Target
from parsers.kausal import parse_page, parser_failure, resolve_identifier_keys
from parsers.records import Anomaly, Outcome, ParsedPage, TimelinessLimits
from parsers.sitemap import action_identifiers, public_url
from storage import memory, repo, snapshots
from storage.db import Database
from storage.events import Event, EventKind
from storage.models import (
    ID_LENGTH,
    IDENTIFIER_LENGTH,
    LANGUAGE_LENGTH,
    ActionRecord,
    Check,
    DeadlineEntry,
    OrganizationRecord,
    Source,
)
from storage.state import ActionState, OrganizationState

logger = logging.getLogger(__name__)

# Parser anomalies that mean the page's layout is not what we know: the page's
# records are not trusted for this check.
LAYOUT_ANOMALIES = frozenset(
    {
        "layout_unrecognised",
        "table_missing",
        "count_mismatch",
        "layer_disagreement",
        "unreadable_values",
    }
)
REMOVAL_CONFIRMATIONS = 2
# Events of the clock, not of the site: a check with only these is "unchanged".
DEADLINE_KINDS = frozenset(
    {
        EventKind.BECAME_STALE,
        EventKind.NO_LONGER_STALE,
        EventKind.TASK_LATE,
        EventKind.TASK_DUE_SOON,
    }
)
NOT_FOUND_STATUSES = frozenset({404, 410})
_ORGANIZATION_PAGE = re.compile(r"/organizations/[^/?#]+/?$")


class CheckOutcome(enum.StrEnum):
    BASELINE = "baseline"
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    FAILED = "failed"
    ANOMALY = "anomaly"
    SKIPPED = "skipped"  # observed no later than the source's last check


@dataclass(frozen=True, slots=True)
class PageObservation:
    """One page as one check saw it: the fetch and, when it got a body, the parse."""

    url: str
    fetched_at: datetime
    fetch_outcome: str
    status_code: int | None
    body: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)
    duration: float | None = None
    error: str | None = None
    page: ParsedPage | None = None

    @property
    def usable(self) -> bool:
        return (
            self.page is not None
            and self.page.outcome is Outcome.OK
            and not self.layout_problems
        )

    @property
    def not_found(self) -> bool:
        """The page says the action or organization it is about is gone. Only their
        own pages can: an action list answering not found (a moved plan, a mistyped
        address, a language the plan lacks) is a page not read, and so is an
        organization page answering 404 (the platform answers 200 with its
        not-found page, as for an organization deleted)."""
        if action_identifiers([self.url]):
            return self._answered_not_found
        if _ORGANIZATION_PAGE.search(urlsplit(self.url).path):
            return self.page is not None and self.page.outcome is Outcome.NOT_FOUND
        return False

    @property
    def _answered_not_found(self) -> bool:
        if self.status_code in NOT_FOUND_STATUSES:
            return True
        return self.page is not None and self.page.outcome is Outcome.NOT_FOUND

    @property
    def failed(self) -> bool:
        unread = self.page is None or self._answered_not_found
        return unread and not self.not_found

    @property
    def problem(self) -> str:
        """Why a failed page was not read, for the source_failing event."""
        if self.error:
            return self.error
        if self._answered_not_found:
            return f"{redact_url(self.url)} answered not found"
        return self.fetch_outcome

    @property
    def layout_problems(self) -> list[str]:
        if self.page is None:
            return []
        return [
            f"{redact_url(self.url)}: {a.code}: {a.detail}"
            for a in self.page.anomalies
            if a.code in LAYOUT_ANOMALIES
        ]


@dataclass(frozen=True, slots=True)
class CheckReport:
    source: str
    check_id: int | None  # None when the check was skipped
    outcome: CheckOutcome
    observed_at: datetime
    events: tuple[Event, ...]
    pages: int
    failed_pages: int
    notifications: int


def observe(
    result: FetchResult, *, observed_at: datetime | None = None
) -> PageObservation:
    """Turn a fetch into an observation, parsing the body when there is one."""
    page = parse_fetched(result, observed_at=observed_at) if result.ok else None
    return observation(result, page, error=result.error)


def parse_fetched(
    result: FetchResult, *, observed_at: datetime | None = None
) -> ParsedPage:
    """Parse a fetched body; relative times read against the Date header if no time."""
    return read_page(
        result.text if result.text is not None else result.body,
        result.url,
        observed_at=observed_at,
        date_header=result.headers.get("date"),
    )


def read_page(
    body: bytes | str,
    url: str,
    *,
    observed_at: datetime | None = None,
    date_header: str | None = None,
) -> ParsedPage:
    """``parse_page``, where the parser failing costs this page, not the check."""
    try:
        return parse_page(body, url, observed_at=observed_at, date_header=date_header)
    except Exception as error:  # a bug on some page's input: said, and recorded
        logger.exception("%s: the parser failed", redact_url(url))
        return parser_failure(url, observed_at or datetime.now(UTC), error)


def within_limits(observed: PageObservation) -> PageObservation:
    """``observed``, or, when its page holds a key longer than the history's columns
    (an id, identifier or language tag of hundreds of characters: no plan's), that
    page as a layout it could not read: PostgreSQL refuses such a value, and the
    whole check would fail on it, every time."""
    page = observed.page
    problem = None if page is None else _overlong(page)
    if page is None or problem is None:
        return observed
    logger.warning("%s: %s", redact_url(observed.url), problem)
    unread = ParsedPage(
        kind=page.kind,
        outcome=Outcome.LAYOUT_UNRECOGNISED,
        url=page.url,
        language=None,
        observed_at=page.observed_at,
        organization=None,
        actions=(),
        anomalies=(Anomaly("layout_unrecognised", problem),),
        extra={"seen": "overlong_value"},
    )
    return replace(observed, page=unread)


def _overlong(page: ParsedPage) -> str | None:
    def over(what: str, value: str | None, limit: int) -> str | None:
        if value is None or len(value) <= limit:
            return None
        return (
            f"{what} of {len(value)} characters (at most {limit} are kept): "
            f"{value[:40]!r}..."
        )

    found = over("a language tag", page.language, LANGUAGE_LENGTH)
    if page.organization is not None:
        found = found or over("an organization id", page.organization.id, ID_LENGTH)
    for action in page.actions:
        found = (
            found
            or over("an action id", action.id, ID_LENGTH)
            or over("an identifier", action.identifier, IDENTIFIER_LENGTH)
        )
        for task in action.task_list or ():
            found = found or over("a task id", task.id, ID_LENGTH)
    return found


def observation(
    result: FetchResult, page: ParsedPage | None, *, error: str | None = None
) -> PageObservation:
    """A fetch and what was read from it (``page`` may be a reused earlier parse)."""
    return PageObservation(
        url=result.url,
        fetched_at=result.started_at,
        fetch_outcome=result.outcome.value,
        status_code=result.status_code,
        body=result.body or None,
        headers=dict(result.headers),
        duration=result.duration,
        error=error,
        page=page,
    )


def observe_saved(
    url: str, body: bytes, observed_at: datetime, status_code: int = 200
) -> PageObservation:
    """An observation of a saved page (import, tests), as if fetched at observed_at.

    A saved redirect or error answer is what a fetch would have made of it: a failed
    fetch with no page (a redirect is never plan content), except not found, which
    is parsed like any page.
    """
    failure = _saved_failure(status_code)
    if failure is not None:
        return PageObservation(
            url=url,
            fetched_at=observed_at,
            fetch_outcome=failure.value,
            status_code=status_code,
            body=body or None,
            error=f"HTTP {status_code}",
        )
    page = read_page(body, url, observed_at=observed_at)
    return PageObservation(
        url=url,
        fetched_at=observed_at,
        fetch_outcome=FetchOutcome.OK.value,
        status_code=status_code,
        body=body,
        page=page,
    )


def _saved_failure(status_code: int) -> FetchOutcome | None:
    if 300 <= status_code < 400:
        return FetchOutcome.REDIRECT_ANOMALY
    if status_code >= 400 and status_code not in NOT_FOUND_STATUSES:
        return FetchOutcome.HTTP_ERROR
    return None


async def fetch_pages(fetcher: Fetcher, urls: Sequence[str]) -> list[PageObservation]:
    observations = []
    for url in urls:
        result = await fetcher.fetch(url)
        observations.append(observe(result))
    return observations


def record_check(
    db: Database,
    source_name: str,
    observations: Sequence[PageObservation],
    *,
    targets: Mapping[str, Target] | None = None,
    observed_at: datetime | None = None,
    failures_before_alert: int | None = None,
    rules: ChangeRules | None = None,
    settled_checks: settled.SettledChecks | None = None,
) -> CheckReport:
    """Store what one check saw, find the changes and queue one message per target.

    With ``settled_checks`` (a long-running process's memory), a check that only
    repeats the source's last settled check is recorded without diffing again
    (`monitor.settled`), with the same result.
    """
    started = time.monotonic()
    rules = _rules(rules, failures_before_alert)
    observations = [within_limits(o) for o in observations]
    seen_at = observed_at or min(
        (o.fetched_at for o in observations), default=datetime.now(UTC)
    )
    with db.sessions.begin() as session:
        source = repo.source(session, source_name, seen_at)
        if source.last_check_at is not None and seen_at <= source.last_check_at:
            return _skipped(source_name, seen_at, observations, source.last_check_at)
        check = _open_check(session, source, seen_at, len(observations))
        _store_snapshots(session, check, observations)
        pages = [o.page for o in observations]
        run = None
        if settled.repeat(session, source, check, pages, rules, settled_checks):
            events: list[Event] = []
            outcome = CheckOutcome.UNCHANGED
        else:
            run = _Run(session, source, check, observations, rules)
            run.diff_records()
            run.confirm_removals()
            run.source_health(rules.failures_before_alert)
            run.deadline_alerts()
            events, outcome = run.events, run.outcome()

        rows = repo.add_events(session, source, check, events)
        notifications = _queue(
            session, source, check, events, rows, targets, observations
        )
        _close_check(source, check, outcome, len(events), seen_at)
        if settled_checks is not None and run is not None:
            settled_checks.put(source_name, run.settled_state(pages, outcome))

    report = CheckReport(
        source=source_name,
        check_id=check.id,
        outcome=outcome,
        observed_at=seen_at,
        events=tuple(events),
        pages=len(observations),
        failed_pages=sum(1 for o in observations if o.failed),
        notifications=notifications,
    )
    # DEBUG: the service logs the check's line a user reads (`run`, `check -v`).
    logger.debug(
        "check %s of %s: %s, %d pages (%d failed), %d events, %.2fs",
        check.id,
        source_name,
        outcome.value,
        report.pages,
        report.failed_pages,
        len(report.events),
        time.monotonic() - started,
    )
    return report


def _rules(rules: ChangeRules | None, failures_before_alert: int | None) -> ChangeRules:
    if rules is None:
        rules = ChangeRules()
    if failures_before_alert is not None:
        rules = replace(rules, failures_before_alert=failures_before_alert)
    return rules


def _skipped(
    source_name: str,
    seen_at: datetime,
    observations: Sequence[PageObservation],
    last: datetime,
) -> CheckReport:
    logger.warning(
        "check of %s observed at %s skipped: the source was last checked at %s",
        source_name,
        seen_at.isoformat(),
        last.isoformat(),
    )
    return CheckReport(
        source=source_name,
        check_id=None,
        outcome=CheckOutcome.SKIPPED,
        observed_at=seen_at,
        events=(),
        pages=len(observations),
        failed_pages=sum(1 for o in observations if o.failed),
        notifications=0,
    )


def _open_check(
    session: Session, source: Source, seen_at: datetime, pages: int
) -> Check:
    check = Check(
        source_id=source.id,
        observed_at=seen_at,
        started_at=datetime.now(UTC),
        outcome="running",
        pages=pages,
        events=0,
    )
    session.add(check)
    session.flush()
    return check


def _close_check(
    source: Source, check: Check, outcome: CheckOutcome, events: int, seen_at: datetime
) -> None:
    check.outcome = outcome.value
    check.events = events
    check.finished_at = datetime.now(UTC)
    source.last_check_at = seen_at
    source.last_outcome = outcome.value
    if outcome is CheckOutcome.CHANGED:
        source.last_change_at = seen_at


def _store_snapshots(
    session: Session, check: Check, observations: Sequence[PageObservation]
) -> None:
    # Pages seen unchanged are recorded compactly (see storage/snapshots.py).
    snapshots.store_snapshots(session, check, observations)


_Judged = tuple[dict[str, ActionState], deadlines.DeadlineRules]


class _Run:
    """The state of one check while its changes are worked out."""

    def __init__(
        self,
        session: Session,
        source: Source,
        check: Check,
        observations: Sequence[PageObservation],
        rules: ChangeRules,
    ) -> None:
        self.session = session
        self.source = source
        self.check = check
        self.observations = observations
        self.rules = rules
        self.events: list[Event] = []
        # Anything beyond bookkeeping (a version, a held flip, a missing action, a
        # deadline step) makes this check unsettled: the next one is diffed in full.
        self.unsettled = False
        self.fingerprints: dict[memory.RecordKey, Fingerprint] = {}
        self.judged: _Judged | None = None  # the deadline states and rules
        self.ledger: tuple[deadlines.Entry, ...] = ()
        readable = resolve_identifier_keys(
            o.page for o in observations if o.usable and o.page is not None
        )
        # Markup-only cards and action pages show no platform id; unless another
        # page of this check maps their identifiers, their records are not trusted
        # (keyed by identifier they would read as removed + added later).
        self.unkeyed: list[str] = []
        usable = []
        for page in readable:
            keyed = tuple(a for a in page.actions if a.platform_id is not None)
            if len(keyed) != len(page.actions):
                self.unkeyed.append(page.url)
                page = msgspec.structs.replace(page, actions=keyed)
            usable.append(page)
        self.merged = merge_pages(usable)
        self.actions = repo.current_actions(session, source.id)
        self.previous = {key: state for key, (_, state) in self.actions.items()}
        self.previous_check_at = source.last_check_at
        self.organizations = repo.current_organizations(session, source.id)
        self.memory = memory.record_memory(session, source.id)
        # The baseline is the first check that read anything: it reports nothing.
        # Until a check has read every page, an action seen for the first time is
        # new to planwatch, not to the plan: it is stored without action_added.
        self.baseline = not self.actions and not self.organizations
        self.quiet_additions = not memory.had_normal_check(session, source.id)
        self.failed = any(o.failed for o in observations)
        self.complete = (
            bool(usable)
            and not self.unkeyed
            and all(o.usable or o.not_found for o in observations)
        )

    # -- records ------------------------------------------------------------------

    def diff_records(self) -> None:
        for org_id, org_state in self.merged.organizations.items():
            self._organization(org_id, org_state)
        for action_id, action_state in self.merged.actions.items():
            self._action(action_id, action_state)

    def _action(self, action_id: str, observed: ActionState) -> None:
        record, previous = self.actions.get(action_id, (None, None))
        state = observed.carry_over(previous)
        seen = self._remember("action", action_id, state)
        now = self.check.observed_at
        if record is None:
            record = ActionRecord(
                source_id=self.source.id,
                platform_id=action_id,
                identifier=state.identifier,
                first_seen_at=now,
                last_seen_at=now,
                missing_checks=0,
            )
            self.session.add(record)
            self.session.flush()
            self.actions[action_id] = (record, state)
            repo.save_action(self.session, record, state, self.check, None)
            self.unsettled = True
            if not self.baseline and not self.quiet_additions:
                self._emit(EventKind.ACTION_ADDED, state, field="action")
            return

        record.last_seen_at = now
        record.missing_checks = 0
        if record.removed_at is not None:
            record.removed_at = None
            self.unsettled = True
            self._emit(
                EventKind.ACTION_ADDED,
                state,
                field="action",
                detail={"reappeared": True},
            )
        changes: list[Change] = []
        if previous is not None:
            changes, held = hold_flips(diff_action(previous, state), *seen)
            if not any(c.field == "updated_at" for c in [*changes, *held]):
                held += folded_update_flip(previous, state, *seen)
            state = restore(state, previous, held)
            self._log_held("action", action_id, held)
            self.unsettled = self.unsettled or bool(held)
        record.identifier = state.identifier
        self.actions[action_id] = (record, state)
        for change in changes:
            self._emit_change(change, state)
        if changes or previous is None or _stored_differs(previous, state):
            repo.save_action(
                self.session, record, state, self.check, changed_fields(changes)
            )
            self.unsettled = True

    def _organization(self, org_id: str, observed: OrganizationState) -> None:
        record, previous = self.organizations.get(org_id, (None, None))
        state = observed.carry_over(previous)
        seen = self._remember("organization", org_id, state)
        now = self.check.observed_at
        if record is None:
            record = OrganizationRecord(
                source_id=self.source.id,
                platform_id=org_id,
                first_seen_at=now,
                last_seen_at=now,
            )
            self.session.add(record)
            self.session.flush()
            repo.save_organization(self.session, record, state, self.check, None)
            self.unsettled = True
            return
        record.last_seen_at = now
        changes: list[Change] = []
        if previous is not None:
            changes, held = hold_flips(diff_organization(previous, state), *seen)
            state = restore(state, previous, held)
            self._log_held("organization", org_id, held)
            self.unsettled = self.unsettled or bool(held)
        for change in changes:
            self.events.append(
                Event(
                    kind=change.kind,
                    source=self.source.name,
                    observed_at=now,
                    organization_id=org_id,
                    name=_display_name(state.names),
                    field=change.field,
                    before=change.before,
                    after=change.after,
                    detail=change.detail,
                )
            )
        if changes or previous is None or previous != state:
            repo.save_organization(
                self.session, record, state, self.check, changed_fields(changes)
            )
            self.unsettled = True

    def _remember(
        self, kind: str, platform_id: str, state: ActionState | OrganizationState
    ) -> tuple[Fingerprint, list[Fingerprint]]:
        """This check's field digests of a record, and those of its recent checks.

        Recent means among the last ``flip_memory`` checks and within ``flip_hours``.
        """
        key = (kind, platform_id)
        fields = fingerprint(state)
        self.fingerprints[key] = fields
        recent, kept = settled.recent_and_kept(
            memory.recent_checks(self.memory.get(key)),
            fields,
            self.check.observed_at,
            self.rules,
        )
        memory.remember(self.session, self.memory, self.source.id, key, kept)
        return fields, [item["fields"] for item in recent]

    def _log_held(self, kind: str, platform_id: str, held: Sequence[Change]) -> None:
        for change in held:
            logger.info(
                "%s %s of %s: %s went back to a value seen on a recent check; "
                "held until the next check confirms it",
                kind,
                platform_id,
                self.source.name,
                change.field,
            )

    # -- removals -----------------------------------------------------------------

    def confirm_removals(self) -> None:
        # Discovery percent-encodes an identifier in a URL, the parsers do not;
        # and an action's URL is kept without the credentials its page had.
        gone_urls = {
            unquote(public_url(o.url)) for o in self.observations if o.not_found
        }
        for action_id, (record, state) in list(self.actions.items()):
            if record.removed_at is not None or action_id in self.merged.actions:
                continue
            if state is None:
                continue
            own_page_gone = state.url is not None and unquote(state.url) in gone_urls
            self.unsettled = True  # an action no page shows
            if own_page_gone and self.complete:
                self._remove(record, state, "its page answers not found")
            elif self.complete:
                record.missing_checks += 1
                if record.missing_checks >= REMOVAL_CONFIRMATIONS:
                    self._remove(
                        record,
                        state,
                        f"missing from every page on {record.missing_checks} checks",
                    )

    def _remove(self, record: ActionRecord, state: ActionState, reason: str) -> None:
        record.removed_at = self.check.observed_at
        repo.close_action(self.session, record, self.check)
        self._emit(
            EventKind.ACTION_REMOVED, state, field="action", detail={"reason": reason}
        )

    # -- source health ------------------------------------------------------------

    def source_health(self, failures_before_alert: int) -> None:
        failed = [o for o in self.observations if o.failed]
        layout = [p for o in self.observations for p in o.layout_problems]
        layout += [
            f"{redact_url(o.url)}: {a.detail}"
            for o in self.observations
            if o.page is not None and o.page.outcome is Outcome.LAYOUT_UNRECOGNISED
            for a in o.page.anomalies
            if a.code not in LAYOUT_ANOMALIES  # listed above already
        ]
        layout += [
            f"{redact_url(url)}: actions without platform ids" for url in self.unkeyed
        ]
        source = self.source

        if failed:
            source.consecutive_failures += 1
            if (
                source.consecutive_failures >= failures_before_alert
                and not source.failing_reported
            ):
                source.failing_reported = True
                reasons = sorted({o.problem for o in failed})
                self._emit_source(
                    EventKind.SOURCE_FAILING,
                    {
                        "reason": f"{len(failed)} of {len(self.observations)} pages "
                        f"failed: {'; '.join(reasons[:3])}",
                        "pages": [redact_url(o.url) for o in failed],
                    },
                )
        else:
            source.consecutive_failures = 0
            if source.failing_reported:
                source.failing_reported = False
                self._emit_source(EventKind.SOURCE_RECOVERED, {})

        if layout and not source.anomaly_reported:
            source.anomaly_reported = True
            self._emit_source(
                EventKind.LAYOUT_ANOMALY,
                {
                    "reason": layout[0]
                    if len(layout) == 1
                    else f"{len(layout)} problems: {layout[0]} …",
                    "pages": layout,
                },
            )
        elif not layout and source.anomaly_reported and not failed:
            source.anomaly_reported = False
            self._emit_source(EventKind.LAYOUT_RESTORED, {})

    # -- deadlines ----------------------------------------------------------------

    def deadline_alerts(self) -> None:
        """Staleness crossings, late and due-soon tasks, and their reminders.

        Skipped while pages fail: what is stored may be out of date, and an alert
        about a task finished meanwhile would be a false one.
        """
        if self.failed:
            self.unsettled = True
            return
        now = self.check.observed_at
        # The first time a source's deadlines are judged, what already holds is
        # entered in the ledger without an alert.
        first = memory.plan_settings(self.session, self.source.id) is None
        rules = self._deadline_rules(now)
        states = {
            action_id: state
            for action_id, (record, state) in self.actions.items()
            if record.removed_at is None and state is not None
        }
        assessment = deadlines.assess(states, now, rules)
        rows = memory.ledger(self.session, self.source.id)
        entries = [_entry(row) for row in rows.values()]
        steps = deadlines.reconcile(
            assessment, entries, now, rules.cadence, baseline=first
        )
        self.judged, self.ledger = (states, rules), tuple(entries)
        self.unsettled = self.unsettled or bool(steps)
        for step in steps:
            self._apply(step, rows.get(step.subject), states)

    def _deadline_rules(self, now: datetime) -> deadlines.DeadlineRules:
        remembered = memory.plan_settings(self.session, self.source.id)
        plan = self.merged.plan
        plan_limits = plan.limits if plan else None
        known = _limits(remembered.plan_limits) if remembered else None
        limits = staleness.effective_limits(self.rules.limits, plan_limits, known)
        zone_name = (
            (plan.timezone if plan else None)
            or self.rules.timezone
            or (remembered.timezone if remembered else None)
        )
        memory.save_plan_settings(
            self.session,
            self.source.id,
            limits=(limits.target, limits.acceptable, limits.stale),
            limits_from=(
                "config"
                if self.rules.limits
                else "plan"
                if plan_limits or known
                else "default"
            ),
            plan_limits=msgspec.structs.asdict(plan_limits) if plan_limits else None,
            timezone=zone_name,
            now=now,
        )
        return deadlines.DeadlineRules(
            limits=limits,
            timezone=_zone(zone_name),
            due_soon_days=self.rules.due_soon_days,
            cadence=self.rules.cadence,
        )

    def _apply(
        self,
        step: deadlines.Step,
        row: DeadlineEntry | None,
        states: Mapping[str, ActionState],
    ) -> None:
        now = self.check.observed_at
        condition = step.condition
        if step.index is None:
            if row is not None:
                memory.drop_entry(self.session, row)
        elif row is None:
            assert condition is not None
            memory.open_entry(
                self.session,
                self.source.id,
                kind=condition.kind.value,
                subject=step.subject,
                action_id=step.action_id,
                started_at=condition.started_at,
                alert_index=step.index,
                now=now,
                alerted=step.alert is not None,
            )
        else:
            memory.advance_entry(row, step.index, now)
        state = states.get(step.action_id) or self.previous.get(step.action_id)
        if step.alert is None or state is None:
            return
        if step.alert in (EventKind.BECAME_STALE, EventKind.NO_LONGER_STALE):
            before, after = self._ages(step.action_id, state)
            detail = dict(condition.facts) if condition else {}
            detail.pop("age_days", None)
            field_name = "age_days"
        else:
            assert condition is not None
            detail = dict(condition.facts)
            before, after = None, detail.get("due_at")
            field_name = "due_at"
        if step.reminder:
            detail["reminder"] = step.reminder
        if step.alert is EventKind.NO_LONGER_STALE and self._fold_into_change(
            step.action_id, {"before": before, "after": after, **detail}
        ):
            return
        self._emit(
            step.alert,
            state,
            field=field_name,
            before=before,
            after=after,
            detail=detail,
        )

    def _fold_into_change(self, action_id: str, ages: dict[str, Any]) -> bool:
        """One edit, one event: an update already reported carries the news.

        An action is back under the stale line because its information was updated;
        when this check reports that update (a field change, or ``updated``), the
        event says ``no_longer_stale`` in its detail instead of a second event.
        """
        for index in range(len(self.events) - 1, -1, -1):
            event = self.events[index]
            if event.action_id == action_id and event.kind not in DEADLINE_KINDS:
                detail = {**event.detail, "no_longer_stale": ages}
                self.events[index] = replace(event, detail=detail)
                return True
        return False

    def _ages(
        self, action_id: str, state: ActionState
    ) -> tuple[int | None, int | None]:
        """The action's age in whole days at the previous check and now."""
        now_age = staleness.age(state, self.check.observed_at)
        previous = self.previous.get(action_id)
        before = None
        if previous is not None and self.previous_check_at is not None:
            then = staleness.age(previous, self.previous_check_at)
            before = int(then.days) if then else None
        return before, int(now_age.days) if now_age else None

    def settled_state(
        self, pages: Sequence[ParsedPage | None], outcome: CheckOutcome
    ) -> settled.Settled | None:
        """What the next check needs to repeat this one, if this one is settled."""
        if (
            self.unsettled
            or self.events
            or outcome is not CheckOutcome.UNCHANGED
            or self.judged is None
            or not all(o.usable for o in self.observations)
        ):
            return None
        remembered = {}
        for key, fields in self.fingerprints.items():
            row = self.memory[key]
            if row.id is None:
                return None
            checks = memory.recent_checks(row)
            remembered[key] = settled.Remembered(row.id, fields, checks)
        states, rules = self.judged
        return settled.Settled(
            pages=tuple(pages),
            observed_at=self.check.observed_at,
            rules=self.rules,
            action_rows=_seen_rows(self.actions, self.merged.actions),
            organization_rows=_seen_rows(self.organizations, self.merged.organizations),
            memory=remembered,
            deadline_states=states,
            deadline_rules=rules,
            ledger=self.ledger,
        )

    def outcome(self) -> CheckOutcome:
        if any(o.failed for o in self.observations):
            return CheckOutcome.FAILED
        if self.unkeyed or any(
            o.layout_problems
            or (o.page and o.page.outcome is Outcome.LAYOUT_UNRECOGNISED)
            for o in self.observations
        ):
            return CheckOutcome.ANOMALY
        if self.baseline:
            return CheckOutcome.BASELINE
        changed = any(e.kind not in DEADLINE_KINDS for e in self.events)
        return CheckOutcome.CHANGED if changed else CheckOutcome.UNCHANGED

    # -- events -------------------------------------------------------------------

    def _emit_change(self, change: Change, state: ActionState) -> None:
        detail = change.detail
        if change.kind is EventKind.MERGED:
            # People know the action it went into by its identifier, not its id.
            master = self.merged.actions.get(str(change.after))
            if master is None and str(change.after) in self.actions:
                master = self.actions[str(change.after)][1]
            if master is not None and master.identifier:
                detail = {**detail, "identifier": master.identifier}
        self._emit(
            change.kind,
            state,
            field=change.field,
            before=change.before,
            after=change.after,
            detail=detail,
        )

    def _emit(
        self,
        kind: EventKind,
        state: ActionState,
        *,
        field: str | None,
        before: object = None,
        after: object = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        self.events.append(
            Event(
                kind=kind,
                source=self.source.name,
                observed_at=self.check.observed_at,
                action_id=state.id,
                action_identifier=state.identifier,
                name=_display_name(state.names),
                field=field,
                before=before,
                after=after,
                url=state.url,
                detail=dict(detail or {}),
            )
        )

    def _emit_source(self, kind: EventKind, detail: dict[str, object]) -> None:
        self.events.append(
            Event(
                kind=kind,
                source=self.source.name,
                observed_at=self.check.observed_at,
                detail=detail,
            )
        )


def _queue(
    session: Session,
    source: Source,
    check: Check,
    events: Sequence[Event],
    rows: Sequence[object],
    targets: Mapping[str, Target] | None,
    observations: Sequence[PageObservation],
) -> int:
    # Subscriptions, rendering and the outbox belong to notifiers; the pages this
    # check fetched tell it which sites a message may link to.
    return queue_check(
        session,
        source,
        check,
        events,
        [getattr(row, "id") for row in rows],  # noqa: B009 (rows are EventRow)
        Routing.of(targets),
        pages=[o.url for o in observations],
    )


def _seen_rows(
    records: Mapping[str, tuple[ActionRecord | OrganizationRecord, object]],
    seen: Mapping[str, object],
) -> tuple[int, ...]:
    return tuple(record.id for key, (record, _) in records.items() if key in seen)


def _display_name(names: Mapping[str, str]) -> str | None:
    return names.get("en") or next(iter(names.values()), None)


def _stored_differs(old: ActionState, new: ActionState) -> bool:
    """Is there anything worth a new version besides clock-driven intervals?"""
    a, b = old.to_json(), new.to_json()
    for volatile in ("updated_earliest", "updated_latest"):
        if not b.get("updated_exact"):
            a.pop(volatile, None)
            b.pop(volatile, None)
    return a != b


def _entry(row: DeadlineEntry) -> deadlines.Entry:
    return deadlines.Entry(
        kind=EventKind(row.kind),
        subject=row.subject,
        action_id=row.action_platform_id,
        started_at=row.started_at,
        alert_index=row.alert_index,
    )


def _limits(data: Mapping[str, Any] | None) -> TimelinessLimits | None:
    if not data:
        return None
    return TimelinessLimits(
        target=int(data["target"]),
        acceptable=int(data["acceptable"]),
        stale=int(data["stale"]),
    )


def _zone(name: str | None) -> tzinfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("unknown time zone %r: judging due dates in UTC", name)
    return UTC
