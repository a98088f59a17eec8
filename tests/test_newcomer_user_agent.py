"""The contact and user_agent the config puts in the User-Agent are checked at load.

Found trying planwatch as a newcomer: `contact = "Ympäristötiimi
<ilmasto@example.fi>"` (or `user_agent = "plänwatch/1"`) passed the config and
ended `planwatch check` in a UnicodeEncodeError traceback when the first request
was built (HTTP headers are ASCII); a contact with a line break ("me\\nX-Evil: 1")
ended in a ValueError traceback from FetchPolicy. Both are now refused when the
config loads, naming the key, before anything is fetched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import parse_config
from parsers.errors import ConfigError
from tests.cli_helpers import folded, run_cli

PAGE = "https://ilmastovahti.example/en/organizations/4"
BAD = [
    ("contact", "Ympäristötiimi <ilmasto@example.fi>"),
    ("contact", "me\nX-Evil: 1"),
    ("contact", "   "),
    ("user_agent", "plänwatch/1"),
    ("user_agent", "planwatch/1\r\n"),
    ("user_agent", ""),
]


@pytest.mark.parametrize(("key", "value"), BAD)
def test_header_text_that_cannot_be_sent_is_refused_naming_the_key(
    key: str, value: str
) -> None:
    raw = {"planwatch": {key: value}, "sources": [{"name": "a", "pages": [PAGE]}]}
    with pytest.raises(ConfigError, match=rf"planwatch\.{key}"):
        parse_config(raw)


def test_plain_header_text_is_accepted() -> None:
    raw = {
        "planwatch": {"contact": "Ilmasto <ilmasto@example.fi>", "user_agent": "pw/2"},
        "sources": [{"name": "a", "pages": [PAGE]}],
    }
    assert parse_config(raw).planwatch.contact == "Ilmasto <ilmasto@example.fi>"


def test_check_says_so_before_fetching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "planwatch.toml"
    config.write_text(
        '[planwatch]\ncontact = "Ympäristötiimi <ilmasto@example.fi>"\n'
        f'[[sources]]\nname = "a"\npages = ["{PAGE}"]\n',
        encoding="utf-8",
    )
    db = tmp_path / "history.sqlite"

    code, _, err = run_cli(
        monkeypatch, capsys, "check", "-c", str(config), "--db", str(db)
    )

    assert "Traceback" not in err
    assert code == 2
    assert "planwatch.contact" in folded(err)
    assert not db.exists()
