"""Import throughput: saved pages per second through `planwatch import`.

    python bench/import_throughput.py [--langs fi,en]

Every round of series-2024 (43 days of one site: edits, an outage, a layout
change; about 500 pages in Finnish and English) is written to a WARC file and to a
manifest with the same pages, then imported into an empty SQLite database by the
``import`` command, in this process (the interpreter's start-up is not counted).
Also timed: reading the WARC alone, and parsing the pages alone, to show where the
time goes. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from typer.testing import CliRunner

from monitor.cli import app
from monitor.pipeline import observe_saved
from storage.warc import read_warc
from tests.history_series import SavedPage, saved_pages, write_warc

GAP = timedelta(minutes=30)  # the rounds are days apart; a round takes minutes
ROUNDS = ("r00", "r01", "r02", "r03", "r04", "r05", "r05b", "r06", "r07")


def manifest(path: Path, pages: list[SavedPage]) -> None:
    directory = path.parent / "pages"
    directory.mkdir()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "observed_at", "path"])
        for round_pages in _by_round(pages):
            start = min(p.observed_at for p in round_pages).isoformat()
            for page in round_pages:
                name = f"{len(list(directory.iterdir()))}.html"
                (directory / name).write_bytes(page.body)
                writer.writerow([page.url, start, f"pages/{name}"])


def _by_round(pages: list[SavedPage]) -> list[list[SavedPage]]:
    rounds: list[list[SavedPage]] = []
    for page in pages:
        if rounds and page.observed_at - rounds[-1][-1].observed_at < GAP:
            rounds[-1].append(page)
        else:
            rounds.append([page])
    return rounds


def timed_import(source: Path, db: Path) -> tuple[float, float]:
    """Wall and CPU seconds (CPU time resists a busy machine)."""
    began, began_cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(app, ["import", str(source), "--db", str(db)])
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    if result.exit_code != 0:
        raise SystemExit(f"import failed: {result.output} {result.exception!r}")
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--langs", default="fi,en")
    args = parser.parse_args()
    langs = tuple(args.langs.split(","))
    pages = sorted(
        (p for name in ROUNDS for p in saved_pages(name, langs)),
        key=lambda p: p.observed_at,
    )
    size = sum(len(p.body) for p in pages)
    print(f"{len(pages)} pages ({size / 1e6:.0f} MB of HTML) in {len(ROUNDS)} rounds")

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        warc = folder / "series.warc.gz"
        write_warc(warc, pages)
        manifest_path = folder / "manifest.csv"
        manifest(manifest_path, pages)

        began = time.perf_counter()
        read, _ = read_warc(warc)
        reading = time.perf_counter() - began
        began, began_cpu = time.perf_counter(), time.process_time()
        for page in pages:
            observe_saved(page.url, page.body, page.observed_at, page.status)
        parsing, parsing_cpu = (
            time.perf_counter() - began,
            time.process_time() - began_cpu,
        )

        from_warc, warc_cpu = timed_import(warc, folder / "warc.sqlite")
        from_manifest, manifest_cpu = timed_import(
            manifest_path, folder / "manifest.sqlite"
        )

    count = len(pages)
    print("pages per second of wall time, and per second of CPU time:")
    print(f"  reading the WARC alone: {len(read) / reading:8.0f}")
    print(
        f"  parsing alone:          {count / parsing:8.1f}  {count / parsing_cpu:8.1f}"
    )
    print(
        f"  import from WARC:       {count / from_warc:8.1f}  {count / warc_cpu:8.1f}"
        f"  (parsing is {parsing_cpu / warc_cpu:.0%} of the CPU time)"
    )
    print(
        f"  import from manifest:   {count / from_manifest:8.1f}  "
        f"{count / manifest_cpu:8.1f}"
    )


if __name__ == "__main__":
    main()
