"""Plans saved by ``plan --out``: read back (checked for shape, depth and environment) and
refused when the cluster moved since.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.plan import Plan


def saved_plan(path: Path, env: Environment) -> Plan:
    """The plan saved at `path` by ``plan --out``, refused unless it is `env`'s."""
    from watchmgr.plan import PlanError, plan_from_document

    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PlanError(f"{path}: cannot read the plan file: {err.strerror}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise PlanError(f"{path}:{line}: not a plan file: not UTF-8 text") from err
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise PlanError(f"{path}:{err.lineno}: not a JSON plan file: {err.msg}") from err
    except RecursionError as err:
        raise PlanError(_too_deep(path)) from err
    if _depth(data) > MAX_PLAN_DEPTH:
        raise PlanError(_too_deep(path))
    saved = plan_from_document(data, env.name, str(path))
    # In the order a fresh plan lists them, whatever order the file holds them in.
    return replace(saved, changes=tuple(sorted(saved.changes, key=lambda c: c.watch_id)))


def stale_plan(cluster: Cluster, saved: Plan, where: Path) -> None:
    """Refuse a saved plan any of whose watches changed on the cluster since it was made, in
    one line naming every one of them (grouped by what happened to them)."""
    from watchmgr.apply import moved_since_plan
    from watchmgr.plan import PlanError

    moved = moved_since_plan(cluster, saved)
    if not moved:
        return
    by_why: dict[str, list[str]] = {}
    for watch_id in sorted(moved):
        by_why.setdefault(moved[watch_id], []).append(watch_id)
    what = "; ".join(f"{_listed(ids)} {why}" for why, ids in sorted(by_why.items()))
    raise PlanError(f"{where}: the plan is stale, nothing was written: {what}; make the plan again")


def _listed(ids: Sequence[str], most: int = 10) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``; past `most`, ``... and N more``."""
    shown = [repr(i) for i in ids[:most]]
    if len(ids) > most:
        return f"{', '.join(shown)} and {len(ids) - most} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


#: No plan watchmgr writes nests deeper than this (a watch body is about 10 levels deep).
MAX_PLAN_DEPTH = 100


def _too_deep(path: Path) -> str:
    return (
        f"{path}: not a plan watchmgr made: it nests deeper than {MAX_PLAN_DEPTH} levels; "
        "make the plan again"
    )


def _depth(data: Any) -> int:
    """How deeply `data` (parsed JSON) nests, without recursion."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            todo.extend((child, depth + 1) for child in children)
    return deepest
