"""Running the ``planwatch`` command in the test's own process."""

from __future__ import annotations

import sys

import pytest

from monitor.cli import main


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """``planwatch ARGS`` as a user would type it: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["planwatch", *args])
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


def folded(text: str) -> str:
    """Whitespace folded: the console wraps long lines."""
    return " ".join(text.split())
