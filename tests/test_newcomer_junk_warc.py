"""`planwatch import` of a file that only looks like a WARC: one readable line.

Found trying planwatch as a newcomer: `planwatch import junk.warc.gz` (random
bytes) printed warcio's "Unknown archive format, first line: [...]" followed by a
long run of the file's raw binary.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli


def _import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code, out, err = run_cli(monkeypatch, capsys, "import", *args)
    assert "Traceback" not in err
    return code, out + err


@pytest.mark.parametrize("name", ["junk.warc.gz", "junk.warc", "junk.bin"])
@pytest.mark.parametrize("seed", range(5))
def test_a_junk_warc_is_one_printable_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    seed: int,
) -> None:
    noise = random.Random(seed).randbytes(4096)
    # A name that does not say WARC is taken for one by its gzip magic.
    junk = tmp_path / name
    junk.write_bytes(noise if name != "junk.bin" else b"\x1f\x8b" + noise)
    db = tmp_path / "history.sqlite"

    code, text = _import(monkeypatch, capsys, str(junk), "--db", str(db))

    assert code == 2
    assert text.startswith(f"planwatch: error: {junk}: not a readable WARC file")
    assert text.endswith("\n")
    assert text.count("\n") == 1
    assert text[:-1].isprintable(), text
    assert len(text) - len(str(junk)) < 160, text
    assert not db.exists()
