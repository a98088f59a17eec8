"""Terminal output: tables that never cut a value short, text that cannot steer
the terminal.

rich ends a word that does not fit its column with "…"; piped into a file at the
default 80 columns, that cut kinds, names and times. Here every column folds instead:
a long value goes on over the next lines of its cell.

Scraped text is printed as published, except for control characters: an action
named with an escape sequence in it would otherwise recolour, retitle or clear the
reader's terminal. Each shows as its escape (``\\x1b``) instead.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# C0 (but newline and tab, which our own output uses), DEL and C1: the bytes a
# terminal acts on rather than shows.
_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), *range(0x7F, 0xA0))
    if chr(code) not in "\n\t"
}


def printable(text: str) -> str:
    """*text* with every control character written as its escape."""
    return text.translate(_CONTROLS)


class TerminalConsole(Console):
    """A rich console that prints every string through ``printable``."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(printable(text), **options)


def folding_table(*headers: str) -> Table:
    made = Table()
    for header in headers:
        made.add_column(header, overflow="fold")
    return made
