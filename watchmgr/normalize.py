"""The one canonical form of a watch body, applied to desired and live watches before comparing.

Elasticsearch does not store the body it is given: it parses it and serializes the parsed watch
(watcher-api.md §2.0), adding defaults, converting units and reshaping schedules. This module
predicts that rewrite so that a desired body and the body a cluster returns for it compare
equal. It is independent of the sandbox's emulation on purpose: the sandbox emulates ES, this
predicts it, and the integration tests prove the two agree.

Every rewrite is one `Rewrite` in `RULES`, the table of `watchmgr.rewrites` (one row per rule of
watcher-api.md §2, citing the § it comes from; §2.12 says which a diffing tool should apply).
Rows are grouped by the kind of node they apply to; `canonical()` walks a body, finds each node
of each kind and applies the rows of that kind in table order. The walk works on a copy; inputs
are never changed. `canonical` is idempotent.

Comparing is here too, once: `compare(desired, live)` puts both bodies in their canonical form,
leaves out the ownership digest (it classifies a change, it never makes one), and reads secret
leaves the cluster hides (``::es_redacted::``, §2.10) or returns encrypted
(``::es_encrypted::…``) as equal to any desired value. Free-form maps compare
order-insensitively because dicts do. The planner, a saved plan's staleness check and apply all
ask it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchmgr.rewrites import KINDS, RULES, Node, Rewrite, text_template
from watchmgr.watch import Ownership

__all__ = ["REDACTED", "RULES", "Comparison", "Rewrite", "canonical", "compare", "same"]

REDACTED = "::es_redacted::"
ENCRYPTED_PREFIX = "::es_encrypted::"

_BY_KIND: dict[str, tuple[Rewrite, ...]] = {
    kind: tuple(r for r in RULES if r.kind == kind) for kind in KINDS
}


def _apply(kind: str, node: Any) -> None:
    if isinstance(node, dict):
        for rule in _BY_KIND[kind]:
            rule.apply(node)


# ------------------------------------------------------------------------------ the walk


def _search_request_of(search: Any) -> None:
    if isinstance(search, dict):
        _apply("search_input", search)
        _apply("search_request", search.get("request"))


def _input(node: Any) -> None:
    if not isinstance(node, dict):
        return
    if "search" in node:
        _search_request_of(node["search"])
    http = node.get("http")
    if isinstance(http, dict):
        _apply("search_input", http)  # the http input's `extract` and `timeout` act alike
        _apply("http_request", http.get("request"))
        if isinstance(http.get("request"), dict):
            _apply("proxy", http["request"].get("proxy"))
    chain = node.get("chain")
    if isinstance(chain, dict) and isinstance(chain.get("inputs"), list):
        for item in chain["inputs"]:
            if isinstance(item, dict):
                for sub in item.values():
                    _input(sub)


def _transform(node: Any) -> None:
    if not isinstance(node, dict):
        return
    _apply("transform", node)
    if "search" in node:
        _search_request_of(node["search"])
    chain = node.get("chain")
    if isinstance(chain, list):
        for item in chain:
            _transform(item)


def _action(node: Any) -> None:
    if not isinstance(node, dict):
        return
    _apply("action", node)
    if "condition" in node:
        _apply("condition", node["condition"])
    if "transform" in node:
        _transform(node["transform"])
    for kind in ("logging", "index", "email", "slack", "pagerduty", "jira"):
        _apply(kind, node.get(kind))
    if isinstance(node.get("email"), dict):
        email = node["email"]
        for key in ("subject", "from"):
            if key in email:
                email[key] = text_template(email[key])
    webhook = node.get("webhook")
    if isinstance(webhook, dict):
        _apply("http_request", webhook)
    for kind in ("webhook", "slack", "pagerduty", "jira"):
        if isinstance(node.get(kind), dict):
            _apply("proxy", node[kind].get("proxy"))


def canonical(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body as Elasticsearch would return it, as far as watchmgr's diff needs (§2.12).

    Pure and idempotent: ``canonical(canonical(b)) == canonical(b)``; `body` is not changed.
    """
    node: Node = copy.deepcopy(dict(body))
    _apply("watch", node)
    trigger = node.get("trigger")
    if isinstance(trigger, dict):
        _apply("schedule", trigger.get("schedule"))
    _input(node.get("input"))
    _apply("condition", node.get("condition"))
    if "transform" in node:
        _transform(node["transform"])
    actions = node.get("actions")
    if isinstance(actions, dict):
        for action in actions.values():
            _action(action)
    return node


# ------------------------------------------------------------------------------ comparison


def is_hidden_secret(value: Any) -> bool:
    """A leaf the cluster returns instead of a secret (§2.10): redacted or encrypted."""
    return isinstance(value, str) and (value == REDACTED or value.startswith(ENCRYPTED_PREFIX))


def _secrets_from(desired: Any, live: Any) -> Any:
    """`live` with every hidden-secret leaf replaced by the desired value at the same place.

    §2.10: the cluster never returns a secret, so a hidden one is "unknown, assume equal".
    """
    if is_hidden_secret(live) and desired is not None:
        return desired
    if isinstance(live, dict) and isinstance(desired, dict):
        return {k: _secrets_from(desired.get(k), v) for k, v in live.items()}
    if isinstance(live, list) and isinstance(desired, list) and len(live) == len(desired):
        return [_secrets_from(d, v) for d, v in zip(desired, live, strict=True)]
    return live


def _comparable(body: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical body without its ownership digest (which classifies, never differs)."""
    return Ownership.without_digest(canonical(body))


@dataclass(frozen=True, slots=True)
class Comparison:
    """A desired and a live body, each in the form they compare in: canonical, without the
    ownership digest, and the live one's hidden secrets read as the desired values (§2.10).

    A side is None when there is no such watch (a create has no live body, a delete no desired
    one). These forms are what a plan shows as a change's `after` and `before`.
    """

    desired: dict[str, Any] | None
    live: dict[str, Any] | None

    @property
    def same(self) -> bool:
        """Whether the live body is what storing the desired one gives."""
        return self.desired == self.live

    def live_was(self, before: Mapping[str, Any] | None) -> bool:
        """Whether the live body still is `before`, the live side of an earlier comparison
        with the same desired body (a saved plan's, say)."""
        return self.live == before


def compare(desired: Mapping[str, Any] | None, live: Mapping[str, Any] | None) -> Comparison:
    """The one comparison of a desired watch body and the body the cluster holds."""
    want = None if desired is None else _comparable(desired)
    have = None if live is None else _comparable(live)
    if want is not None and have is not None:
        have = _secrets_from(want, have)
    return Comparison(want, have)


def same(desired: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Whether the cluster's `live` body is what storing `desired` gives (see `compare`)."""
    return compare(desired, live).same
