"""Time `watchmgr test` over SigmaHQ's regression events, and count the rules that fire.

The rules are those of ../shared/corpus/sigmahq/ whose `regression_tests_path` is in
../shared/corpus/sigmahq-regression/ (101 at the corpus's commit); one `watchmgr test` process
runs them all with default settings (the seed's dialect, the embedded sandbox), as a user would:

  watchmgr test RULE... --tests-root ../shared/corpus/sigmahq-regression --format json

Rows, each the median of --runs wall-clock runs (time.perf_counter around subprocess.run):

  cold   --no-cache: every rule converted
  warm   the conversion cache filled by the untimed first run

The goal is under 10 s (issue 11); the ratio to it is printed beside each row. The fire rate is
from the untimed run's json: rules with every test passing (SigmaHQ's match_count met), and rules
that fired at all. The cache lives in a temporary --root, never in ../shared.

Usage: .venv/bin/python benchmarks/ruletest.py [--runs 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "corpus"
RULES = SHARED / "sigmahq"
REGRESSION = SHARED / "sigmahq-regression"
WATCHMGR = REPO / ".venv" / "bin" / "watchmgr"
GOAL_S = 10.0
_KEY = re.compile(r"^regression_tests_path:\s*(\S+)\s*$", re.MULTILINE)


def tested_rules(rules: Path, regression: Path) -> list[Path]:
    """The rule files whose regression test is in `regression`, sorted."""
    found = []
    for path in sorted(rules.rglob("*.yml")):
        match = _KEY.search(path.read_text(encoding="utf-8", errors="replace"))
        if match and (regression / match.group(1)).is_file():
            found.append(path)
    return found


def run(
    files: list[Path], root: Path, cache: bool
) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = [str(WATCHMGR), "test", *map(str, files), "--tests-root", str(REGRESSION)]
    command += ["--root", str(root), "--format", "json", "--cache" if cache else "--no-cache"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def rates(report: dict[str, Any]) -> dict[str, Any]:
    rules = report["rules"]
    fired = [r for r in rules if all(t["fired"] for t in r["tests"])]
    return {
        "tested": len(rules),
        "passed": report["summary"]["passed"],
        "fired": len(fired),
        "failed": sorted(r["source"] for r in rules if not r["passed"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write every figure here")
    options = parser.parse_args()
    if not RULES.is_dir() or not REGRESSION.is_dir():
        print(f"{SHARED} has no sigmahq/ and sigmahq-regression/: nothing to measure")
        return 0
    files = tested_rules(RULES, REGRESSION)
    with tempfile.TemporaryDirectory(prefix="watchmgr-bench-") as tmp:
        root = Path(tmp)
        _, first = run(files, root, cache=True)
        if first.returncode not in (0, 1) or not first.stdout.strip():
            print(f"watchmgr test failed (exit {first.returncode}):\n{first.stderr}")
            return 1
        figures = rates(json.loads(first.stdout))
        times = {
            "cold": [run(files, root, cache=False)[0] for _ in range(options.runs)],
            "warm": [run(files, root, cache=True)[0] for _ in range(options.runs)],
        }
    tested = figures["tested"]
    print(f"watchmgr test over {len(files)} rules with SigmaHQ regression tests ({tested} tested)")
    print(f"{'row':6} {'median s':>9} {'min':>6} {'max':>6} {'vs goal':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:6} {median:9.2f} {min(values):6.2f} {max(values):6.2f} {median / GOAL_S:7.2f}x"
        )
    share = 100 * figures["passed"] / max(tested, 1)
    print(f"rules whose tests pass: {figures['passed']} of {tested} ({share:.1f} %)")
    print(f"rules that fired on every test: {figures['fired']} of {tested}")
    if options.json:
        options.json.write_text(json.dumps({"rules": len(files), **figures, "seconds": times}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
