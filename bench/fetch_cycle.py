"""A full check cycle over 1,000 pages on 127.0.0.1: planwatch against urlwatch.

    python bench/fetch_cycle.py [--pages 1000] [--concurrency 10] [--db URL]
                                [--no-urlwatch] [--profile DIR] [--scenarios abcd]
                                [--cycles 5]

The pages are real Kausal Watch pages (fixtures/kausal-watch/lab-2024), 32 per site
copy, served by a separate process (so its CPU is not counted) in these ways:

(a) every page unchanged, with an ETag: a conditional request gets 304;
(b) as Kausal Watch serves them: no validators, ``cache-control: no-store``, a 200
    with a fresh render time inside every answer; all unchanged;
(c) as (b), with 5% of the pages after real edits;
(d) as (b), with a random comment in every answer that no normalisation removes
    (today's UI renumbers embedded row ids per request): every page is parsed.

Then one 304 cycle again, one check at a time in one thread, split into its steps
(CPU per page of each): where the time goes.

Each scenario starts from an empty database (and an empty urlwatch cache): one
cycle to learn the pages, then the measured cycle. planwatch runs in this process
as ``planwatch run`` does (one fetch loop, pages and settled checks remembered
between cycles, each source claimed, recorded in SQLite), and gets one more cycle
before the measured one: ``run`` checks a source for months, and from its third
check on an unchanged source repeats its last settled check (`monitor.settled`).
Where the site is unchanged ((a), (b), (d)) planwatch is measured over ``--cycles``
cycles and the one of median CPU is shown: one cycle moves by a fifth on a shared
machine. "cold" repeats (a) with nothing remembered, as a one-shot
``planwatch check`` would (the stored bodies are parsed again, every check is
diffed in full). urlwatch
runs as its own command, twice per scenario, with the same URLs and the same
concurrency (its worker pool has 10 threads; planwatch gets 10 checks at once and
10 requests in flight to the one host); its stdout report is switched off, and its
interpreter start-up is measured separately and shown.

Wall time and CPU time (user + system, all threads) per page are printed side by
side with their ratios. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import os
import pstats
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import conditional  # noqa: E402
from monitor.conditional import PageMemory, Tally  # noqa: E402
from monitor.config import Config, Settings, SourceConfig  # noqa: E402
from monitor.demo import lab_pages  # noqa: E402
from monitor.fetch import Fetcher, FetchPolicy  # noqa: E402
from monitor.pipeline import record_check  # noqa: E402
from monitor.scheduling import Claims  # noqa: E402
from monitor.service import Checker, SourceCheck, check_now  # noqa: E402
from monitor.settled import SettledChecks  # noqa: E402
from monitor.workers import FetchLoop  # noqa: E402
from storage.db import Database, open_database  # noqa: E402

URLWATCH = Path(sys.executable).with_name("urlwatch")
CHANGED_SHARE = 0.05
_RENDER_TIME = re.compile(rb'(now\\":\\"\$D)[0-9T:.Z+-]{10,40}')


# -- the site (a separate process) --------------------------------------------------


def site_paths(count: int) -> list[tuple[str, str]]:
    """(served path, lab path) for ``count`` pages: copies of the 32-page lab site."""
    lab = sorted(lab_pages("before"))
    return [
        (f"/site{n // len(lab):02d}{lab[n % len(lab)]}", lab[n % len(lab)])
        for n in range(count)
    ]


def serve(count: int, port_file: Path) -> None:
    before, after = lab_pages("before"), lab_pages("after")
    paths = site_paths(count)
    rng = random.Random(7)
    changed = {p for p, _ in rng.sample(paths, round(count * CHANGED_SHARE))}
    bodies = {p: before[lab].body for p, lab in paths}
    edited = {p: after[lab].body for p, lab in paths if p in changed}
    etags = {
        p: '"' + hashlib.sha256(b).hexdigest()[:20] + '"' for p, b in bodies.items()
    }
    state = {"mode": "etag", "edited": False}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path.startswith("/__mode/"):
                mode, _, flag = self.path.removeprefix("/__mode/").partition("/")
                state["mode"], state["edited"] = mode, flag == "edited"
                self._send(200, {}, b"ok")
                return
            body = bodies.get(self.path)
            if body is None:
                self._send(404, {"Content-Type": "text/plain"}, b"not here")
                return
            if state["edited"] and self.path in edited:
                body = edited[self.path]
            self._page(body)

        def _page(self, body: bytes) -> None:
            headers = {"Content-Type": "text/html; charset=utf-8"}
            if state["mode"] == "etag":
                etag = etags[self.path]
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, {"ETag": etag}, b"")
                    return
                headers["ETag"] = etag
                self._send(200, headers, body)
                return
            headers["Cache-Control"] = "private, no-cache, no-store, max-age=0"
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds")[:23] + "Z"
            body = _RENDER_TIME.sub(rb"\g<1>" + stamp.encode(), body)
            if state["mode"] == "noisy":
                body = body.replace(
                    b"</body>", f"<!-- {random.random()} --></body>".encode(), 1
                )
            self._send(200, headers, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    port_file.write_text(str(server.server_address[1]), encoding="utf-8")
    server.serve_forever(0.05)


@contextmanager
def site(count: int, work: Path) -> Iterator[str]:
    port_file = work / "port"
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), str(port_file)],
        stdout=subprocess.DEVNULL,
    )
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        process.terminate()
        process.wait(10)


def set_mode(base: str, mode: str, edited: bool = False) -> None:
    import urllib.request

    flag = "/edited" if edited else ""
    with urllib.request.urlopen(f"{base}/__mode/{mode}{flag}") as answer:  # noqa: S310
        answer.read()


# -- measuring ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    wall: float
    cpu: float

    def per_page(self, pages: int) -> tuple[float, float]:
        return self.wall / pages * 1000, self.cpu / pages * 1000


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(work: Callable[[], Any], cpu: Callable[[], float] = _cpu_self) -> Cost:
    cpu0, wall0 = cpu(), time.perf_counter()
    work()
    return Cost(time.perf_counter() - wall0, cpu() - cpu0)


# -- planwatch ----------------------------------------------------------------------


@dataclass
class Planwatch:
    base: str
    count: int
    concurrency: int
    db_url: str

    def __post_init__(self) -> None:
        paths = [p for p, _ in site_paths(self.count)]
        groups: dict[str, list[str]] = {}
        for path in paths:
            groups.setdefault(path.split("/")[1], []).append(self.base + path)
        self.config = Config(
            planwatch=Settings(contact="bench@127.0.0.1", min_delay_seconds=0),
            sources=[SourceConfig(name=n, pages=p) for n, p in groups.items()],
        )
        policy = FetchPolicy(
            contact="bench@127.0.0.1",
            min_delay_per_host=0,
            jitter=0,
            per_host_concurrency=self.concurrency,
            allowed_hosts=frozenset({"127.0.0.1"}),
        )
        self.loop = FetchLoop(policy)
        self.db: Database = open_database(self.db_url)
        self.checker = Checker(self.config, {}, self.loop)

    def cycle(self, profiles: list[cProfile.Profile] | None = None) -> Tally:
        """Check every source once, ``concurrency`` at a time, as ``run`` would.

        With ``profiles``, each check runs under its own profiler (the fetching, on
        the loop thread, is not in them: py-spy sees it).
        """
        claims = Claims(self.db)

        def one(source: SourceConfig) -> SourceCheck:
            if profiles is None:
                return check_now(self.checker, claims, self.db, source)
            profiler = cProfile.Profile()
            profiles.append(profiler)
            return profiler.runcall(check_now, self.checker, claims, self.db, source)

        with ThreadPoolExecutor(self.concurrency) as pool:
            done = list(pool.map(one, self.config.sources))
        tally = Tally()
        for check in done:
            tally.add(check.tally)
        return tally

    def forget(self) -> None:
        self.checker.memory = PageMemory()
        self.checker.settled = SettledChecks()

    def close(self) -> None:
        self.loop.close()
        self.db.close()


# -- urlwatch -----------------------------------------------------------------------


@dataclass
class Urlwatch:
    base: str
    count: int
    work: Path

    def __post_init__(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        urls = self.work / "urls.yaml"
        urls.write_text(
            "\n---\n".join(f"url: {self.base}{p}" for p, _ in site_paths(self.count)),
            encoding="utf-8",
        )
        (self.work / "config.yaml").write_text(
            "report:\n  stdout:\n    enabled: false\n", encoding="utf-8"
        )
        (self.work / "hooks.py").write_text("", encoding="utf-8")

    def _run(self, *extra: str) -> None:
        subprocess.run(
            [
                str(URLWATCH),
                "--urls",
                str(self.work / "urls.yaml"),
                "--config",
                str(self.work / "config.yaml"),
                "--hooks",
                str(self.work / "hooks.py"),
                "--cache",
                str(self.work / "cache.db"),
                *extra,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(self.work)},
        )

    def cycle(self) -> None:
        self._run()

    def startup(self) -> None:
        self._run("--list")


# -- the scenarios ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    planwatch: Cost
    urlwatch: Cost | None
    note: str = ""


SCENARIOS = (
    ("a", "(a) unchanged, 304-capable", "etag", False),
    ("b", "(b) as Kausal Watch serves them, unchanged", "kausal", False),
    ("c", "(c) as (b), 5% changed", "kausal", True),
    ("d", "(d) every body differs (today's UI), unchanged", "noisy", False),
)


def run(
    args: argparse.Namespace,
) -> tuple[list[Row], Cost | None, dict[str, float]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="planwatch-bench-") as tmp:
        work = Path(tmp)
        with site(args.pages, work) as base:
            startup = None
            if not args.no_urlwatch:
                probe = Urlwatch(base, args.pages, work / "urlwatch-probe")
                startup = measure(probe.startup, _cpu_children)
            for key, label, mode, edited in SCENARIOS:
                if key in args.scenarios:
                    rows += scenario(args, work / key, base, label, mode, edited)
            steps = breakdown(base, min(args.pages, 320), work)
    return rows, startup, steps


def scenario(
    args: argparse.Namespace,
    work: Path,
    base: str,
    label: str,
    mode: str,
    edited: bool,
) -> list[Row]:
    work.mkdir()
    set_mode(base, mode)
    with database(args.db, work) as db_url:
        planwatch = Planwatch(base, args.pages, args.concurrency, db_url)
        try:
            planwatch.cycle()  # learn the pages
            planwatch.cycle()  # from its third check of a source on, run repeats
            set_mode(base, mode, edited)
            tallies: list[Tally] = []
            # An edit shows once; an unchanged site can be checked again and again,
            # and the median of those cycles is steadier than one on a busy machine.
            with profiling(args.profile, work.name) as profiles:
                costs = [
                    measure(lambda: tallies.append(planwatch.cycle(profiles)))
                    for _ in range(1 if edited else args.cycles)
                ]
            cost = sorted(costs, key=lambda c: c.cpu)[len(costs) // 2]
            cold = None
            if mode == "etag":
                planwatch.forget()
                cold = measure(lambda: tallies.append(planwatch.cycle()))
        finally:
            planwatch.close()

    theirs = None
    if not args.no_urlwatch:
        set_mode(base, mode)
        urlwatch = Urlwatch(base, args.pages, work / "urlwatch")
        urlwatch.cycle()
        set_mode(base, mode, edited)
        theirs = measure(urlwatch.cycle, _cpu_children)
    rows = [Row(label, cost, theirs, tallies[0].describe())]
    if cold is not None:
        note = tallies[-1].describe()
        rows.append(
            Row("    cold: one-shot check, nothing in memory", cold, None, note)
        )
    return rows


@contextmanager
def database(url: str | None, work: Path) -> Iterator[str]:
    """A temporary SQLite file, or a fresh schema in the PostgreSQL at ``url``."""
    if url is None:
        yield str(work / "planwatch.sqlite")
        return
    from sqlalchemy import create_engine, text

    schema = f"pwbench_{work.name}_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def profiling(
    directory: str | None, name: str
) -> Iterator[list[cProfile.Profile] | None]:
    """cProfile of the checks, and py-spy of every thread, into ``directory``."""
    if directory is None:
        yield None
        return
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy")
    recorder = None
    if spy is not None:
        recorder = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(os.getpid()),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(out / f"{name}.py-spy.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
    profiles: list[cProfile.Profile] = []
    try:
        yield profiles
    finally:
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(60)
        if profiles:
            stats = pstats.Stats(*profiles)
            stats.dump_stats(str(out / f"{name}.cprofile"))
            with (out / f"{name}.top.txt").open("w", encoding="utf-8") as handle:
                pstats.Stats(*profiles, stream=handle).sort_stats(
                    "tottime"
                ).print_stats(40)


def breakdown(base: str, count: int, work: Path) -> dict[str, float]:
    """CPU ms per page of each step of a 304 cycle, one check at a time.

    Everything runs in this thread (the fetching too, on its own event loop), so
    ``time.thread_time`` splits the cost without other threads' share in it.
    """
    set_mode(base, "etag")
    planwatch = Planwatch(base, count, 1, str(work / "breakdown.sqlite"))
    planwatch.cycle()  # learn the pages
    planwatch.loop.close()
    db, memory = planwatch.db, planwatch.checker.memory
    settled = planwatch.checker.settled  # as planwatch run keeps them
    policy = FetchPolicy(
        contact="bench@127.0.0.1",
        min_delay_per_host=0,
        jitter=0,
        allowed_hosts=frozenset({"127.0.0.1"}),
    )
    spent: dict[str, float] = {}

    def step(name: str, started: float) -> float:
        now = time.thread_time()
        spent[name] = spent.get(name, 0.0) + now - started
        return now

    async def cycle(fetcher: Fetcher) -> None:
        claims = Claims(db)
        for source in planwatch.config.sources:
            started = time.thread_time()
            now = datetime.now(UTC)
            with claims.claim(f"source:{source.name}", now, force=True) as claim:
                started = step("claim", started)
                known = memory.load(db, source.name, source.pages)
                results = await conditional.fetch_all(fetcher, source.pages, known, now)
                started = step("fetch (httpx and the Fetcher)", started)
                observations, _ = conditional.observe_all(db, results, known, memory)
                started = step("observe (reuse the last parse)", started)
                record_check(db, source.name, observations, settled_checks=settled)
                started = step("record_check (pipeline, storage)", started)
                conditional.save_validators(db, source.name, results, known)
                started = step("save validators", started)
                claim.reschedule(now, now)
            step("claim", started)

    async def main() -> None:
        async with Fetcher(policy) as fetcher:
            await cycle(fetcher)  # warm up the connection and robots.txt
            spent.clear()
            await cycle(fetcher)

    try:
        asyncio.run(main())
    finally:
        db.close()
    return {name: seconds / count * 1000 for name, seconds in spent.items()}


def _note(startup: Cost | None) -> str:
    if startup is None:
        return ""
    return (
        f"urlwatch start-up alone (--list): {startup.wall:.2f} s wall, "
        f"{startup.cpu:.2f} s CPU, included in its numbers above"
    )


# -- output -------------------------------------------------------------------------


def report(rows: list[Row], pages: int, concurrency: int, startup_note: str) -> None:
    print(f"\nfull check cycle over {pages} pages, {concurrency} at once, 127.0.0.1")
    print(
        f"{'':48} {'planwatch':>19}   {'urlwatch':>19}   {'urlwatch / planwatch':>20}"
    )
    columns = f"{'wall':>9} {'CPU':>9}"
    print(f"{'per page, ms':48} {columns}   {columns}   {columns}")
    for row in rows:
        ours = row.planwatch.per_page(pages)
        line = f"{row.label:48} {ours[0]:9.2f} {ours[1]:9.2f}"
        if row.urlwatch is not None:
            theirs = row.urlwatch.per_page(pages)
            line += f"   {theirs[0]:9.2f} {theirs[1]:9.2f}"
            line += f"   {theirs[0] / ours[0]:9.2f} {theirs[1] / ours[1]:9.2f}"
        print(line)
    for row in rows:
        if row.note:
            print(f"  {row.label.strip()}: planwatch pages: {row.note}")
    if startup_note:
        print(startup_note)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument(
        "--db", help="an SQLAlchemy URL instead of a temporary SQLite file"
    )
    parser.add_argument("--no-urlwatch", action="store_true")
    parser.add_argument("--profile", metavar="DIR", help="cProfile (and py-spy) output")
    parser.add_argument(
        "--scenarios", default="abcd", help="which of a, b, c, d to run (default all)"
    )
    parser.add_argument(
        "--cycles",
        type=int,
        default=5,
        help="planwatch's measured cycles of an unchanged site; the median is shown",
    )
    args = parser.parse_args()
    if not args.no_urlwatch and not URLWATCH.exists():
        parser.error(f"{URLWATCH} not found: pip install urlwatch (or --no-urlwatch)")
    rows, startup, steps = run(args)
    report(rows, args.pages, args.concurrency, _note(startup))
    print("\none 304 check at a time, CPU ms per page, by step:")
    for name, ms in steps.items():
        print(f"  {name:40} {ms:6.3f}")
    print(f"  {'total':40} {sum(steps.values()):6.3f}")


if __name__ == "__main__":
    main()
