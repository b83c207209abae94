"""``--format json`` of the commands that report: one versioned document each on stdout.

Every document is an object with ``format_version`` (it grows keys compatibly; a change of
meaning bumps it), sorted keys, two-space indentation and non-ASCII kept.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from watchmgr.apply import Report
from watchmgr.errors import Diagnostic

if TYPE_CHECKING:
    from watchmgr.convert import Conversion

FORMAT_VERSION = 1


def write(document: Mapping[str, Any]) -> None:
    """`document` with its format version, as the one JSON object on stdout."""
    data = {"format_version": FORMAT_VERSION, **document}
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def diagnostics(items: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    """Diagnostics as ``[{path, line, message}]`` in their order (``line`` null for a whole
    file or the command)."""
    return [{"path": d.location.path, "line": d.location.line, "message": d.message} for d in items]


def validation(
    rules: int, watches: int, errors: Sequence[Diagnostic], warnings: Sequence[Diagnostic]
) -> dict[str, Any]:
    """``validate --format json``: the counts and every error and warning."""
    return {
        "rules": rules,
        "watches": watches,
        "errors": diagnostics(errors),
        "warnings": diagnostics(warnings),
    }


def mapping_check(
    environment: str, watches: int, warned: int, warnings: Sequence[Diagnostic]
) -> dict[str, Any]:
    """``check --format json``: how many watches were checked and warned about, and each
    warning."""
    return {
        "environment": environment,
        "watches": watches,
        "warned": warned,
        "warnings": diagnostics(warnings),
    }


def write_validation(result: Conversion, fmt: str, strict: bool) -> None:
    """What ``validate`` found: the counts as a note, and in `fmt` json its document."""
    from watchmgr.output import messages

    counts = (
        (result.rules, "rule"),
        (len(result.watches), "watch"),
        (len(result.errors), "error"),
        (len(result.warnings), "warning"),
    )
    messages.note(", ".join(messages.plural(n, noun) for n, noun in counts))
    if fmt == "json":
        found = validation(result.rules, len(result.watches), result.errors, result.warnings)
        write({**found, "strict": strict})


def environments(found: Iterable[Sequence[str]]) -> dict[str, Any]:
    """``environments --format json``: each environment's name, file and target."""
    return {
        "environments": [
            {"name": name, "path": path, "target": target} for name, path, target in found
        ]
    }


def report(done: Report) -> dict[str, Any]:
    """``apply --format json`` (and destroy's): every change's result, by id."""
    listed = [
        {"id": r.watch_id, "action": r.action.value, "outcome": r.outcome, "message": r.message}
        for r in done.results
    ]
    counts: dict[str, int] = {}
    for result in listed:
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    return {
        "environment": done.environment,
        "ok": done.ok,
        "results": listed,
        "summary": counts,
        "retries": done.retries,
    }
