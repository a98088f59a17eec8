"""`planwatch check URL...` names the option a bad value came from.

Found trying `planwatch check URL --source "my plan"`: the error read "command
line: name = 'my plan': String should match pattern '^[\\w.:-]+$'", naming a key
the user never typed (`import --source "my plan"` said "--source 'my plan': ...").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import folded, run_cli


def test_a_bad_source_name_is_named_as_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "history.sqlite")
    code, _, err = run_cli(
        monkeypatch,
        capsys,
        "check",
        "https://plan.example/actions",
        "--source",
        "my plan",
        "--db",
        db,
    )

    assert code == 2
    assert "--source 'my plan'" in folded(err)
    assert "name =" not in err
    assert not Path(db).exists()
