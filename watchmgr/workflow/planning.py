"""Plans: an environment's desired watches against its cluster, limited by ``--target``,
for one environment or several.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from watchmgr.errors import Diagnostics, WatchmgrError
from watchmgr.workflow.conversion import desired
from watchmgr.workflow.inputs import DEFAULT_TUNING, Connect, Tuning, environment
from watchmgr.workflow.mappings import mapping_warnings

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.plan import Change, Plan
    from watchmgr.watch import Watch


def plan(
    env: Environment,
    cluster: Cluster,
    watches: Sequence[Watch],
    *,
    adopt: bool = False,
    with_uuid: bool = False,
) -> Plan:
    """The plan of `watches` (`desired`) against the cluster, with the environment's options."""
    from watchmgr.apply import plan_against

    return plan_against(
        cluster,
        watches,
        prune=env.prune,
        respect_remote_active=env.respect_remote_active,
        adopt=adopt,
        with_uuid=with_uuid,
    )


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How `plan` and `apply` make a fresh plan, as their options say."""

    adopt: bool = False  # watches at the rules' ids that nobody owns: adoptions, not conflicts
    with_uuid: bool = False  # record the cluster's uuid in the plan (``plan --out``)
    mapping_check: bool = True  # warn where a query does not fit its indices' field mappings
    targets: Targets | None = None  # ``--target``: only these rules and watches


def fresh_plan(
    env: Environment,
    cluster: Cluster,
    watches: Sequence[Watch],
    report: Diagnostics,
    options: PlanOptions,
) -> Plan:
    """The plan of `watches` against the cluster, limited to the targets, with a warning for
    each planned watch whose query does not fit the field mappings of its indices."""
    planned = plan(env, cluster, watches, adopt=options.adopt, with_uuid=options.with_uuid)
    if options.targets is not None:
        planned = options.targets.of(planned)
    if options.mapping_check:
        ids = {change.watch_id for change in planned.changes}
        mapping_warnings(cluster, [w for w in watches if w.id in ids], report, in_plan=True)
    return planned


class Targets:
    """``--target``: the rules and watches a plan is limited to (Terraform's -target), each a
    watch id, a Sigma rule id, or a rule path or glob (relative to the working directory or the
    root; globs as in an environment's ``rules.exclude``). A change is kept when its watch or
    its rule is targeted, so deletes reach only targeted watches and a rename keeps both halves.
    """

    def __init__(self, given: Sequence[str], root: Path) -> None:
        from watchmgr.rules import root_relative
        from watchmgr.selection import Glob

        self.given = tuple(dict.fromkeys(given))
        self._globs = {}
        for target in self.given:
            path = root_relative(target, root)
            if Path(target).is_dir() and not path.endswith("/"):
                path += "/"
            self._globs[target] = Glob(path)
        self.matched: set[str] = set()

    def of(self, planned: Plan) -> Plan:
        """`planned` with only the targeted changes (and notes which targets matched)."""
        kept = []
        for change in planned.changes:
            hits = {t for t in self.given if self._hits(t, change)}
            self.matched |= hits
            if hits:
                kept.append(change)
        return replace(planned, changes=tuple(kept))

    def check_matched(self) -> None:
        """Refuse a target that matched nothing: most likely a typo, and the plan would be
        empty."""
        missed = [t for t in self.given if t not in self.matched]
        if missed:
            raise WatchmgrError(
                f"--target {', '.join(repr(t) for t in missed)} matches no rule or watch (give "
                "a rule file, folder or glob, a watch id or a Sigma rule id)"
            )

    def _hits(self, target: str, change: Change) -> bool:
        from watchmgr.watch import Ownership

        if target == change.watch_id:
            return True
        for body in (change.after, change.before):
            owner = Ownership.of(body)
            if owner is not None and owner.rule_id == target:
                return True
        return change.source is not None and self._globs[target].matches(change.source)


@dataclass(frozen=True, slots=True)
class Plans:
    """The plans of several environments; `failed`: how many could not be planned."""

    plans: tuple[Plan, ...]
    failed: int

    @property
    def has_changes(self) -> bool:
        return any(p.has_changes for p in self.plans)


def plan_environments(
    root: Path,
    names: Sequence[str],
    connect: Connect,
    report: Diagnostics,
    options: PlanOptions = PlanOptions(),
    tuning: Tuning = DEFAULT_TUNING,
) -> Plans:
    """Plan each environment in `names` (default: every one); one that fails does not stop
    the others: its error is reported and counted. A plan that apply would refuse for the
    deletes it makes is kept, with a warning. Targets that match nothing in any environment
    are refused when every environment was planned."""
    from watchmgr.config import list_environments
    from watchmgr.plan import PlanError, check_mass_delete

    if not names:
        names = [info.name for info in list_environments(root)]
        if not names:
            raise WatchmgrError(f"no environments in {root / 'environments'}")
    plans: list[Plan] = []
    failed = 0
    for name in dict.fromkeys(names):
        try:
            env = environment(root, name, report)
            with connect(env) as cluster:
                wanted = desired(env, report, tuning)
                plans.append(fresh_plan(env, cluster, wanted, report, options))
        except WatchmgrError as err:
            report.failure(err)
            failed += 1
            continue
        try:
            check_mass_delete(plans[-1], allow=False)
        except PlanError as err:
            report.warning(str(err))
    if options.targets is not None and not failed:
        options.targets.check_matched()
    return Plans(tuple(plans), failed)


def refusal(planned: Plan) -> str | None:
    """Why apply would refuse part of `planned` as it stands (watches in conflict), or None.

    A plan that deletes too many watches is a warning (`plan_environments`), not a refusal:
    apply takes it with ``--allow-mass-delete``, which says that the deletes are meant.
    """
    conflicts = planned.summary["conflict"]
    if not conflicts:
        return None
    return (
        f"apply would refuse {conflicts} watch{'es' if conflicts > 1 else ''} in conflict for "
        f"environment {planned.environment!r}, write the rest and fail (see why above; --adopt "
        "takes over watches no environment owns)"
    )
