"""The platform's action objects -> records: shared parts and odd values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from parsers import data
from parsers.records import Phase, ResponsibleParty, Status, TaskCounts

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _raw(action_id: str, **fields: object) -> dict[str, object]:
    return {
        "id": action_id,
        "identifier": f"A{action_id}",
        "name": f"Action\u00ad {action_id}",
        "status": {"identifier": "late", "name": "Myöhässä"},
        "implementationPhase": {"identifier": "impl", "name": "Toteutus"},
        "responsibleParties": [
            {"role": "PRIMARY", "organization": {"id": 7, "name": "Stara"}}
        ],
        "tasks": [
            {"id": "1", "state": "NOT_STARTED", "dueAt": "2026-04-30"},
            {"id": "2", "state": "IN_PROGRESS", "dueAt": "2026-05-01"},
            {"id": "3", "state": "IN_PROGRESS", "dueAt": "2026-05-02"},
            {"id": "4", "state": "COMPLETED", "completedAt": "2026-01-02"},
            {"id": "5", "state": "CANCELLED", "dueAt": "2020-01-01"},
        ],
        **fields,
    }


def test_a_list_of_actions_becomes_records() -> None:
    first, second = data.actions([_raw("1"), _raw("2")], NOW, lambda i: f"/a/{i}")

    assert first.name == "Action 1"
    assert first.url == "/a/A1"
    assert first.status == Status("late", "Myöhässä")
    assert first.phase == Phase("impl", "Toteutus")
    assert first.responsible_parties == (ResponsibleParty("7", "Stara", "PRIMARY"),)
    # Due on 30 April and 1 May (UTC midnight, before noon) are late; 2 May is not.
    assert first.tasks == TaskCounts(total=4, completed=1, late=2, on_time=1)
    assert first.task_list is not None
    assert [t.due_at for t in first.task_list][:3] == [
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 5, 2),
    ]
    assert second.status == first.status


def test_repeated_statuses_and_parties_are_built_once_per_list() -> None:
    first, second = data.actions([_raw("1"), _raw("2")], NOW, lambda i: i)

    assert second.status is first.status
    assert second.phase is first.phase
    assert second.responsible_parties is not None
    assert first.responsible_parties is not None
    assert second.responsible_parties[0] is first.responsible_parties[0]


def test_different_values_are_not_shared() -> None:
    other = {"identifier": "late", "name": "Late"}
    first, second = data.actions([_raw("1"), _raw("2", status=other)], NOW, lambda i: i)

    assert first.status == Status("late", "Myöhässä")
    assert second.status == Status("late", "Late")


def test_values_of_unexpected_types_are_read_leniently() -> None:
    odd = _raw(
        "3",
        status={"identifier": ["not", "hashable"], "name": {"x": 1}},
        responsibleParties=[
            {"role": ["x"], "organization": {"id": "9", "name": ["y"]}},
            "not a party",
        ],
        tasks=[{"state": ["odd"], "dueAt": 5}, "not a task"],
        completion="40",
    )

    (action,) = data.actions([odd, "not an action", {"id": None}], NOW, lambda i: i)

    assert action.status == Status(None, None)
    assert action.responsible_parties == (ResponsibleParty("9", None, None),)
    assert action.tasks == TaskCounts(total=0, completed=0, late=0, on_time=0)
    assert action.completion == 40
