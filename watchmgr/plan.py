"""The plan model and the planner: desired watches + what the cluster holds -> `Plan`.

Pure: no I/O, no clock. `build_plan` is a function of its arguments; changes are sorted by
watch id. What each field of a `Change` means depends on its action and is written on the type.
`reason` is for people only: apply never reads it.

Every desired body carries watchmgr's mark (`watch.Ownership`, stamped by `watch.with_owner`);
a cluster watch is *owned* by the environment its mark names. Whether a watch is as desired is
`normalize.compare`'s answer, here as everywhere.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from watchmgr import normalize
from watchmgr.errors import WatchmgrError
from watchmgr.watch import Ownership, Watch

#: Version of the plan file / ``--format json`` document. Readers refuse newer versions.
FORMAT_VERSION = 1

#: A plan may delete at most this many owned watches, or MASS_DELETE_SHARE of them if more.
MASS_DELETE_MIN = 5
MASS_DELETE_SHARE = 0.2


class PlanError(WatchmgrError):
    """A plan that must not be applied as it is (mass delete, stale, other environment...)."""


class ChangeAction(str, enum.Enum):
    """What applying a change does to one watch (not a watch's alert actions)."""

    CREATE = "create"  # PUT a new watch
    UPDATE = "update"  # PUT over an owned watch (or only (de)activate it)
    DELETE = "delete"  # delete an owned watch
    ADOPT = "adopt"  # PUT over an unowned watch, taking ownership (--adopt)
    NOOP = "no-op"  # nothing: the watch is as desired
    CONFLICT = "conflict"  # nothing: the id is taken by a watch this environment does not own


#: How each action is shown in tables and summaries.
SYMBOLS = {
    ChangeAction.CREATE: "+",
    ChangeAction.UPDATE: "~",
    ChangeAction.DELETE: "-",
    ChangeAction.ADOPT: "<",
    ChangeAction.NOOP: " ",
    ChangeAction.CONFLICT: "!",
}

#: Actions that write to the cluster.
WRITES = frozenset(
    {ChangeAction.CREATE, ChangeAction.UPDATE, ChangeAction.DELETE, ChangeAction.ADOPT}
)


@dataclass(frozen=True, slots=True)
class LiveWatch:
    """A watch as the cluster returned it (``query_watches`` item)."""

    id: str
    body: Mapping[str, Any]  # the `watch` object (never the status)
    active: bool
    seq_no: int
    primary_term: int

    @property
    def environment(self) -> str | None:
        """The environment that owns it (None: unowned, e.g. deployed by sigmac or by hand)."""
        return _mark(self.body).environment


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field-level difference; `path` is dotted with ``[n]`` for list items."""

    path: str
    op: str  # "add" | "remove" | "change"
    old: Any = None
    new: Any = None


@dataclass(frozen=True, slots=True)
class Change:
    """The planned change of one watch.

    `before`: the live body, canonical (None for create; for conflict the unowned watch).
    `after`: the desired body exactly as it will be PUT (None for delete).
    `before_active` / `after_active`: the active state now / after applying (None: no watch).
    `seq_no` / `primary_term`: of the live watch when planned (None for create): updates,
    deletes and adoptions are conditional on them, and a plan file is stale when they moved.
    `renamed`: for a create, the id of the delete it replaces (same rule, new title) and for
    that delete the id of the create; None otherwise.
    """

    watch_id: str
    action: ChangeAction
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    before_active: bool | None = None
    after_active: bool | None = None
    source: str | None = None
    reason: str = ""  # for people only: never steers apply
    diff: tuple[FieldChange, ...] = ()
    seq_no: int | None = None
    primary_term: int | None = None
    renamed: str | None = None

    @property
    def writes(self) -> bool:
        return self.action in WRITES

    @property
    def state_only(self) -> bool:
        """An update that only changes the active state (done with activate/deactivate)."""
        return self.action is ChangeAction.UPDATE and all(d.path == "active" for d in self.diff)


@dataclass(frozen=True, slots=True)
class Plan:
    """The changes for one environment, sorted by watch id, and their counts."""

    environment: str
    changes: tuple[Change, ...]
    #: how many watches the environment owned when planned (for the mass-delete check).
    owned: int = 0
    cluster_uuid: str | None = None
    #: owned watches kept although no rule makes them, because the environment says prune: false.
    kept: tuple[str, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in ChangeAction}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.action is not ChangeAction.NOOP for c in self.changes)

    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not ChangeAction.NOOP)


# ------------------------------------------------------------------------------ field diffs


def _path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def field_diff(comparison: normalize.Comparison) -> tuple[FieldChange, ...]:
    """How the live body of `comparison` would change into the desired one, sorted by path."""
    before, after = comparison.live, comparison.desired
    if before is None or after is None or comparison.same:
        return ()
    from deepdiff import DeepDiff  # lazily: it is slow to import, and most watches are equal

    tree = DeepDiff(dict(before), dict(after), view="tree", verbose_level=2)
    changes: list[FieldChange] = []
    for kind, items in tree.items():
        for item in items:
            path = _path(item.path(output_format="list"))
            if kind.endswith("_added"):
                changes.append(FieldChange(path, "add", None, item.t2))
            elif kind.endswith("_removed"):
                changes.append(FieldChange(path, "remove", item.t1, None))
            else:
                changes.append(FieldChange(path, "change", item.t1, item.t2))
    return tuple(sorted(changes, key=lambda c: (c.path, c.op)))


# ------------------------------------------------------------------------------ the planner


#: What a watch without watchmgr's mark reads as: no rule, no source, no owner, no digest.
_UNMARKED = Ownership(None, None)


def _mark(body: Mapping[str, Any] | None) -> Ownership:
    return Ownership.of(body) or _UNMARKED


def _active_diff(before: bool | None, after: bool | None) -> tuple[FieldChange, ...]:
    if before is None or after is None or before == after:
        return ()
    return (FieldChange("active", "change", before, after),)


def build_plan(
    environment: str,
    desired: Iterable[Watch],
    owned: Iterable[LiveWatch],
    others: Iterable[LiveWatch] = (),
    *,
    prune: bool = True,
    respect_remote_active: bool = False,
    adopt: bool = False,
    cluster_uuid: str | None = None,
) -> Plan:
    """Plan the changes that make the cluster hold `desired` for `environment`.

    `desired` bodies are final (see `watch.with_owner`). `owned` are the watches the environment
    owns; `others` are watches it does not own at ids desired watches would take. With `prune`
    false no watch is deleted; with `respect_remote_active` an existing watch keeps the active
    state the cluster has; with `adopt` an unowned watch at a desired id is adopted instead of
    being a conflict (never one another environment owns).
    """
    live = {w.id: w for w in owned}
    foreign = {w.id: w for w in others if w.id not in live}
    changes: list[Change] = []
    wanted: set[str] = set()
    for watch in desired:
        wanted.add(watch.id)
        existing = live.get(watch.id) or foreign.get(watch.id)
        if existing is None:
            changes.append(_create(watch))
        elif watch.id in foreign:
            changes.append(_taken(watch, existing, respect_remote_active, adopt))
        else:
            changes.append(_over_owned(watch, existing, respect_remote_active))
    gone = [w for watch_id, w in live.items() if watch_id not in wanted]
    if prune:
        changes.extend(_delete(w) for w in gone)
    return Plan(
        environment=environment,
        changes=tuple(sorted(_link_renames(changes), key=lambda c: c.watch_id)),
        owned=len(live),
        cluster_uuid=cluster_uuid,
        kept=() if prune else tuple(sorted(w.id for w in gone)),
    )


def _create(watch: Watch) -> Change:
    return Change(
        watch.id,
        ChangeAction.CREATE,
        after=watch.body,
        after_active=watch.active,
        source=watch.source,
        reason="no such watch on the cluster",
    )


def _delete(current: LiveWatch) -> Change:
    return Change(
        current.id,
        ChangeAction.DELETE,
        before=normalize.compare(None, current.body).live,
        before_active=current.active,
        source=_mark(current.body).source,
        reason="no rule makes this watch any more",
        seq_no=current.seq_no,
        primary_term=current.primary_term,
    )


def _against(watch: Watch, existing: LiveWatch, respect_remote_active: bool) -> Change:
    """The change of `watch` over the live `existing`, as a no-op; the caller sets the action."""
    comparison = normalize.compare(watch.body, existing.body)
    active = existing.active if respect_remote_active else watch.active
    return Change(
        watch.id,
        ChangeAction.NOOP,
        before=comparison.live,
        after=watch.body,
        before_active=existing.active,
        after_active=active,
        source=watch.source,
        reason="as desired",
        diff=field_diff(comparison) + _active_diff(existing.active, active),
        seq_no=existing.seq_no,
        primary_term=existing.primary_term,
    )


def _over_owned(watch: Watch, existing: LiveWatch, respect_remote_active: bool) -> Change:
    change = _against(watch, existing, respect_remote_active)
    if not change.diff:
        return change
    reason = _update_reason(watch, existing, change.diff)
    return replace(change, action=ChangeAction.UPDATE, reason=reason)


def _taken(watch: Watch, other: LiveWatch, respect_remote_active: bool, adopt: bool) -> Change:
    """The change of `watch` at an id a watch this environment does not own has."""
    change = _against(watch, other, respect_remote_active)
    owner = other.environment
    if owner is None and adopt:
        return replace(change, action=ChangeAction.ADOPT, reason="adopting an unowned watch")
    why = (
        f"the id is taken by a watch of environment {owner!r}"
        if owner is not None
        else "the id is taken by a watch watchmgr does not own (apply --adopt takes it over)"
    )
    return replace(change, action=ChangeAction.CONFLICT, reason=why)


def as_planned(change: Change, live: LiveWatch) -> bool:
    """Whether `live` still is the watch `change` was planned against: the same body (seen as
    the plan saw it) and the same active state.

    Its seq_no cannot say: every run of a watch rewrites its status (watcher-api.md §5), so an
    active watch's seq_no moves on a schedule while nobody changes it.
    """
    seen = normalize.compare(change.after, live.body)
    return live.active == change.before_active and seen.live_was(change.before)


def _update_reason(watch: Watch, live: LiveWatch, diff: tuple[FieldChange, ...]) -> str:
    if all(d.path == "active" for d in diff):
        return "only the active state differs"
    live_digest = _mark(live.body).digest
    if live_digest is not None and live_digest == _mark(watch.body).digest:
        return "drift: the watch was changed on the cluster"
    return "the rule or the environment changed"


def _link_renames(changes: list[Change]) -> list[Change]:
    """Pair a delete and a create of the same rule (its title, so its id, changed)."""
    creates: dict[str, list[int]] = {}
    deletes: dict[str, list[int]] = {}
    for index, change in enumerate(changes):
        if change.action is ChangeAction.CREATE:
            key = _mark(change.after).rule_id
            if key:
                creates.setdefault(key, []).append(index)
        elif change.action is ChangeAction.DELETE:
            key = _mark(change.before).rule_id
            if key:
                deletes.setdefault(key, []).append(index)
    result = list(changes)
    for rule_id, made in creates.items():
        gone = deletes.get(rule_id, [])
        if len(made) != 1 or len(gone) != 1:
            continue  # a rule with several watches: pairing would be a guess
        create, delete = result[made[0]], result[gone[0]]
        result[made[0]] = replace(
            create, renamed=delete.watch_id, reason=f"renamed from {delete.watch_id}"
        )
        result[gone[0]] = replace(
            delete, renamed=create.watch_id, reason=f"renamed to {create.watch_id}"
        )
    return result


# ------------------------------------------------------------------------------ safety


def mass_delete_limit(owned: int) -> int:
    """The most deletes a plan may make without ``--allow-mass-delete``."""
    return max(MASS_DELETE_MIN, math.floor(owned * MASS_DELETE_SHARE))


def check_mass_delete(plan: Plan, allow: bool) -> None:
    """Refuse a plan that deletes more than max(5, 20 %) of the owned watches, or all of them.

    Deletes that are half of a rename do not count: the rule's watch lives on under a new id.
    """
    if allow:
        return
    deletes = [c for c in plan.changes if c.action is ChangeAction.DELETE and c.renamed is None]
    if not deletes:
        return
    limit = mass_delete_limit(plan.owned)
    if len(deletes) > limit or len(deletes) >= plan.owned:
        share = "all" if len(deletes) >= plan.owned else str(len(deletes))
        raise PlanError(
            f"the plan for environment {plan.environment!r} deletes {share} of its "
            f"{plan.owned} watches (the limit is {limit} and never all of them); check the "
            "rule paths and the environment, then apply with --allow-mass-delete"
        )


def with_adoptions(plan: Plan) -> Plan:
    """The plan with every conflict over an unowned watch turned into an adoption."""
    changes = tuple(
        replace(c, action=ChangeAction.ADOPT, reason="adopting an unowned watch")
        if c.action is ChangeAction.CONFLICT and _unowned(c.before)
        else c
        for c in plan.changes
    )
    return replace(plan, changes=changes)


def _unowned(body: Mapping[str, Any] | None) -> bool:
    return _mark(body).environment is None


# ------------------------------------------------------------------------------ serialization


def change_to_dict(change: Change) -> dict[str, Any]:
    """A change as JSON (the plan file and ``--format json``); keys sorted on output."""
    return {
        "id": change.watch_id,
        "action": change.action.value,
        "source": change.source,
        "reason": change.reason,
        "diff": [{"path": d.path, "op": d.op, "old": d.old, "new": d.new} for d in change.diff],
        "renamed": change.renamed,
        "before_active": change.before_active,
        "after_active": change.after_active,
        "seq_no": change.seq_no,
        "primary_term": change.primary_term,
        "before": change.before,
        "after": change.after,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "name": plan.environment,
        "cluster_uuid": plan.cluster_uuid,
        "owned": plan.owned,
        "kept": list(plan.kept),
        "summary": plan.summary,
        "changes": [change_to_dict(c) for c in plan.changes],
    }


def document(plans: Sequence[Plan]) -> dict[str, Any]:
    """The versioned JSON document for `plans`, sorted by environment."""
    return {
        "format_version": FORMAT_VERSION,
        "environments": [plan_to_dict(p) for p in sorted(plans, key=lambda p: p.environment)],
    }


def plan_from_document(data: Any, environment: str, where: str) -> Plan:
    """The plan for `environment` from a plan file's JSON; `where` names the file in errors."""
    if not isinstance(data, dict) or not isinstance(data.get("format_version"), int):
        raise PlanError(f"{where}: not a watchmgr plan file (no format_version)")
    version = data["format_version"]
    if version > FORMAT_VERSION:
        raise PlanError(
            f"{where}: plan format version {version} is newer than this watchmgr understands "
            f"({FORMAT_VERSION}); upgrade watchmgr or make the plan again"
        )
    entries = data.get("environments")
    if not isinstance(entries, list):
        raise PlanError(f"{where}: not a watchmgr plan file (no environments)")
    names = [e.get("name") for e in entries if isinstance(e, dict)]
    entry = next((e for e in entries if isinstance(e, dict) and e.get("name") == environment), None)
    if entry is None:
        shown = ", ".join(repr(n) for n in names) or "none"
        raise PlanError(
            f"{where}: the plan is for environment {shown}, not {environment!r}; "
            f"make one with: watchmgr plan --env {environment} --out PLANFILE"
        )
    at = f"environments[{entries.index(entry)}]"
    items = _typed(entry, "changes", (list,), where, at, required=True)
    changes = tuple(_change_from_dict(c, where, f"{at}.changes[{n}]") for n, c in enumerate(items))
    seen: set[str] = set()
    for n, change in enumerate(changes):
        if change.watch_id in seen:
            raise PlanError(
                f"{where}: malformed plan file: {at}.changes[{n}] is a second change of watch "
                f"{change.watch_id!r}; make the plan again"
            )
        seen.add(change.watch_id)
    kept = _typed(entry, "kept", (list,), where, at) or []
    if not all(isinstance(k, str) for k in kept):
        raise PlanError(
            f"{where}: malformed plan file: {at}.kept must list watch ids (strings); make the "
            "plan again"
        )
    return Plan(
        environment=environment,
        changes=changes,
        owned=_typed(entry, "owned", (int,), where, at) or 0,
        cluster_uuid=_typed(entry, "cluster_uuid", (str,), where, at),
        kept=tuple(kept),
    )


_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    bool: "true or false",
}


