"""What ``planwatch check`` and ``planwatch run`` show while they work.

``check`` draws a progress bar of pages on a terminal (nothing when its output is a
file or a pipe); ``run`` logs one line per check with its outcome and timing, and a
WARNING for each retry of a fetch. ``check`` logs retries only with ``-v``: its
outcome line says what failed in the end, and a retry that worked is no news (nor a
reason for cron to send mail); the same holds for a notification that will be sent
again.
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
# The loggers of retries: fetches (``monitor.fetch.retry_logger`` and the API's)
# and sends (``notifiers.deliver.retry_logger``).
RETRY_LOGGERS = (
    "monitor.fetch.retries",
    "monitor.api_source.retries",
    "notifiers.deliver.retries",
)
# Apprise warns of each failed send itself; planwatch's line quotes it.
_SENDER = "apprise"


@contextmanager
def page_progress(
    console: Console, sources: Sequence[SourceConfig]
) -> Iterator[Callable[[str, FetchResult], None]]:
    """A bar over every page of ``sources``; yields the callback for each page."""
    # A site's pages are found at check time: its seed alone made "16/1 pages".
    seeded = any(source.site for source in sources)
    total = None if seeded else sum(len(source.pages) for source in sources)
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


@contextmanager
def quiet_retries() -> Iterator[None]:
    """Keep retry warnings off a one-shot check's terminal, unless -v asked for
    INFO; the loggers are as they were afterwards."""
    loggers = [logging.getLogger(name) for name in RETRY_LOGGERS]
    if logging.getLogger().isEnabledFor(logging.INFO):
        yield
        return
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    # Apprise's warnings are dropped at the terminal only: its own capture of
    # them (the reason planwatch quotes) must still see them.
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(_no_sender_warnings)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        for handler in handlers:
            handler.removeFilter(_no_sender_warnings)


def _no_sender_warnings(record: logging.LogRecord) -> bool:
    from_sender = record.name == _SENDER or record.name.startswith(_SENDER + ".")
    return not (from_sender and record.levelno < logging.ERROR)
