"""What ``planwatch check`` and ``planwatch run`` show while they work.

``check`` draws a progress bar of pages on a terminal (nothing when its output is a
file or a pipe); ``run`` logs one line per check with its outcome and timing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from monitor.config import SourceConfig
from monitor.fetch import FetchResult

# The loggers of the one line per check (``monitor.scheduling.Timer``) and of the
# service starting and stopping.
CHECK_LOGGERS = ("monitor.scheduling", "monitor.service", "monitor.locks")


@contextmanager
def page_progress(
    console: Console, sources: Sequence[SourceConfig]
) -> Iterator[Callable[[str, FetchResult], None]]:
    """A bar over every page of ``sources``; yields the callback for each page."""
    total = sum(len(source.pages) for source in sources)
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task(f"checking {len(sources)} sources", total=total)
    failed = 0

    def page_done(source: str, result: FetchResult) -> None:
        nonlocal failed
        if not result.ok and result.outcome.value != "not_modified":
            failed += 1
        suffix = f", {failed} failed" if failed else ""
        progress.update(
            task,
            advance=1,
            description=f"checking {len(sources)} sources ({source}{suffix})",
        )

    with progress:
        yield page_done


def log_each_check() -> None:
    """Show the one INFO line per check even when the rest logs warnings only."""
    for name in CHECK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
