"""Read an environment's state into a `Plan`, and execute a `Plan` against its cluster.

Executing: nothing is written for a plan without writes. Otherwise the environment's lock is
taken, the watches the plan touches are read again in one batch and, if any changed since the
plan was made, nothing is written (the plan is stale: each changed watch is reported as a
conflict). "Changed" means its canonical body or active state, not its seq_no: every run of a
watch moves that. Then creates, updates and adoptions run with bounded concurrency, deletes
last. Updates and adoptions are conditional on the seq_no/primary_term just read; a 409 re-reads
the watch: if it already is as desired it counts as done, if it only ran meanwhile the write is
tried again, otherwise it is a conflict. Deletes cannot be conditional (the Watcher API's delete
takes no if_seq_no); the check under the lock just before them is what guards them. A failing
watch does not stop the others; every change gets a `Result`.
"""

from __future__ import annotations

import dataclasses
import enum
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchmgr import normalize
from watchmgr.cluster import Cluster, holder_name
from watchmgr.errors import ClusterError, ConflictError
from watchmgr.plan import Change, ChangeAction, LiveWatch, Plan, as_planned, build_plan
from watchmgr.watch import Watch

DEFAULT_PARALLELISM = 8
#: Conditional writes tried again when the watch only ran (its status moved) in between.
RERUNS = 5


class Outcome(enum.StrEnum):
    """What became of one change when the plan was applied."""

    DONE = "done"  # the cluster now holds the change (or already did)
    CONFLICT = "conflict"  # not written: the watch is not as planned (changed, or not ours)
    FAILED = "failed"  # the cluster refused or failed the write
    SKIPPED = "skipped"  # not tried: the plan was stale or the run was interrupted


@dataclass(frozen=True, slots=True)
class Result:
    """What applying one change did. `message` is for people."""

    watch_id: str
    action: ChangeAction
    outcome: Outcome
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


@dataclass(frozen=True, slots=True)
class Report:
    """Every change's result, sorted by watch id."""

    environment: str
    results: tuple[Result, ...]
    retries: int = 0
    #: the watches that changed since the plan was made, when that stopped every write.
    stale: tuple[str, ...] = ()
    #: Ctrl-C stopped the run: the writes in flight finished, the rest are `skipped`.
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


Progress = Callable[[Result], None]


# ------------------------------------------------------------------------------ planning


def plan_against(
    cluster: Cluster,
    desired: Sequence[Watch],
    *,
    prune: bool = True,
    respect_remote_active: bool = False,
    adopt: bool = False,
    with_uuid: bool = False,
) -> Plan:
    """Read what the cluster's environment owns (and any watch at a desired id it does not)
    and plan `desired` against it.

    Requests: ⌈owned / page size⌉ listing pages, plus batches for desired ids not owned.
    """
    cluster.check_identity()
    owned = cluster.list_owned()
    have = {w.id for w in owned}
    missing = [w.id for w in desired if w.id not in have]
    others = cluster.find(missing) if missing else []
    return build_plan(
        cluster.environment,
        desired,
        owned,
        others,
        prune=prune,
        respect_remote_active=respect_remote_active,
        adopt=adopt,
        cluster_uuid=cluster.cluster_uuid() if with_uuid else None,
    )


def check_cluster(cluster: Cluster, plan: Plan, where: str) -> None:
    """Refuse a saved plan made against another cluster."""
    if plan.cluster_uuid is None:
        return
    uuid = cluster.cluster_uuid()
    if uuid is not None and uuid != plan.cluster_uuid:
        raise ClusterError(
            f"{where}: the plan was made against cluster {plan.cluster_uuid}, but "
            f"{cluster.describe} is cluster {uuid}; make the plan again against this cluster"
        )


# ------------------------------------------------------------------------------ applying


