"""Read an environment's state into a `Plan`, and execute a `Plan` against its cluster.

Executing: nothing is written for a plan without writes. Otherwise the environment's lock is
taken, the watches the plan touches are read again in one batch and, if any changed since the
plan was made, nothing is written (the plan is stale: each changed watch is reported as a
conflict). "Changed" means its canonical body or active state, not its seq_no: every run of a
watch moves that. Whatever the plan says, every watch it updates or deletes must be this
environment's on the cluster, as just read, or the whole plan is refused. Then creates,
updates and adoptions run with bounded concurrency, deletes last. Updates and adoptions are
conditional on the seq_no/primary_term just read; a 409 re-reads the watch: if it already is
as desired it counts as done, if it only ran meanwhile the write is tried again, otherwise it
is a conflict. Deletes cannot be conditional (the Watcher API's delete takes no if_seq_no);
the check under the lock just before them is what guards them. A failing watch does not stop
the others; every change gets a `Result`. SIGINT and SIGTERM stop apply after the writes in
flight; the lock is released and the changes not made are `skipped`.
"""

from __future__ import annotations

import dataclasses
import enum
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from watchmgr import normalize
from watchmgr.cluster import Cluster, holder_name
from watchmgr.errors import ClusterError, ConflictError
from watchmgr.plan import Change, ChangeAction, LiveWatch, Plan, PlanError, as_planned, build_plan
from watchmgr.rules import RESERVED_ID_PREFIX
from watchmgr.watch import Ownership, Watch

DEFAULT_PARALLELISM = 8
#: Why a change was not applied when SIGINT or SIGTERM stopped apply.
INTERRUPTED = "not applied: interrupted"
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
    #: SIGINT (Ctrl-C) or SIGTERM stopped the run: the writes in flight finished, the rest are
    #: `skipped`.
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


