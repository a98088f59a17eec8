"""A task bar whose segment widths cannot be the task counts leaves the counts
unknown: no parser failure, no negative count.

Found damaging task bars of an organization table read from its markup and running
`planwatch parse`: a segment of ``width:150%`` gave "3 completed of 2 tasks, -1 on
time"; a width with two points (``width:1.5.5%``) or only one (``width:.%``) ended
the page in ValueError, and one of 400 digits in OverflowError (a traceback and
``seen: parser_error``). The completed, late and on-time counts are read from the
widths (the UI draws ``count / total`` of the bar for each); widths that are no
numbers, or that do not fit in the bar, now leave those counts null, and the total
(from the label) stands.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parsers import markup
from parsers.kausal import parse_page
from parsers.records import Outcome, TaskCounts

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
URL = "https://watch.example/en/organizations/3"


def _org_page(completed: str, late: str = "0", on_time: str = "50") -> str:
    """An organization page with one row of two tasks and no embedded data."""
    return f"""<!DOCTYPE html><html lang="en"><body><main data-testid="root-layout">
<h1>Environmental Services</h1><h2>Responsible in 1 actions</h2>
<table class="table" aria-rowcount="1"><tbody><tr>
<th scope="row" class="row-title sticky-table-name-column" id="row-7-0">
<a href="/en/actions/7">Seven</a></th>
<td id="row-7-1"><div><div class="completed" style="width:{completed}%"></div>
<div class="late" style="width:{late}%"></div>
<div class="on-time" style="width:{on_time}%"></div></div><div>2 tasks</div></td>
</tr></tbody></table></main></body></html>"""


def test_widths_that_fit_give_the_counts() -> None:
    page = parse_page(_org_page("50"), URL, observed_at=NOW)

    (action,) = page.actions
    assert action.tasks == TaskCounts(total=2, completed=1, late=0, on_time=1)


@pytest.mark.parametrize(
    "completed", ["150", "100.5", "1.5.5", ".", "9" * 400, "99" + "0" * 400 + ".5"]
)
def test_widths_that_cannot_be_counts_leave_them_unknown(completed: str) -> None:
    page = parse_page(_org_page(completed), URL, observed_at=NOW)

    assert page.outcome is Outcome.OK
    (action,) = page.actions
    assert action.tasks == TaskCounts(total=2, completed=None, late=None, on_time=None)


def test_segments_that_overflow_the_bar_together_leave_them_unknown() -> None:
    page = parse_page(_org_page("100", late="100", on_time="0"), URL, observed_at=NOW)

    (action,) = page.actions
    assert action.tasks == TaskCounts(total=2, completed=None, late=None, on_time=None)


def test_split_counts_refuses_widths_beyond_the_bar() -> None:
    assert markup.split_counts(3, (33.333333333333336,) * 3) == (1, 1, 1)
    assert markup.split_counts(2, (150.0, 0.0, 0.0)) == (None, None, None)
    assert markup.split_counts(2, (float("inf"), 0.0, 0.0)) == (None, None, None)


def test_a_task_count_past_floating_point_leaves_the_split_unknown() -> None:
    # Found the same way: a label of 400 digits ("999... tasks") ended the page in
    # OverflowError (the count times a width is no float); the total stands.
    total = int("9" * 400)
    body = _org_page("50").replace(">2 tasks<", f">{total} tasks<")

    page = parse_page(body, URL, observed_at=NOW)

    (action,) = page.actions
    assert action.tasks == TaskCounts(
        total=total, completed=None, late=None, on_time=None
    )
