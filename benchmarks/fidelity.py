"""Does each rule's watch fire? Real Lucene over events generated from each rule, per dialect.

Over the SigmaHQ corpus (`../shared/corpus/sigmahq/`) and the 2020 corpus
(`../shared/conformance/sigmac-2020/`), for each dialect asked for (the default `sigma`, and
`sigmac` for comparison), in one run:

- every rendered query parses in Lucene (`../shared/tools/lucene-oracle/`, as ES parses it);
- the share of rules whose watches match all their positive events (goal ≥ 99.5 %), all their
  case variants (≥ 97 %) and none of their negatives (≥ 90 %), events as
  `tests/fidelity/events.py` generates them from the rule's Sigma semantics;
- the share of SigmaHQ's regression rules (`../shared/corpus/sigmahq-regression/`) whose watch
  matches at least one of their real events;
- every rule that misses, with the reason (`--list`), and the seconds each step took.

    .venv/bin/python benchmarks/fidelity.py                 # sigma and sigmac, both corpora
    .venv/bin/python benchmarks/fidelity.py --dialect sigma --list --json out/fidelity.json

It needs a JDK and Debian's Lucene 8 (`apt-get install default-jdk-headless liblucene8-java`)
and `../shared`; without them it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from tests.fidelity.measure import (  # noqa: E402
    GOALS,
    Figures,
    ask,
    corpus_rules,
    figures_of,
    measure_regression,
    reason,
    with_dialect,
)
from tests.fidelity.oracle import LuceneOracle, OracleUnavailable  # noqa: E402

CORPORA = {
    "sigmahq": SHARED / "corpus" / "sigmahq",
    "sigmac-2020": SHARED / "conformance" / "sigmac-2020",
}


def _row(name: str, dialect: str, figures: Figures, seconds: float) -> dict[str, Any]:
    return {
        "corpus": name,
        "dialect": dialect,
        "rules": figures.rules,
        "left_out": len(figures.left_out),
        "parse_errors": len(figures.parse_errors()),
        **{kind: round(100 * figures.share(kind), 2) for kind in GOALS},
        "seconds": round(seconds, 1),
    }


def _print_misses(figures: Figures) -> None:
    for kind in GOALS:
        failing = figures.failing(kind)
        print(f"\n  {kind}: {len(failing)} rules")
        for rule, verdicts in sorted(failing.items()):
            print(f"    {rule}: {reason(verdicts[0], kind)}")
    for rule, why in sorted(figures.left_out.items()):
        print(f"    left out {rule}: {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", action="append", help="a dialect (repeatable)")
    parser.add_argument("--list", action="store_true", help="list every rule that misses")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    dialects = args.dialect or ["sigma", "sigmac"]
    if not SHARED.is_dir():
        print(f"{SHARED} is absent: nothing to measure")
        return 0
    try:
        oracle = LuceneOracle(SHARED / "tools" / "lucene-oracle")
    except OracleUnavailable as unavailable:
        print(f"real Lucene is not available here: {unavailable}")
        return 0
    rows = []
    with oracle:
        for name, corpus in CORPORA.items():
            rules = corpus_rules(corpus)
            for dialect in dialects:
                start = time.perf_counter()
                figures = figures_of(ask(oracle, rules, with_dialect(dialect)))
                rows.append(_row(name, dialect, figures, time.perf_counter() - start))
                print(json.dumps(rows[-1]))
                if args.list:
                    _print_misses(figures)
        for dialect in dialects:
            start = time.perf_counter()
            fired, total, missing = measure_regression(oracle, SHARED / "corpus", dialect)
            row = {
                "corpus": "sigmahq-regression",
                "dialect": dialect,
                "rules": total,
                "fired": fired,
                "fired_pct": round(100 * fired / total, 2) if total else 0.0,
                "seconds": round(time.perf_counter() - start, 1),
            }
            rows.append(row)
            print(json.dumps(row))
            if args.list:
                for rule, why in missing:
                    print(f"    {rule}: {why}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