def check_saved_plan(plan: Plan, where: str, adopt: bool) -> None:
    """Refuse a saved plan that writes a watch at watchmgr's own ids (the lock's), or that
    adopts watches unless apply was given ``--adopt``."""
    reserved = [c.watch_id for c in plan.changes if c.watch_id.startswith(RESERVED_ID_PREFIX)]
    if reserved:
        raise PlanError(
            f"{where}: the plan changes watch {reserved[0]!r}, but ids starting with "
            f"{RESERVED_ID_PREFIX!r} are watchmgr's own (the apply locks); make the plan again"
        )
    adopting = [c.watch_id for c in plan.changes if c.action is ChangeAction.ADOPT]
    if adopting and not adopt:
        raise PlanError(
            f"{where}: the plan adopts watch {adopting[0]!r}, which watchmgr does not own; "
            "apply it with --adopt to take the watch over, or make the plan again"
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
        now = _now(cluster, writes)
        moved = _moved_since_plan(writes, now)
        if moved:
            _mark_stale(writes, moved, record)
            return _report(plan, results, cluster, tuple(moved))
        _check_ownership(cluster.environment, writes, now)
    with _stop_requests() as stopping:
        return _locked(cluster, plan, writes, parallelism, stopping, record, results)


def _locked(
    cluster: Cluster,
    plan: Plan,
    writes: Sequence[Change],
    parallelism: int,
    stopping: threading.Event,
    record: Callable[[Result], None],
    results: Mapping[str, Result],
) -> Report:
    """Take the lock, check the plan again under it, write, give the lock back.

    SIGINT and SIGTERM only set `stopping` (see `_stop_requests`): apply stops at the next
    step, after the writes in flight, and the lock is released on the way out.
    """

    def interrupted() -> Report:
        for change in writes:
            if change.watch_id not in results:
                record(Result(change.watch_id, change.action, Outcome.SKIPPED, INTERRUPTED))
        return _report(plan, results, cluster, interrupted=True)

    if stopping.is_set():
        return interrupted()
    holder = holder_name()
    cluster.acquire(holder)
    try:
        now = _now(cluster, writes)
        moved = _moved_since_plan(writes, now)
        if moved:
            _mark_stale(writes, moved, record)
            return _report(plan, results, cluster, tuple(moved))
        _check_ownership(cluster.environment, writes, now)
        writes = [_at_current_seq_no(c, now.get(c.watch_id)) for c in writes]
        replace_after = {c.watch_id for c in writes if _needs_replace(c)}
        first = [c for c in writes if c.action is not ChangeAction.DELETE]
        last = [c for c in writes if c.action is ChangeAction.DELETE]
        for batch in (first, last):
            if stopping.is_set():
                return interrupted()
            _in_parallel(
                batch,
                lambda c: _execute(cluster, c, c.watch_id in replace_after),
                max(1, parallelism),
                record,
                stopping,
            )
    finally:
        cluster.release(holder)
    return interrupted() if stopping.is_set() else _report(plan, results, cluster)


@contextmanager
def _stop_requests() -> Iterator[threading.Event]:
    """While the block runs, SIGINT (Ctrl-C) and SIGTERM (a cancelled CI job, `kill`) only set
    the event it yields; the previous handlers come back after it.

    Raising at an arbitrary point instead could leave the lock taken (an interrupt between
    the lock's write and the `try` that releases it) or mark a running write's thread
    finished, and the lock would then be released under its write. Off the main thread
    (where Python cannot install handlers) the event is never set.
    """
    stopping = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for signum, handler in previous.items():
            if handler is None:  # installed outside Python: put Python's default back
                handler = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            signal.signal(signum, handler)


def _in_parallel(
    changes: Sequence[Change],
    run: Callable[[Change], Result],
    workers: int,
    record: Callable[[Result], None],
    stopping: threading.Event,
) -> None:
    """`run` every change, at most `workers` at once; each worker records its own results.

    The workers pull from one shared iterator: no future per change and no hand-off of every
    result to the calling thread, which at thousands of short writes cost about 4 % of apply's
    wall time (benchmarks/README.md). An exception in a worker stops every worker from taking
    more and is raised here once the writes in flight have finished. `stopping` (set by
    SIGINT or SIGTERM) also stops them taking more; this returns when the writes in flight
    have finished.
    """
    todo = iter(changes)
    lock = threading.Lock()
    failed = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            while not (stopping.is_set() or failed.is_set()):
                with lock:
                    change = next(todo, None)
                if change is None:
                    return
                result = run(change)
                with lock:
                    record(result)
        except BaseException as err:  # raised in the caller's thread below
            failure.append(err)
            failed.set()

    threads = [
        threading.Thread(target=work, name=f"watchmgr-apply-{n}", daemon=True)
        for n in range(min(workers, len(changes)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():  # a timed wait, so signal handlers run on every platform
            thread.join(0.25)
    if failure:
        raise failure[0]


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


def _now(cluster: Cluster, writes: Iterable[Change]) -> dict[str, LiveWatch]:
    """Every watch `writes` touch as it is on the cluster now, by id (one batch)."""
    return {w.id: w for w in cluster.find(c.watch_id for c in writes)}


def _moved_since_plan(writes: Iterable[Change], now: Mapping[str, LiveWatch]) -> dict[str, str]:
    """The watches of `writes` that changed since the plan was read, with what changed."""
    moved: dict[str, str] = {}
    for change in writes:
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
    return moved


def _check_ownership(
    environment: str, writes: Iterable[Change], now: Mapping[str, LiveWatch]
) -> None:
    """Refuse the whole plan if any write would touch a watch `environment` does not own.

    Whatever a plan says (a saved one travels through CI artifacts and pull requests): an
    update or a delete needs the watch on the cluster to be this environment's
    (``metadata.watchmgr.environment``), an adoption needs it to be nobody's, and every body
    written must carry this environment's ownership, so that the next plan sees it as its own.
    """
    refused: list[str] = []
    for change in writes:
        live = now.get(change.watch_id)
        owner = None if live is None else live.environment
        existing = live is not None and change.action in (ChangeAction.UPDATE, ChangeAction.DELETE)
        if existing and owner != environment:
            verb = "delete" if change.action is ChangeAction.DELETE else "update"
            refused.append(f"{verb} watch {change.watch_id!r}, {_owned_by(owner)}")
        elif change.action is ChangeAction.ADOPT and owner not in (None, environment):
            refused.append(f"adopt watch {change.watch_id!r}, {_owned_by(owner)}")
        elif change.after is not None and _body_owner(change.after) != environment:
            refused.append(
                f"write watch {change.watch_id!r} without marking it as environment "
                f"{environment!r}'s (its metadata.watchmgr.environment)"
            )
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise PlanError(
            f"refusing the plan, nothing was written: it would {refused[0]}{more}; watchmgr "
            f"only changes the watches of environment {environment!r}: make the plan again "
            f"with 'watchmgr plan --env {environment}'"
        )


def _owned_by(owner: str | None) -> str:
    if owner is None:
        return "which watchmgr does not own (adopt it with --adopt)"
    return f"which environment {owner!r} owns"


def _body_owner(body: Mapping[str, Any]) -> str | None:
    mark = Ownership.of(body)
    return None if mark is None else mark.environment


def moved_since_plan(cluster: Cluster, plan: Plan) -> dict[str, str]:
    """The watches `plan` would write that changed on the cluster since it was made, each with
    what changed (empty: the plan still holds). One batched read; nothing is written."""
    writes = [c for c in plan.pending() if c.writes]
    return _moved_since_plan(writes, _now(cluster, writes)) if writes else {}


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
