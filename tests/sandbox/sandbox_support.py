"""Paths and counters shared by the sandbox tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The shared reference data, read in place (never copied into the repo).
SHARED = REPO_ROOT.parent / "shared"
REST_TESTS = SHARED / "reference" / "es-watcher-rest-tests"

#: Outcome counts of the YAML REST tests, printed in the terminal summary.
REST_RESULTS: Counter[str] = Counter()
