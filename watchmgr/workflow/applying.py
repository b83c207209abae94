"""Applying: the plan apply executes (saved or fresh), its execution, and what did not apply."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from watchmgr.errors import Diagnostics
from watchmgr.workflow.planning import PlanOptions, fresh_plan
from watchmgr.workflow.saved import stale_plan

if TYPE_CHECKING:
    from watchmgr.apply import Progress, Report
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.plan import Plan
    from watchmgr.watch import Watch


def plan_to_apply(
    env: Environment,
    cluster: Cluster,
    source: Plan | Sequence[Watch],
    where: Path | None,
    report: Diagnostics,
    options: PlanOptions,
    *,
    allow_mass_delete: bool,
) -> Plan:
    """The plan apply executes: `source` if it is a saved plan (from `where`, checked against
    the cluster and refused if its watches moved since), else a fresh one of the desired
    watches (`fresh_plan`). Refused when it deletes too much, or a target matched nothing."""
    from watchmgr.apply import check_cluster, check_saved_plan
    from watchmgr.plan import Plan, check_mass_delete, with_adoptions

    if not isinstance(source, Plan):
        chosen = fresh_plan(env, cluster, source, report, options)
        check_mass_delete(chosen, allow_mass_delete)
        if options.targets is not None:
            options.targets.check_matched()
        return chosen
    check_cluster(cluster, source, str(where))
    check_saved_plan(source, str(where), options.adopt)
    chosen = with_adoptions(source) if options.adopt else source
    check_mass_delete(chosen, allow_mass_delete)
    if where is not None:
        stale_plan(cluster, chosen, where)
    return chosen


def apply(
    chosen: Plan,
    cluster: Cluster,
    *,
    parallelism: int,
    saved: bool,
    progress: Progress | None = None,
) -> Report:
    """Execute `chosen`; a saved plan is checked for moved watches before the lock is taken."""
    from watchmgr.apply import apply_plan

    return apply_plan(
        cluster, chosen, parallelism=parallelism, check_first=saved, progress=progress
    )


def not_applied(report: Report, planfile: Path | None) -> str:
    """What went wrong in an apply that did not apply everything, in one line."""
    from watchmgr.apply import Outcome

    if report.interrupted:
        done = report.count(Outcome.DONE)
        return (
            f"interrupted: {done} of {len(report.results)} changes applied, the others not "
            "(the table above says which); run plan to see what is left"
        )
    if report.stale:
        first = next(r for r in report.results if r.watch_id == report.stale[0])
        more = f" and {len(report.stale) - 1} more" if len(report.stale) > 1 else ""
        what = f"{first.watch_id!r} {first.message}{more}"
        if planfile is not None:
            return (
                f"{planfile}: the plan is stale, nothing was written: {what}; make the plan again"
            )
        return f"nothing was written: {what}; run apply again"
    counts = {o: report.count(o) for o in (Outcome.CONFLICT, Outcome.FAILED, Outcome.SKIPPED)}
    parts = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    missed = len(report.results) - report.count(Outcome.DONE)
    return f"{missed} of {len(report.results)} changes not applied ({parts}); see the table above"
