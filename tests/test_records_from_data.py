"""The platform's action objects -> records: shared parts and odd values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from monitor.localserve import read_fixture
from parsers import data, embedded
from parsers import raw as raw_shapes
from parsers.records import Phase, ResponsibleParty, Status, TaskCounts
from tests.conftest import FIXTURES

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


# -- the typed reading and the lenient one agree --------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, width=16)
    | st.sampled_from(
        ["", "x", "2026-04-30", "2026-01-02T03:04:05Z", "40", "ä\u00ad b"]
    )
)
_ANY = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["id", "name", "x"]), inner, max_size=2)
    ),
    max_leaves=4,
)


def _obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional=fields) | _ANY


_NAMED = _obj(identifier=_SCALARS, name=_SCALARS, color=_SCALARS)
_REF = _obj(id=_SCALARS, identifier=_SCALARS, name=_SCALARS)
_ACTION = st.fixed_dictionaries(
    {"id": _SCALARS},
    optional={
        "identifier": _SCALARS,
        "name": _SCALARS,
        "status": _NAMED,
        "implementationPhase": _NAMED,
        "statusSummary": _REF,
        "timeliness": _REF,
        "completion": _SCALARS,
        "updatedAt": _SCALARS,
        "startDate": _SCALARS,
        "endDate": _SCALARS,
        "scheduleContinuous": _SCALARS,
        "tasks": st.lists(
            _obj(
                id=_SCALARS,
                name=_SCALARS,
                state=st.sampled_from(["NOT_STARTED", "COMPLETED", "CANCELLED"]),
                dueAt=_SCALARS,
                completedAt=_SCALARS,
            ),
            max_size=3,
        )
        | _ANY,
        "responsibleParties": st.lists(_obj(role=_SCALARS, organization=_REF)) | _ANY,
        "primaryOrg": _REF,
        "mergedWith": _REF,
        "supersededBy": _REF,
        "relatedIndicators": st.lists(_obj(indicator=_REF), max_size=2) | _ANY,
        "color": _ANY,
    },
)


@settings(max_examples=300, deadline=None)
@given(raw=_ACTION)
def test_typed_and_lenient_reading_build_the_same_record(raw: dict[str, Any]) -> None:
    typed = data.actions([raw], NOW, lambda i: i)
    lenient = data.actions([raw_shapes.lenient(raw)], NOW, lambda i: i)

    assert typed == lenient


@settings(max_examples=200, deadline=None)
@given(raws=st.lists(_ACTION, max_size=3))
def test_decoding_json_into_structs_reads_as_the_dicts_do(
    raws: list[dict[str, Any]],
) -> None:
    text = json.dumps(raws).encode()
    try:
        structs = raw_shapes.ACTIONS.decode(text)
    except msgspec.DecodeError:  # odd types, or Infinity: such a list is read
        return  # from its dicts
    assert data.actions(structs, NOW, str) == data.actions(raws, NOW, str)


def test_a_large_plans_action_list_is_decoded_into_structs() -> None:
    body = read_fixture(
        FIXTURES / "bigcity-2024" / "before" / "html" / "action-list.fi.html"
    )
    found = embedded.extract(LexborHTMLParser(body))

    structs = found.first_list("planActions", raw_shapes.ACTIONS)
    dicts = embedded.extract(LexborHTMLParser(body)).first_list("planActions")

    assert structs is not None
    assert dicts is not None
    assert len(structs) == 600
    assert all(isinstance(s, raw_shapes.RawAction) for s in structs)
    assert data.actions(structs, NOW, str) == data.actions(dicts, NOW, str)


def test_an_infinite_completion_is_no_completion() -> None:
    # json.loads reads "Infinity"; int() of it raises OverflowError.
    (action,) = data.actions(
        [embedded.loads('{"id": "1", "completion": Infinity}')], NOW, str
    )

    assert action.completion is None
