"""`planwatch export --format csv` does not hand a spreadsheet a formula.

Names, labels and identifiers are scraped from sites planwatch does not control.
Found trying planwatch as a newcomer: an action named `=HYPERLINK("http://evil")`
was written as is, and a spreadsheet opening the export runs it (CSV injection).
A text cell a spreadsheet would read as a formula starts with `'`; numbers, and
the JSON and NDJSON formats, stay as they are.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from storage.export import CHANGE_COLUMNS, write_rows

ROW = {column: None for column in CHANGE_COLUMNS}


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil")', "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1"],
)
def test_a_text_cell_read_as_a_formula_is_quoted(name: str) -> None:
    stream = io.StringIO()

    write_rows([{**ROW, "name": name, "before": -5}], CHANGE_COLUMNS, "csv", stream)

    (row,) = csv.DictReader(io.StringIO(stream.getvalue()))
    assert row["name"] == "'" + name
    assert row["before"] == "-5", "a number is no formula"


def test_ordinary_text_and_json_exports_are_unchanged() -> None:
    rows = [{**ROW, "name": "Trams = faster", "after": "=1"}]
    stream, as_json = io.StringIO(), io.StringIO()

    write_rows(rows, CHANGE_COLUMNS, "csv", stream)
    write_rows(rows, CHANGE_COLUMNS, "json", as_json)

    (row,) = csv.DictReader(io.StringIO(stream.getvalue()))
    assert row["name"] == "Trams = faster"
    assert json.loads(as_json.getvalue())[0]["after"] == "=1"
