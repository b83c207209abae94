"""`watchmgr check`: each watch's query against the field mappings of the indices it searches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from watchmgr.errors import Diagnostics
from watchmgr.workflow.conversion import convert_environment
from watchmgr.workflow.inputs import DEFAULT_TUNING, Choices, Connect, Tuning, environment


@dataclass(frozen=True, slots=True)
class Checked:
    """What `check_mappings` looked at: watches, and how many got a warning."""

    watches: int
    warned: int


def check_mappings(
    root: Path,
    env_name: str,
    connect: Connect,
    report: Diagnostics,
    tuning: Tuning = DEFAULT_TUNING,
) -> Checked:
    """Warn per watch of the environment where its query does not fit the field mappings of
    the indices it searches (`fieldcheck`); the mappings are read once per set of indices."""
    from watchmgr.fieldcheck import (
        CheckedWatch,
        check_watch,
        fields_to_read,
        ignore_above_summary,
        no_index,
    )
    from watchmgr.ruletest import query_fields, watch_query

    env = environment(root, env_name, report)
    conversion = convert_environment(env, (), Choices(), report, tuning=tuning)
    groups: dict[tuple[str, ...], list[CheckedWatch]] = {}
    for watch in conversion.watches:
        request = watch.body.get("input", {}).get("search", {}).get("request", {})
        indices = tuple(request.get("indices") or ["*"])
        uses = query_fields(watch_query(watch.body))
        groups.setdefault(indices, []).append(CheckedWatch(watch.id, watch.location, indices, uses))
    warned = 0
    checked = []
    with connect(env) as cluster:
        for indices, watches in sorted(groups.items()):
            mappings = cluster.field_mappings(indices, fields_to_read(watches))
            checked += [(item, mappings) for item in watches]
            if not mappings:
                report.extend([no_index(watches)])
                warned += len(watches)
                continue
            for item in watches:
                warnings = check_watch(item, mappings)
                report.extend(warnings)
                warned += bool(warnings)
    report.extend(ignore_above_summary(checked))
    return Checked(len(conversion.watches), warned)
