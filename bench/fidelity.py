"""The fidelity report: every field of every fixture page against the API's answers.

    python bench/fidelity.py [--markup]

The same comparison tests/test_fidelity.py asserts (100% is the goal), printed per
corpus and per field: lab-2024, the series-2024 rounds whose backend answered and
ui-2026. ``--markup`` also reads every page with its embedded data taken out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parsers.fidelity import Tally, compare_page
from parsers.kausal import parse_page
from parsers.records import Outcome
from tests import fidelity_corpus
from tests.fidelity_corpus import strip_embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markup", action="store_true")
    args = parser.parse_args()
    layers = {"embedded": {}, "markup": {}} if args.markup else {"embedded": {}}
    tallies: dict[str, dict[str, Tally]] = layers
    started, pages = time.process_time(), 0
    for page in fidelity_corpus.pages():
        corpus = page.corpus.split("/")[0]
        body = page.body()
        parsed = parse_page(body, page.url, date_header=page.date_header)
        reads = {"embedded": (parsed, None)}
        if args.markup:
            gone = page.corpus == "series-2024/r06" and (
                page.name.startswith("organization") or page.name.endswith("dashboard")
            )
            reads["markup"] = (
                parse_page(
                    strip_embedded(body),
                    page.url,
                    observed_at=page.observed_at or parsed.observed_at,
                    date_header=page.date_header,
                ),
                Outcome.LAYOUT_UNRECOGNISED if gone else None,
            )
        for layer, (result, outcome) in reads.items():
            compare_page(
                result,
                fidelity_corpus.truth(page.truth),
                tallies[layer].setdefault(corpus, Tally()),
                where=page.where,
                expect_gone=page.expect_gone,
                expect_outcome=outcome,
                organization_id=page.organization_id,
                action_identifier=page.action_identifier,
            )
        pages += 1
    for layer, by_corpus in tallies.items():
        for corpus, tally in by_corpus.items():
            print(tally.table(f"{layer} layer vs the API, {corpus}"))
            for line in tally.disagreements():
                print("  !", line)
            print()
    print(f"{pages} pages in {time.process_time() - started:.1f} s of CPU")


if __name__ == "__main__":
    main()