def _typed(
    data: Any,
    key: str,
    kinds: tuple[type, ...],
    where: str,
    at: str,
    *,
    required: bool = False,
) -> Any:
    """`data[key]` when it has one of the JSON types `kinds` (None when absent and optional)."""
    if not isinstance(data, dict):
        raise PlanError(f"{where}: malformed plan file: {at} is not an object; make the plan again")
    value = data.get(key)
    if value is None and not required:
        return None
    if (
        value is None
        or not isinstance(value, kinds)
        or (isinstance(value, bool) and bool not in kinds)
    ):
        wanted = " or ".join(_JSON_TYPES[k] for k in kinds)
        found = "missing" if value is None else f"{json.dumps(value)[:40]}, not {wanted}"
        raise PlanError(f"{where}: malformed plan file: {at}.{key} is {found}; make the plan again")
    return value


#: What each action of a plan file must carry to be applied as planned (and checked for staleness).
_LIVE = ("before", "before_active", "seq_no", "primary_term")
_NEEDS: dict[ChangeAction, tuple[str, ...]] = {
    ChangeAction.CREATE: ("after", "after_active"),
    ChangeAction.UPDATE: ("after", "after_active", "diff", *_LIVE),
    ChangeAction.ADOPT: ("after", "after_active", *_LIVE),
    ChangeAction.DELETE: _LIVE,
}


