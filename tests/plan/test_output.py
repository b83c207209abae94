"""Rendering: markdown for PR comments (folded, truncated), json stable and versioned."""

from __future__ import annotations

import io
import json

from rich.console import Console

from tests.plan.test_plan import ENV, desired, live
from watchmgr.output.plan import MARKDOWN_LIMIT, render_json, render_markdown, render_text
from watchmgr.plan import build_plan


def big_plan(count: int) -> object:
    old = [desired(f"w{i:04}") for i in range(count)]
    new = [desired(f"w{i:04}", interval="5m") for i in range(count)]
    return build_plan(ENV, new, [live(w) for w in old])


def test_markdown_folds_diffs_and_sums_up() -> None:
    text = render_markdown([big_plan(2)])  # type: ignore[list-item]
    assert "<details><summary>~ w0000</summary>" in text
    assert '~ trigger.schedule.interval: "30m" -> "5m"' in text
    assert "**Plan: 0 to add, 2 to change, 0 to destroy.**" in text


def test_markdown_is_truncated_with_a_note_past_the_limit() -> None:
    text = render_markdown([big_plan(400)])  # type: ignore[list-item]
    assert len(text) <= MARKDOWN_LIMIT
    assert "**Truncated**" in text
    assert text.count("```") % 2 == 0


def test_json_is_versioned_sorted_and_stable() -> None:
    plan = big_plan(3)
    first = render_json([plan])  # type: ignore[list-item]
    assert first == render_json([plan])  # type: ignore[list-item]
    data = json.loads(first)
    assert data["format_version"] == 1
    assert [c["id"] for c in data["environments"][0]["changes"]] == ["w0000", "w0001", "w0002"]
    assert data["environments"][0]["summary"]["update"] == 3
    assert first == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_text_shows_symbols_diffs_and_the_terraform_line() -> None:
    out = io.StringIO()
    render_text([big_plan(1)], Console(file=out, width=120, color_system=None))  # type: ignore[list-item]
    text = out.getvalue()
    assert "~  update  w0000" in text
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in text


def test_a_new_watch_is_shown_field_by_field_with_long_strings_whole() -> None:
    query = " OR ".join(f"CommandLine.keyword:*part{i}*" for i in range(40))  # > 300 chars
    new = desired("w-new", query=query)
    plan = build_plan(ENV, [new], [])
    out = io.StringIO()
    render_text([plan], Console(file=out, width=120, color_system=None, soft_wrap=True))
    text = out.getvalue()
    assert '    + trigger.schedule.interval: "30m"' in text
    assert "    + condition.compare.ctx.payload.hits.total.not_eq: 0" in text
    assert f"    + metadata.query: {json.dumps(query)}" in text  # not cut at 300 characters
    assert "rule_id" not in text and "digest" not in text  # watchmgr's own key is left out
    markdown = render_markdown([plan])
    assert "<details><summary>+ w-new</summary>" in markdown
    assert '+ actions.send_email.email.to: "root@localhost"' in markdown
