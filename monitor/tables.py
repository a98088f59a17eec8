"""Tables for the terminal that never cut a value short.

rich ends a word that does not fit its column with "…"; piped into a file at the
default 80 columns, that cut kinds, names and times. Here every column folds instead:
a long value goes on over the next lines of its cell.
"""

from __future__ import annotations

from rich.table import Table


def folding_table(*headers: str) -> Table:
    made = Table()
    for header in headers:
        made.add_column(header, overflow="fold")
    return made