def _change_from_dict(data: Any, where: str, at: str) -> Change:
    action = _typed(data, "action", (str,), where, at, required=True)
    if action not in {a.value for a in ChangeAction}:
        known = ", ".join(a.value for a in ChangeAction)
        raise PlanError(
            f"{where}: malformed plan file: {at}.action is {action!r}, not one of {known}; "
            "make the plan again"
        )
    needs = _NEEDS.get(ChangeAction(action), ())

    def get(key: str, *kinds: type, required: bool = False) -> Any:
        return _typed(data, key, kinds, where, at, required=required or key in needs)

    diff = get("diff", list) or ()
    if "diff" in needs and not diff:
        raise PlanError(
            f"{where}: malformed plan file: {at}.diff is empty, but an update changes something; "
            "make the plan again"
        )
    return Change(
        watch_id=get("id", str, required=True),
        action=ChangeAction(action),
        before=get("before", dict),
        after=get("after", dict),
        before_active=get("before_active", bool),
        after_active=get("after_active", bool),
        source=get("source", str),
        reason=get("reason", str) or "",
        diff=tuple(
            FieldChange(
                _typed(d, "path", (str,), where, f"{at}.diff[{n}]", required=True),
                _typed(d, "op", (str,), where, f"{at}.diff[{n}]", required=True),
                d.get("old"),
                d.get("new"),
            )
            for n, d in enumerate(diff)
        ),
        seq_no=get("seq_no", int),
        primary_term=get("primary_term", int),
        renamed=get("renamed", str),
    )
