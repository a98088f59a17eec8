"""A name whose escaped JSON holds half an emoji (a lone surrogate, ``\\ud800``) is
stored, listed and exported with U+FFFD in its place.

Found trying planwatch as a newcomer: such a name in a page's embedded data (what
a site that cuts a text between the two halves of an emoji publishes) ended every
check of the source with a UnicodeEncodeError: the text has no UTF-8 form, so it
could be neither hashed, stored, printed nor sent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-list.en.html.gz"
URL = "https://lab.example.org/en/actions"


def _import(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    at: str,
    body: bytes,
) -> None:
    folder.mkdir()
    (folder / "actions.html").write_bytes(body)
    manifest = folder / "manifest.csv"
    manifest.write_text(f"url,observed_at,path\n{URL},{at},actions.html\n")
    db = str(folder.parent / "history.sqlite")

    code, out, err = run_cli(monkeypatch, capsys, "import", str(manifest), "--db", db)

    assert code == 0, out + err


def test_a_name_with_a_lone_surrogate_is_stored_with_a_replacement_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = gzip.decompress(PAGE.read_bytes())
    broken = body.replace(
        b'"name":"Increase solar power"', b'"name":"Increase solar power \\ud83d"'
    )
    assert broken != body
    _import(monkeypatch, capsys, tmp_path / "before", "2026-01-01T00:00:00Z", body)
    _import(monkeypatch, capsys, tmp_path / "after", "2026-01-02T00:00:00Z", broken)
    db = str(tmp_path / "history.sqlite")

    code, out, err = run_cli(monkeypatch, capsys, "changes", "--json", "--db", db)
    assert code == 0, err
    (renamed,) = [json.loads(line) for line in out.splitlines()]
    assert renamed["kind"] == "renamed"
    assert renamed["after"] == "Increase solar power \ufffd"

    for command in (["export", "records", "-f", "csv"], ["show", "import", "--json"]):
        code, out, err = run_cli(monkeypatch, capsys, *command, "--db", db)
        assert code == 0, err
        assert "Increase solar power \ufffd" in out


def _strings(value: object) -> list[str]:
    """Every string in a parse result, record fields and dictionary keys included."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif hasattr(item, "__struct_fields__"):
            stack.extend(getattr(item, name) for name in item.__struct_fields__)
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(getattr(item, name) for name in item.__dataclass_fields__)
    return found


# Half an emoji put before every identifier, as each carrier would hold it: escaped
# in the Apollo JSON, escaped in the flight chunk's JavaScript string (a surrogate
# in the flight text) or in the JSON within it, and as the surrogate's raw bytes.
APOLLO = (b'"identifier":"', b'"identifier":"\\ud83d')
APOLLO_RAW = (b'"identifier":"', b'"identifier":"\xed\xa0\xbd')
FLIGHT_STRING = (b'\\"identifier\\":\\"', b'\\"identifier\\":\\"\\ud83d')
FLIGHT_JSON = (b'\\"identifier\\":\\"', b'\\"identifier\\":\\"\\\\udc00')
FLIGHT_RAW = (b'\\"identifier\\":\\"', b'\\"identifier\\":\\"\xed\xa0\xbd')
CASES = [
    (page, half)
    for page in (
        "lab-2024/before/html/action-list.en.html.gz",
        "lab-2024/before/html/action-1.en.html.gz",
        "lab-2024/before/html/organization-1.en.html.gz",
        "ui-2026/html/action-1.en.html.gz",
    )
    for half in (FLIGHT_STRING, FLIGHT_JSON, FLIGHT_RAW)
] + [("lab-2024/before/html/action-list.en.html.gz", h) for h in (APOLLO, APOLLO_RAW)]


@pytest.mark.parametrize(("page", "half"), CASES)
def test_no_lone_surrogate_leaves_the_parser(
    page: str, half: tuple[bytes, bytes]
) -> None:
    from datetime import UTC, datetime

    from parsers.kausal import parse_page

    body = gzip.decompress((FIXTURES / page).read_bytes())
    halved = body.replace(*half)
    assert halved != body
    at = datetime(2026, 1, 1, tzinfo=UTC)
    url = "https://lab.example.org/en/actions"

    parsed = parse_page(halved, url, observed_at=at)

    texts = _strings(parsed)
    assert any("\ufffd" in text for text in texts)
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate
    assert type(parsed) is type(parse_page(body, url, observed_at=at))
