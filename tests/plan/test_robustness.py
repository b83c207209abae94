"""Properties and adversity: apply then plan is empty; faults converge; racing applies."""

from __future__ import annotations

import _thread
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.plan.conftest import ES_VERSION
from tests.plan.test_normalize import CASES
from watchmgr import normalize
from watchmgr.apply import apply_plan, plan_against
from watchmgr.cluster import Cluster, connect_url
from watchmgr.errors import ConflictError
from watchmgr.plan import ChangeAction
from watchmgr.sandbox import Faults, Sandbox, SandboxConfig
from watchmgr.watch import Watch, with_owner

#: Bodies of many shapes: every example of the normalizer's table.
SHAPES = [case[1] for case in CASES]
#: Named bodies, for the tests that need a particular one (SHAPES grows with the table).
_LOG = {"log": {"logging": {"text": "hi"}}}
PLAIN: dict[str, Any] = {"trigger": {"schedule": {"interval": "10m"}}, "actions": _LOG}
EVERY_30S: dict[str, Any] = {"trigger": {"schedule": {"interval": 30}}, "actions": _LOG}  # "30s"
CRON: dict[str, Any] = {"trigger": {"schedule": {"cron": "0 0 12 ? * mon-fri"}}, "actions": _LOG}


def shaped(
    watch_id: str, shape: int | dict[str, Any], env: str, active: bool = True, rule: str = ""
) -> Watch:
    body = dict(SHAPES[shape] if isinstance(shape, int) else shape)
    body["metadata"] = {
        "title": watch_id,
        "watchmgr": {"rule_id": rule or watch_id, "source": f"rules/{watch_id}.yml"},
    }
    return with_owner(Watch(watch_id, f"rules/{watch_id}.yml", 1, body, active), env)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(es_version=ES_VERSION)) as sb:
        yield sb


_examples = itertools.count()

desired_sets = st.dictionaries(
    st.integers(0, 7), st.tuples(st.integers(0, len(SHAPES) - 1), st.booleans()), max_size=6
)
starts = st.dictionaries(
    st.integers(0, 7),
    st.tuples(st.sampled_from(["owned", "unowned", "inactive"]), st.integers(0, len(SHAPES) - 1)),
    max_size=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(desired=desired_sets, start=starts)
def test_apply_then_plan_is_empty(
    sandbox: Sandbox, desired: dict[int, tuple[int, bool]], start: dict[int, tuple[str, int]]
) -> None:
    n = next(_examples)
    env = f"prop{n}"
    cluster = connect_url(sandbox.url, env)
    for slot, (kind, shape) in start.items():
        body = shaped(f"{env}-w{slot}", shape, env).body
        if kind == "unowned":
            body = {k: v for k, v in body.items() if k != "metadata"}
        cluster.put(f"{env}-w{slot}", dict(body), active=kind != "inactive")
    watches = [
        shaped(f"{env}-w{slot}", shape, env, active) for slot, (shape, active) in desired.items()
    ]
    plan = plan_against(cluster, watches, adopt=True)
    report = apply_plan(cluster, plan)
    assert report.ok, report.results
    after = plan_against(cluster, watches)
    assert not after.has_changes, [(c.watch_id, c.action, c.diff) for c in after.pending()]


def test_apply_converges_under_faults(sandbox: Sandbox) -> None:
    env = "faults"
    cluster = connect_url(sandbox.url, env)
    first = [shaped(f"f-{i:03}", i % len(SHAPES), env) for i in range(60)]
    apply_plan(cluster, plan_against(cluster, first[:40]))  # a starting state: 40 of them
    second = [
        shaped(w.id, (i * 7) % len(SHAPES), env, active=i % 5 != 0)
        for i, w in enumerate(first[10:])
    ]
    sandbox.set_faults(
        Faults(
            rate_503=0.05,
            rate_429=0.05,
            reset_rate=0.02,
            latency_ms=1,
            jitter_ms=1,
            retry_after_s=0,
            seed=5,
        )
    )
    try:
        report = apply_plan(cluster, plan_against(cluster, second), parallelism=8)
    finally:
        sandbox.set_faults(Faults())
    assert report.ok, [r for r in report.results if not r.ok]
    assert report.retries > 0
    assert not plan_against(cluster, second).has_changes


def test_retry_after_is_honoured(sandbox: Sandbox) -> None:
    slept: list[float] = []
    cluster = connect_url(sandbox.url, "retry")
    cluster._sleep = slept.append  # no real waiting
    sandbox.set_faults(Faults(rate_429=1.0, retry_after_s=3))
    try:
        with pytest.raises(Exception, match="429"):
            cluster.list_owned()
    finally:
        sandbox.set_faults(Faults())
    assert len(slept) == 7 and min(slept) >= 3


def test_two_concurrent_applies_one_wins_whole_the_other_conflicts(sandbox: Sandbox) -> None:
    env = "race"
    cluster = connect_url(sandbox.url, env)
    ids = [f"race-{i:02}" for i in range(30)]
    base = [shaped(i, PLAIN, env) for i in ids]
    apply_plan(cluster, plan_against(cluster, base))
    revisions = {
        "A": [shaped(i, EVERY_30S, env) for i in ids],
        "B": [shaped(i, CRON, env) for i in ids],
    }
    plans = {name: plan_against(cluster, ws) for name, ws in revisions.items()}
    outcome: dict[str, Any] = {}
    start = threading.Barrier(2)

    def run(name: str) -> None:
        own = connect_url(sandbox.url, env)
        start.wait()
        try:
            outcome[name] = apply_plan(own, plans[name], parallelism=8)
        except ConflictError as err:
            outcome[name] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, o in outcome.items() if not isinstance(o, ConflictError) and o.ok]
    assert len(winners) == 1, outcome
    loser = outcome[{"A": "B", "B": "A"}[winners[0]]]
    if not isinstance(loser, ConflictError):
        assert {r.outcome for r in loser.results} <= {"conflict", "skipped"}
        assert any(r.outcome == "conflict" for r in loser.results)
    # Nothing torn: the cluster holds exactly the winning revision.
    assert not plan_against(cluster, revisions[winners[0]]).has_changes


