"""Helpers for conversion tests: render inline rule YAML the way `watchmgr render` does."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from typing import Any

from watchmgr.rules import load_text
from watchmgr.settings import DEFAULT_SETTINGS, WatchSettings
from watchmgr.watch import RenderResult, render_rules


def render_yaml(
    text: str, path: str = "rules/test.yml", settings: WatchSettings | None = None, **changes: Any
) -> tuple[RenderResult, list[str]]:
    """Render one file's text; returns the result and all diagnostics as lines."""
    chosen = dataclasses.replace(settings or DEFAULT_SETTINGS, **changes)
    rules, load_diagnostics = load_text(textwrap.dedent(text).encode(), path)
    result = render_rules(rules, lambda _rule: chosen)
    lines = [str(d) for d in (*load_diagnostics, *result.diagnostics)]
    return result, lines


def query_of(text: str, **changes: Any) -> str:
    """The query of the only watch the rule text makes (fails on any error)."""
    result, lines = render_yaml(text, **changes)
    errors = [line for line in lines if ": warning: " not in line]
    assert not errors, errors
    assert len(result.watches) == 1, [w.id for w in result.watches]
    query = result.watches[0].body["metadata"]["query"]
    assert isinstance(query, str)
    return query


def without_owner(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a watch body without watchmgr's own metadata key."""
    copied: dict[str, Any] = json.loads(json.dumps(body))
    copied["metadata"].pop("watchmgr")
    return copied
