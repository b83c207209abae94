"""Each watch's query against the field mappings of the indices it searches: `watchmgr check`,
and the same warnings in `plan` and `apply`.

The mappings are read once per set of indices (`Cluster.field_mappings`); `fieldcheck` says
what does not fit. `check` reports indices that match nothing as a warning and fails on a
cluster error; a plan goes on then, with what was checked before the error and one note saying
why and which indices were not checked (a least-privilege plan key may lack
``view_index_metadata`` on some of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from watchmgr.errors import ClusterError, Diagnostics
from watchmgr.workflow.conversion import convert_environment
from watchmgr.workflow.inputs import DEFAULT_TUNING, Choices, Connect, Tuning, environment

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.fieldcheck import CheckedWatch
    from watchmgr.watch import Watch


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
    env = environment(root, env_name, report)
    conversion = convert_environment(env, (), Choices(), report, tuning=tuning)
    with connect(env) as cluster:
        warned = mapping_warnings(cluster, conversion.watches, report)
    return Checked(len(conversion.watches), warned)


def mapping_warnings(
    cluster: Cluster, watches: Sequence[Watch], report: Diagnostics, *, in_plan: bool = False
) -> int:
    """Put a warning in `report` for each watch whose query does not fit the mappings of its
    indices, and one per keyword field that wildcards search past its ``ignore_above``; how
    many watches got one. Indices that match nothing are a warning, or `in_plan` a note; a
    cluster that refuses to show its mappings is an error, or `in_plan` one note: the check
    stops there, keeps what it found for the sets of indices read before (their warnings and
    the ``ignore_above`` summary), and names the indices it did not check.
    """
    from watchmgr.fieldcheck import check_watch, fields_to_read, ignore_above_summary, no_index

    warned = 0
    checked = []
    groups = sorted(_by_indices(watches).items())
    for done, (indices, group) in enumerate(groups):
        try:
            mappings = cluster.field_mappings(indices, fields_to_read(group))
        except ClusterError as err:
            if not in_plan:
                raise
            report.note(_stopped(err, groups[done:], whole=not done))
            break
        checked += [(item, mappings) for item in group]
        if not mappings and in_plan:
            report.note(
                f"mapping check skipped: no index on the cluster matches {', '.join(indices)} "
                f"(searched by {_watches(len(group))})"
            )
        elif not mappings:
            report.extend([no_index(group)])
            warned += len(group)
        for item in group if mappings else ():
            warnings = check_watch(item, mappings)
            report.extend(warnings)
            warned += bool(warnings)
    report.extend(ignore_above_summary(checked))
    return warned


def _stopped(
    err: ClusterError, left: Sequence[tuple[tuple[str, ...], list[CheckedWatch]]], *, whole: bool
) -> str:
    """The note for a cluster error part-way: the check stops there, and the indices of the
    sets not read yet (the failing one first) go unchecked."""
    if whole:
        return f"mapping check skipped: {err}"
    names = sorted({name for indices, _ in left for name in indices})
    searched_by = sum(len(group) for _, group in left)
    return (
        f"mapping check stopped: {err}; not checked: {', '.join(names)} "
        f"(searched by {_watches(searched_by)})"
    )


def _watches(count: int) -> str:
    return f"{count} watch{'es' if count > 1 else ''}"


def _by_indices(watches: Sequence[Watch]) -> dict[tuple[str, ...], list[CheckedWatch]]:
    """The watches to check, grouped by the indices they search (all of them: ``*``)."""
    from watchmgr.fieldcheck import CheckedWatch
    from watchmgr.ruletest import query_fields, watch_query

    groups: dict[tuple[str, ...], list[CheckedWatch]] = {}
    for watch in watches:
        request = watch.body.get("input", {}).get("search", {}).get("request", {})
        indices = tuple(request.get("indices") or ["*"])
        uses = query_fields(watch_query(watch.body))
        groups.setdefault(indices, []).append(CheckedWatch(watch.id, watch.location, indices, uses))
    return groups