def apply_plan(
    cluster: Cluster,
    plan: Plan,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    progress: Progress | None = None,
    check_first: bool = False,
) -> Report:
    """Execute `plan`'s writes (see the module docstring); conflicts in the plan are refused.

    `check_first` (for saved plans) also looks for moved watches before taking the lock, so a
    stale plan costs no write at all.
    """
    results: dict[str, Result] = {}

    def record(result: Result) -> None:
        results[result.watch_id] = result
        if progress is not None:
            progress(result)

    pending = plan.pending()
    for change in pending:
        if change.action is ChangeAction.CONFLICT:
            record(Result(change.watch_id, change.action, Outcome.CONFLICT, change.reason))
    writes = [c for c in pending if c.writes]
    if not writes:
        return _report(plan, results, cluster)
    if check_first:
        moved, _ = _moved_since_plan(cluster, writes)
        if moved:
            _mark_stale(writes, moved, record)
            return _report(plan, results, cluster, tuple(moved))
    holder = holder_name()
    cluster.acquire(holder)
    try:
        moved, now = _moved_since_plan(cluster, writes)
        if moved:
            _mark_stale(writes, moved, record)
            return _report(plan, results, cluster, tuple(moved))
        writes = [_at_current_seq_no(c, now.get(c.watch_id)) for c in writes]
        replace_after = {c.watch_id for c in writes if _needs_replace(c)}
        first = [c for c in writes if c.action is not ChangeAction.DELETE]
        last = [c for c in writes if c.action is ChangeAction.DELETE]
        try:
            for batch in (first, last):
                _in_parallel(
                    batch,
                    lambda c: _execute(cluster, c, c.watch_id in replace_after),
                    max(1, parallelism),
                    record,
                )
        except KeyboardInterrupt:
            for change in writes:
                if change.watch_id not in results:
                    why = "not applied: interrupted"
                    record(Result(change.watch_id, change.action, Outcome.SKIPPED, why))
            return _report(plan, results, cluster, interrupted=True)
    finally:
        cluster.release(holder)
    return _report(plan, results, cluster)


def _in_parallel(
    changes: Sequence[Change],
    run: Callable[[Change], Result],
    workers: int,
    record: Callable[[Result], None],
) -> None:
    """`run` every change, at most `workers` at once; each worker records its own results.

    The workers pull from one shared iterator: no future per change and no hand-off of every
    result to the calling thread, which at thousands of short writes cost about 4 % of apply's
    wall time (benchmarks/README.md). An exception in a worker stops every worker from taking
    more and is raised here once the writes in flight have finished. So is Ctrl-C: while the
    workers run, SIGINT only asks them to stop (a KeyboardInterrupt raised inside a join can
    mark a running thread finished, and the lock would then be released under its write).
    """
    todo = iter(changes)
    lock = threading.Lock()
    stop = threading.Event()
    interrupted = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            while not stop.is_set():
                with lock:
                    change = next(todo, None)
                if change is None:
                    return
                result = run(change)
                with lock:
                    record(result)
        except BaseException as err:  # raised in the caller's thread below
            failure.append(err)
            stop.set()

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.set()
        stop.set()

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main else None
    try:
        threads = [
            threading.Thread(target=work, name=f"watchmgr-apply-{n}", daemon=True)
            for n in range(min(workers, len(changes)))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # a timed wait, so the handler runs on every platform
                thread.join(0.25)
    finally:
        if main:
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )
    if failure:
        raise failure[0]
    if interrupted.is_set():
        raise KeyboardInterrupt


def _mark_stale(
    writes: Sequence[Change], moved: Mapping[str, str], record: Callable[[Result], None]
) -> None:
    """Report a stale plan: nothing is written, so nothing is torn."""
    for change in writes:
        if change.watch_id in moved:
            record(Result(change.watch_id, change.action, Outcome.CONFLICT, moved[change.watch_id]))
        else:
            why = "not applied: other watches of the plan changed since it was made"
            record(Result(change.watch_id, change.action, Outcome.SKIPPED, why))


def _report(
    plan: Plan,
    results: Mapping[str, Result],
    cluster: Cluster,
    stale: tuple[str, ...] = (),
    *,
    interrupted: bool = False,
) -> Report:
    return Report(
        plan.environment,
        tuple(sorted(results.values(), key=lambda r: r.watch_id)),
        cluster.retries,
        tuple(sorted(stale)),
        interrupted,
    )


