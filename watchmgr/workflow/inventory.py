"""What is on an environment's cluster: each watch's health (`status`), the stored watches
(`export`) and the plan that deletes them all (`destroy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.plan import LiveWatch, Plan
    from watchmgr.watch import Watch


#: Health of a watch, worst first: the order `status` lists them in.
HEALTH = ("failing", "inactive", "never run", "ok")


def watch_statuses(cluster: Cluster) -> list[dict[str, Any]]:
    """Every watch the environment owns with its health and Watcher status, worst first, then
    by id: one record per watch (``id``, ``source``, ``active``, ``health``, ``last_checked``,
    ``last_met_condition``, ``last_throttled``, ``acked``, ``error``), read with the paged
    ``query_watches`` (never one request per watch)."""
    records = [_status_record(live, status) for live, status in cluster.statuses()]
    return sorted(records, key=lambda r: (HEALTH.index(r["health"]), r["id"]))


def _status_record(live: LiveWatch, status: Mapping[str, Any]) -> dict[str, Any]:
    """One watch's `watch_statuses` record from its Watcher status (watcher-api.md §1.6)."""
    from watchmgr.watch import Ownership

    actions = status.get("actions")
    failures = []
    throttled: list[str] = []
    acked = []
    for name, action in sorted(actions.items() if isinstance(actions, dict) else ()):
        if not isinstance(action, dict):
            continue
        last = action.get("last_execution") or {}
        if last.get("successful") is False:
            failures.append(f"{name}: {last.get('reason') or 'failed'}")
        if (action.get("ack") or {}).get("state") == "acked":
            acked.append(name)
        stamp = (action.get("last_throttle") or {}).get("timestamp")
        if isinstance(stamp, str):
            throttled.append(stamp)
    state = status.get("execution_state")
    if state == "failed" and not failures:
        failures.append("the last execution failed (its input or condition; see the watch history)")
    if failures:
        health = "failing"
    elif not live.active:
        health = "inactive"
    else:
        health = "ok" if status.get("last_checked") else "never run"
    owner = Ownership.of(live.body)
    return {
        "id": live.id,
        "source": owner.source if owner is not None else None,
        "active": live.active,
        "health": health,
        "last_checked": status.get("last_checked"),
        "last_met_condition": status.get("last_met_condition"),
        "last_throttled": max(throttled) if throttled else None,
        "acked": acked,
        "error": "; ".join(failures) or None,
    }


def exported(cluster: Cluster, *, everything: bool) -> list[Watch]:
    """The watches on the cluster as they are stored, by id: the environment's own, or every
    watch with `everything` (a backup before a first prune). `source` is the rule file of an
    owned watch, "" for others."""
    from watchmgr.watch import Ownership, Watch

    found = cluster.list_all() if everything else cluster.list_owned()
    watches = []
    for live in found:
        owner = Ownership.of(live.body)
        source = owner.source if owner is not None else None
        watches.append(Watch(live.id, source or "", 0, dict(live.body), live.active))
    return watches


def destroy_plan(env: Environment, cluster: Cluster) -> Plan:
    """The plan that deletes every watch `env` owns on its cluster and nothing else (Terraform's
    destroy): the plan of no rules, pruning whatever the environment says about pruning."""
    from dataclasses import replace

    from watchmgr.apply import plan_against

    planned = plan_against(cluster, [], prune=True, respect_remote_active=env.respect_remote_active)
    why = "destroy deletes every watch this environment owns"
    return replace(planned, changes=tuple(replace(c, reason=why) for c in planned.changes))
