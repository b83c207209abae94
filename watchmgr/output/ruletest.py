"""The results of `watchmgr test`, for people (text) and programs (json, versioned)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from watchmgr.output import formats
from watchmgr.ruletest import CaseResult, RuleResult, TestRun

FORMATS = formats.TEXT_OR_JSON
#: The version of the json output; a change that removes or renames a key raises it.
JSON_VERSION = 1


def write_run(run: TestRun, fmt: str, out: TextIO) -> None:
    """Write `run` to `out` in `fmt` (rules sorted by file, tests in file order)."""
    if fmt == "json":
        json.dump(run_record(run), out, ensure_ascii=False, indent=2, sort_keys=True)
        out.write("\n")
        return
    for result in run.results:
        _write_rule(result, out)
    out.write(summary(run) + "\n")


def summary(run: TestRun) -> str:
    total = len(run.results)
    passed = total - len(run.failed)
    share = f" ({100 * passed / total:.1f} %)" if total else ""
    where = f"; events searched in {run.where}" if run.where else ""
    untested = f"; {run.untested} rule file(s) without tests" if run.untested else ""
    return f"{passed} of {total} tested rule files pass{share}{untested}{where}"


def _write_rule(result: RuleResult, out: TextIO) -> None:
    out.write(f"{'PASS' if result.passed else 'FAIL'} {result.source}\n")
    for case in result.cases:
        mark = "ok" if case.passed else "FAILED"
        out.write(
            f"  {mark}: {case.name} ({case.location}): {_fired(case)}, expected {case.expect}\n"
        )
    for watch_id, query in zip(result.watch_ids, result.queries, strict=True):
        out.write(f"  query of {watch_id}: {query}\n")
    if result.fields:
        held = ", ".join(f"{name} ({n}/{result.events})" for name, n in result.fields)
        out.write(f"  fields (events holding each): {held}\n")


def _fired(case: CaseResult) -> str:
    verb = "fired" if case.matched else "did not fire"
    return f"{verb}, {case.matched} of {case.events} events matched"


def run_record(run: TestRun) -> dict[str, Any]:
    """The json form of a run."""
    return {
        "format_version": JSON_VERSION,
        "where": run.where,
        "summary": {
            "rules": len(run.results),
            "passed": len(run.results) - len(run.failed),
            "failed": len(run.failed),
            "untested": run.untested,
        },
        "rules": [_rule_record(r) for r in run.results],
    }


def _rule_record(result: RuleResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "passed": result.passed,
        "watches": [
            {"id": i, "query": q} for i, q in zip(result.watch_ids, result.queries, strict=True)
        ],
        "events": result.events,
        "fields": dict(result.fields),
        "tests": [
            {
                "name": c.name,
                "location": str(c.location),
                "expected": {"fires": c.expect.fires, "match_count": c.expect.count},
                "events": c.events,
                "matched": c.matched,
                "fired": c.matched > 0,
                "passed": c.passed,
            }
            for c in result.cases
        ],
    }
