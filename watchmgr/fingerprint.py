"""The fingerprint of a plan, and the hidden marker that carries it in a pull-request comment.

Pure. The fingerprint is a SHA-256 over the canonical change set, never over rendered text:
per pending change (no-ops are not changes) the watch id, the action, the canonical desired body
and the live state it was planned against (canonical body and active state), serialized as JSON
with sorted keys. So whitespace, key order and the layout of a plan file cannot change it, and
neither can the values that move on a cluster without anyone changing a watch: `seq_no` and
`primary_term` (every run of a watch rewrites its status), the `reason` shown to people, the
digest in ``metadata.watchmgr`` (a hash of the body already hashed). Anything apply would do
differently changes it.

The marker is an HTML comment, ``<!-- watchmgr:plan {json} -->``, with the environment, the
fingerprint, the counts and, while it stays small, one short hash per change: what `difference`
compares to say *what* changed since review, not only that something did.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchmgr import normalize
from watchmgr.plan import Change, Plan

#: The prefix of every fingerprint (the algorithm, as Docker digests name theirs).
PREFIX = "sha256:"
#: What a marker starts with, after ``<!--``.
MARKER_TAG = "watchmgr:plan"
#: A marker lists its changes one by one only up to this many characters of JSON.
MARKER_CHANGES_BUDGET = 12_000

_MARKER = re.compile(rf"<!-- {re.escape(MARKER_TAG)} (\{{.*?\}}) -->", re.S)


def _entry(change: Change) -> dict[str, Any]:
    """What identifies one change for review: nothing a cluster moves on its own."""
    return {
        "id": change.watch_id,
        "action": change.action.value,
        "desired": normalize.compare(change.after, None).desired,
        "desired_active": change.after_active,
        "live": change.before,  # canonical (and reconciled) as the planner made it
        "live_active": change.before_active,
    }


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pending(plan: Plan) -> list[tuple[Change, dict[str, Any]]]:
    return [(c, _entry(c)) for c in sorted(plan.pending(), key=lambda c: c.watch_id)]


def _fingerprint(environment: str, entries: list[dict[str, Any]]) -> str:
    return PREFIX + _digest({"environment": environment, "changes": entries})


def fingerprint(plan: Plan) -> str:
    """``sha256:<hex>`` of `plan`'s environment and its pending changes in id order."""
    return _fingerprint(plan.environment, [entry for _, entry in _pending(plan)])


# ------------------------------------------------------------------------------ the marker


@dataclass(frozen=True, slots=True)
class Marker:
    """What a plan comment says about the plan it shows.

    `changes`: watch id -> ``action:hash`` for each pending change, or None when there were too
    many to list (then only the fingerprint and the counts can be compared).
    """

    environment: str
    fingerprint: str
    summary: Mapping[str, int]
    changes: Mapping[str, str] | None


def marker_of(plan: Plan) -> Marker:
    """The marker of `plan`; its per-change list is left out when it would be too long."""
    pending = _pending(plan)
    # 12 hex digits per change: enough to tell two versions of one change apart.
    changes: dict[str, str] | None = {
        c.watch_id: f"{c.action.value}:{_digest(entry)[:12]}" for c, entry in pending
    }
    if len(json.dumps(changes)) > MARKER_CHANGES_BUDGET:
        changes = None
    counts = {k: v for k, v in plan.summary.items() if k != "no-op"}
    value = _fingerprint(plan.environment, [entry for _, entry in pending])
    return Marker(plan.environment, value, counts, changes)


def render_marker(marker: Marker) -> str:
    """The marker as an HTML comment; ``<`` and ``>`` are escaped, so no id can close it."""
    data = {
        "environment": marker.environment,
        "fingerprint": marker.fingerprint,
        "summary": dict(marker.summary),
        "changes": None if marker.changes is None else dict(sorted(marker.changes.items())),
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<!-- {MARKER_TAG} {text} -->"


def parse_markers(text: str) -> list[Marker]:
    """Every well-formed marker in `text` (a comment's body), in order; others are ignored."""
    found = []
    for match in _MARKER.finditer(text):
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        marker = _marker_from(data)
        if marker is not None:
            found.append(marker)
    return found


def _marker_from(data: Any) -> Marker | None:
    if not isinstance(data, dict):
        return None
    env, value = data.get("environment"), data.get("fingerprint")
    summary, changes = data.get("summary"), data.get("changes")
    if not (isinstance(env, str) and isinstance(value, str) and value.startswith(PREFIX)):
        return None
    if not isinstance(summary, dict) or not all(isinstance(v, int) for v in summary.values()):
        return None
    if changes is not None and not (
        isinstance(changes, dict) and all(isinstance(v, str) for v in changes.values())
    ):
        return None
    return Marker(env, value, summary, changes)


# ------------------------------------------------------------------------------ the difference


def _counts(summary: Mapping[str, int]) -> str:
    shown = [f"{n} {action}" for action, n in sorted(summary.items()) if n]
    return ", ".join(shown) or "no changes"


def difference(reviewed: Marker, fresh: Marker, limit: int = 20) -> list[str]:
    """What differs between the reviewed plan and a fresh one, one line each, at most `limit`
    watches (then how many more); empty when the fingerprints are equal."""
    if reviewed.fingerprint == fresh.fingerprint:
        return []
    lines = [
        f"reviewed {reviewed.fingerprint[:19]}… ({_counts(reviewed.summary)}), "
        f"now {fresh.fingerprint[:19]}… ({_counts(fresh.summary)})"
    ]
    if reviewed.changes is None or fresh.changes is None:
        lines.append("(too many changes to list them one by one; run watchmgr plan to see them)")
        return lines
    ids = sorted(set(reviewed.changes) | set(fresh.changes))
    differ = [i for i in ids if reviewed.changes.get(i) != fresh.changes.get(i)]
    for watch_id in differ[:limit]:
        was, now = reviewed.changes.get(watch_id), fresh.changes.get(watch_id)
        if _action(was) != _action(now):
            lines.append(f"{watch_id}: {_action(was)} in the reviewed plan, {_action(now)} now")
        else:
            lines.append(f"{watch_id}: {_action(now)}, but of another body or live state")
    if len(differ) > limit:
        lines.append(f"and {len(differ) - limit} more watches")
    return lines


def _action(entry: str | None) -> str:
    return "no change" if entry is None else entry.split(":")[0]