def _moved_since_plan(
    cluster: Cluster, writes: Iterable[Change]
) -> tuple[dict[str, str], dict[str, LiveWatch]]:
    """The watches of `writes` that changed since the plan was read (with what changed), and
    every one of them as it is now."""
    changes = list(writes)
    now = {w.id: w for w in cluster.find(c.watch_id for c in changes)}
    moved: dict[str, str] = {}
    for change in changes:
        live = now.get(change.watch_id)
        if change.action is ChangeAction.CREATE:
            if live is not None:
                moved[change.watch_id] = "created on the cluster since the plan was made"
        elif live is None:
            moved[change.watch_id] = "deleted on the cluster since the plan was made"
        elif live.primary_term == change.primary_term and live.seq_no == change.seq_no:
            continue
        elif not as_planned(change, live):
            what = "edited"
            if live.active != change.before_active:
                what = "activated" if live.active else "deactivated"
            moved[change.watch_id] = f"{what} on the cluster since the plan was made"
    return moved, now


def moved_since_plan(cluster: Cluster, plan: Plan) -> dict[str, str]:
    """The watches `plan` would write that changed on the cluster since it was made, each with
    what changed (empty: the plan still holds). One batched read; nothing is written."""
    writes = [c for c in plan.pending() if c.writes]
    return _moved_since_plan(cluster, writes)[0] if writes else {}


def _at_current_seq_no(change: Change, live: LiveWatch | None) -> Change:
    """`change`, conditional on the watch as just read (it may have run since the plan)."""
    if live is None or change.seq_no is None:
        return change
    return dataclasses.replace(change, seq_no=live.seq_no, primary_term=live.primary_term)


def _needs_replace(change: Change) -> bool:
    """Whether a conditional PUT (a deep merge on the server) would keep fields `after` drops."""
    if change.action not in (ChangeAction.UPDATE, ChangeAction.ADOPT) or change.after is None:
        return False
    return _drops_keys(change.before, normalize.compare(change.after, None).desired)


def _drops_keys(before: Any, after: Any) -> bool:
    if isinstance(before, dict) and isinstance(after, dict):
        return any(k not in after or _drops_keys(v, after[k]) for k, v in before.items())
    return False


def _execute(cluster: Cluster, change: Change, replace: bool) -> Result:
    watch_id, action = change.watch_id, change.action
    try:
        if action is ChangeAction.DELETE:
            found = cluster.delete(watch_id)
            return Result(watch_id, action, Outcome.DONE, "deleted" if found else "already gone")
        assert change.after is not None
        body = dict(change.after)
        active = bool(change.after_active if change.after_active is not None else True)
        if action is ChangeAction.CREATE:
            cluster.put(watch_id, body, active)
            return Result(watch_id, action, Outcome.DONE, "created")
        if change.state_only:
            cluster.set_active(watch_id, active)
            return Result(watch_id, action, Outcome.DONE, "activated" if active else "deactivated")
        for _ in range(RERUNS):
            try:
                cluster.put(watch_id, body, active, change.seq_no, change.primary_term)
                break
            except ConflictError:
                live = cluster.get(watch_id)
                if live is None or not as_planned(change, live):
                    return _after_conflict(change, live, body, active)
                change = _at_current_seq_no(change, live)  # it only ran: write again
        else:
            return Result(
                watch_id, action, Outcome.CONFLICT, "the watch kept changing while applying"
            )
        if replace:
            # The conditional PUT proved the watch unchanged; this one drops removed fields.
            cluster.put(watch_id, body, active)
        return Result(
            watch_id, action, Outcome.DONE, "adopted" if action is ChangeAction.ADOPT else "updated"
        )
    except ClusterError as err:
        return Result(watch_id, action, Outcome.FAILED, err.message)


def _after_conflict(
    change: Change, live: LiveWatch | None, body: dict[str, Any], active: bool
) -> Result:
    if live is not None and live.active == active and normalize.same(body, live.body):
        return Result(change.watch_id, change.action, Outcome.DONE, "already as desired")
    return Result(
        change.watch_id,
        change.action,
        Outcome.CONFLICT,
        "changed on the cluster while applying; run plan again",
    )
