"""One event loop and one Fetcher for a whole process.

APScheduler runs each job in a worker thread; the fetching of every job happens on
one event loop in its own thread, through one `Fetcher`, so that politeness per host
(one request in flight, a delay between requests, Retry-After) holds across all the
sources a process checks at once, and robots.txt is read once per host.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from monitor.fetch import Fetcher, FetchPolicy

logger = logging.getLogger(__name__)

T = TypeVar("T")


class FetchLoop:
    """An event loop in a daemon thread, owning one Fetcher; close() when done."""

    def __init__(self, policy: FetchPolicy, **fetcher_options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="planwatch-fetch", daemon=True
        )
        self._thread.start()
        self.fetcher: Fetcher = self.run(self._open(policy, fetcher_options))
        self._closed = False

    @staticmethod
    async def _open(policy: FetchPolicy, options: dict[str, Any]) -> Fetcher:
        return Fetcher(policy, **options)

    def run(
        self,
        work: Coroutine[Any, Any, T],
        *,
        keepalive: Callable[[], None] | None = None,
        every: float = 20.0,
    ) -> T:
        """Run ``work`` on the loop and wait for it, calling ``keepalive`` meanwhile.

        ``keepalive`` runs in the calling thread, at least every ``every`` seconds;
        it is how a claim holder shows PostgreSQL it is alive during a long fetch.
        """
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        while True:
            try:
                return future.result(timeout=every)
            except concurrent.futures.TimeoutError:
                if keepalive is not None:
                    keepalive()

    def close(self) -> None:
        """Close the Fetcher and stop the loop (after the work in flight)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.run(self.fetcher.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            if not self._thread.is_alive():
                self._loop.close()

    def __enter__(self) -> FetchLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