def test_a_conflict_during_apply_is_reported_not_overwritten(sandbox: Sandbox) -> None:
    env = "midway"
    cluster = connect_url(sandbox.url, env)
    watches = [shaped("mid-1", PLAIN, env)]
    apply_plan(cluster, plan_against(cluster, watches))
    plan = plan_against(cluster, [shaped("mid-1", EVERY_30S, env)])
    assert plan.changes[0].action is ChangeAction.UPDATE
    # Someone edits the watch after apply's stale check but before its write.
    cluster.put("mid-1", dict(shaped("mid-1", CRON, env).body), True)
    from watchmgr.apply import _execute

    result = _execute(cluster, plan.changes[0], replace=False)
    assert result.outcome == "conflict", result
    assert normalize.same(shaped("mid-1", CRON, env).body, cluster.get("mid-1").body)  # type: ignore[union-attr]
    # A 409 whose re-read shows the desired body already counts as done.
    cluster.put("mid-1", dict(shaped("mid-1", EVERY_30S, env).body), True)
    assert _execute(cluster, plan.changes[0], replace=False).outcome == "done"


class _Tracked:
    """Wraps a cluster's put/delete to see how many writes are in flight, and in what order."""

    def __init__(
        self, cluster: Cluster, fail_at: int | None = None, interrupt_at: int | None = None
    ) -> None:
        self.lock = threading.Lock()
        self.in_flight = self.most = self.calls = 0
        self.events: list[tuple[str, str]] = []  # ("start"|"end", "put"|"delete")
        self.fail_at = fail_at
        self.interrupt_at = interrupt_at
        for name in ("put", "delete"):
            setattr(cluster, name, self._wrap(name, getattr(cluster, name)))

    def _wrap(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def tracked(watch_id: str, *args: Any, **kwargs: Any) -> Any:
            if watch_id.startswith("watchmgr-lock-"):
                return call(watch_id, *args, **kwargs)
            with self.lock:
                self.calls += 1
                self.in_flight += 1
                self.most = max(self.most, self.in_flight)
                self.events.append(("start", name))
                failing = self.calls == self.fail_at
                if self.calls == self.interrupt_at:
                    _thread.interrupt_main()  # as Ctrl-C: the main thread gets KeyboardInterrupt
            try:
                if failing:
                    raise RuntimeError("a bug in one write")
                return call(watch_id, *args, **kwargs)
            finally:
                with self.lock:
                    self.in_flight -= 1
                    self.events.append(("end", name))

        return tracked


def test_writes_are_bounded_by_parallelism_and_deletes_come_last(sandbox: Sandbox) -> None:
    env = "bounded"
    cluster = connect_url(sandbox.url, env)
    apply_plan(cluster, plan_against(cluster, [shaped(f"old-{i}", PLAIN, env) for i in range(3)]))
    desired = [shaped(f"new-{i:02}", PLAIN, env) for i in range(24)]
    plan = plan_against(cluster, desired)
    tracked = _Tracked(cluster)
    sandbox.set_faults(Faults(latency_ms=5))
    try:
        report = apply_plan(cluster, plan, parallelism=4)
    finally:
        sandbox.set_faults(Faults())
    assert report.ok and report.count("done") == 27
    assert tracked.most == 4  # four at once, never more
    last_put_end = max(i for i, e in enumerate(tracked.events) if e == ("end", "put"))
    first_delete = tracked.events.index(("start", "delete"))
    assert first_delete > last_put_end


def test_an_unexpected_error_stops_further_writes_and_releases_the_lock(sandbox: Sandbox) -> None:
    env = "buggy"
    cluster = connect_url(sandbox.url, env)
    plan = plan_against(cluster, [shaped(f"b-{i:02}", PLAIN, env) for i in range(60)])
    tracked = _Tracked(cluster, fail_at=3)
    sandbox.set_faults(Faults(latency_ms=5))
    try:
        with pytest.raises(RuntimeError, match="a bug in one write"):
            apply_plan(cluster, plan, parallelism=4)
    finally:
        sandbox.set_faults(Faults())
    assert tracked.calls <= 3 + 4  # the failing write, plus at most the others in flight
    assert tracked.in_flight == 0  # every write in flight finished before the error surfaced
    fresh = connect_url(sandbox.url, env)  # the lock is free again: a new apply goes through
    assert apply_plan(fresh, plan_against(fresh, [shaped("b-00", PLAIN, env)])).ok


def test_ctrl_c_stops_apply_after_the_writes_in_flight(sandbox: Sandbox) -> None:
    env = "interrupted"
    cluster = connect_url(sandbox.url, env)
    plan = plan_against(cluster, [shaped(f"i-{i:03}", PLAIN, env) for i in range(200)])
    tracked = _Tracked(cluster, interrupt_at=10)
    sandbox.set_faults(Faults(latency_ms=10))
    try:
        report = apply_plan(cluster, plan, parallelism=4)
    finally:
        sandbox.set_faults(Faults())
    assert report.interrupted and not report.ok
    assert 10 <= tracked.calls < 200
    assert tracked.in_flight == 0
    written = {w.id for w in cluster.list_owned()}
    assert len(written) == tracked.calls  # each write that started also finished
    outcomes = {r.watch_id: r.outcome for r in report.results}
    assert {i for i, o in outcomes.items() if o == "done"} == written
    assert {o for i, o in outcomes.items() if i not in written} == {"skipped"}
    assert len(outcomes) == 200
    fresh = connect_url(sandbox.url, env)  # the lock was released
    assert apply_plan(
        fresh, plan_against(fresh, [shaped(f"i-{i:03}", PLAIN, env) for i in range(200)])
    ).ok


def test_a_watch_that_only_ran_during_apply_is_written_not_reported(sandbox: Sandbox) -> None:
    from watchmgr.apply import _execute

    env = "running"
    cluster = connect_url(sandbox.url, env)
    apply_plan(cluster, plan_against(cluster, [shaped("run-1", PLAIN, env)]))
    plan = plan_against(cluster, [shaped("run-1", EVERY_30S, env)])
    assert plan.changes[0].action is ChangeAction.UPDATE
    # It runs after the plan was read: its status, and so its seq_no, moves; its body does not.
    cluster.client.watcher.execute_watch(id="run-1", record_execution=True)
    result = _execute(cluster, plan.changes[0], replace=False)
    assert result.outcome == "done", result
    assert normalize.same(shaped("run-1", EVERY_30S, env).body, cluster.get("run-1").body)  # type: ignore[union-attr]


def test_a_watch_deactivated_since_the_plan_stops_apply(sandbox: Sandbox) -> None:
    env = "oncall"
    cluster = connect_url(sandbox.url, env)
    apply_plan(cluster, plan_against(cluster, [shaped(f"oc-{i}", PLAIN, env) for i in range(3)]))
    plan = plan_against(cluster, [shaped(f"oc-{i}", EVERY_30S, env) for i in range(3)])
    cluster.client.watcher.deactivate_watch(watch_id="oc-1")  # on-call silences one
    sandbox.clear_log()
    report = apply_plan(cluster, plan)
    assert report.stale == ("oc-1",)
    assert {r.watch_id: r.outcome for r in report.results} == {
        "oc-0": "skipped",
        "oc-1": "conflict",
        "oc-2": "skipped",
    }
    assert [e.path for e in sandbox.writes() if "oc-" in e.path] == []


@pytest.mark.parametrize("owned", [9, 10])
def test_plan_pages_the_listing_and_batches_the_id_lookups(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, owned: int
) -> None:
    from watchmgr import cluster as cluster_module

    monkeypatch.setattr(cluster_module, "PAGE_SIZE", 3)
    monkeypatch.setattr(cluster_module, "ID_BATCH", 2)
    env = f"paged{owned}"
    cluster = connect_url(sandbox.url, env)
    have = [shaped(f"{env}-{i:02}", PLAIN, env) for i in range(owned)]
    apply_plan(cluster, plan_against(cluster, have))
    new = [shaped(f"{env}-new-{i}", PLAIN, env) for i in range(3)]  # ids it must look up
    sandbox.clear_log()
    plan = plan_against(cluster, have + new)
    queries = [e for e in sandbox.request_log if e.path == "/_watcher/_query/watches"]
    assert len(queries) == -(-owned // 3) + -(-3 // 2)  # ⌈owned / page⌉ + ⌈new / batch⌉
    assert [c.watch_id for c in plan.changes if c.action is ChangeAction.NOOP] == [
        w.id for w in have
    ]
    assert [c.action for c in plan.changes if "new" in c.watch_id] == [ChangeAction.CREATE] * 3
