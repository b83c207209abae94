"""The pull-request comment: never longer than GitHub takes, shortened in steps with a note,
and no content (backticks, pipes, HTML) can break its markup."""

from __future__ import annotations

from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.plan.test_plan import ENV, desired, live
from watchmgr.fingerprint import fingerprint, parse_markers
from watchmgr.output.markdown import COMMENT_LIMIT, Detail, code, fenced, length, render
from watchmgr.plan import Plan, build_plan

GFM = MarkdownIt("commonmark").enable("table")


def create_update_delete(**new: Any) -> Plan:
    old = desired("changed")
    return build_plan(
        ENV,
        [desired("changed", interval="5m"), desired("new", **new)],
        [live(old), live(desired("gone"))],
    )


def thousands(count: int) -> Plan:
    """`count` watches changing their interval, as a rules-wide settings change does."""
    old = [desired(f"rules-windows-process-creation-{i:05}") for i in range(count)]
    new = [desired(w.id, interval="5m") for w in old]
    return build_plan(ENV, new, [live(w) for w in old])


def code_blocks(text: str) -> list[str]:
    return [t.content for t in GFM.parse(text) if t.type == "fence"]


def test_a_plan_shows_a_table_every_field_difference_the_counts_and_its_marker() -> None:
    plan = create_update_delete()
    text = render([plan])
    assert text.startswith("### watchmgr plan: `test`\n")
    assert "| `+` | create | `new` | rules/new.yml | no such watch on the cluster |" in text
    assert "| `-` | delete | `gone` |" in text
    assert "<details><summary>~ changed</summary>" in text
    assert '~ trigger.schedule.interval: "30m" -> "5m"' in code_blocks(text)[0]
    assert "**Plan: 1 to add, 1 to change, 1 to destroy.**" in text
    assert "Truncated" not in text
    (marker,) = parse_markers(text)
    assert (marker.environment, marker.fingerprint) == (ENV, fingerprint(plan))


def test_no_changes_says_so_and_still_carries_the_marker() -> None:
    same = desired("same")
    plan = build_plan(ENV, [same], [live(same)])
    text = render([plan])
    assert "No changes. The cluster matches the rules." in text
    assert parse_markers(text)[0].fingerprint == fingerprint(plan)


def test_a_query_with_backticks_stays_inside_its_code_block() -> None:
    query = "CommandLine:*```* OR CommandLine:*`````whoami*"
    text = render([create_update_delete(query=query)])
    blocks = code_blocks(text)
    assert any(f'+ metadata.query: "{query}"' in block.splitlines() for block in blocks), text
    assert "`" * 6 + "diff" in text  # one backtick longer than the longest run inside


@pytest.mark.parametrize("content", ["plain", "a ``` b", "`starts", "ends`", "|pipe|"])
def test_inline_code_and_fences_hold_any_content(content: str) -> None:
    (inline,) = [t for t in GFM.parseInline(code(content))[0].children or []]
    assert (inline.type, inline.content) == ("code_inline", content)
    assert code_blocks(fenced(content)) == [content + "\n"]


def test_an_id_with_a_pipe_or_html_keeps_the_table_and_the_summary_whole() -> None:
    old = desired("a|b <script>")
    plan = build_plan(ENV, [desired("a|b <script>", interval="5m")], [live(old)])
    text = render([plan])
    rows = [line for line in text.splitlines() if line.startswith("| `~`")]
    assert rows == [
        "| `~` | update | `a\\|b <script>` | rules/a\\|b <script>.yml | "
        "the rule or the environment changed |"
    ]
    assert "<summary>~ a|b &lt;script&gt;</summary>" in text


def _detail_of(text: str) -> Detail:
    if "Truncated" not in text:
        return Detail.FULL
    if "<details>" in text:
        return Detail.FIELDS
    return Detail.TABLE if "| `~` |" in text else Detail.COUNTS


def test_past_the_limit_it_degrades_in_steps_and_says_so() -> None:
    plan = thousands(40)
    full = render([plan], limit=10**9)
    fields = render([plan], limit=length(full) - 10)
    assert _detail_of(fields) is Detail.FIELDS
    assert "~ trigger.schedule.interval\n" in code_blocks(fields)[0]
    assert '"5m"' not in fields
    assert "only the paths of the changed fields" in fields
    table = render([plan], limit=length(fields) - 10)
    assert _detail_of(table) is Detail.TABLE and "only the watches and their actions" in table
    counts = render([plan], limit=length(table) - 10)
    assert _detail_of(counts) is Detail.COUNTS and "only how many watches change" in counts
    assert "**Plan: 0 to add, 40 to change, 0 to destroy.**" in counts
    for text in (fields, table, counts):
        assert parse_markers(text)[0].fingerprint == fingerprint(plan)


def test_a_4000_watch_plan_fits_a_comment() -> None:
    plan = build_plan(ENV, [desired(f"rules-windows-{i:05}") for i in range(4000)], [])
    text = render([plan])
    assert length(text) <= COMMENT_LIMIT == 65_536
    assert "Truncated" in text and "Plan: 4000 to add, 0 to change" in text
    assert parse_markers(text)[0].fingerprint == fingerprint(plan)


def test_length_is_counted_as_github_counts_it() -> None:
    assert length("abc") == 3
    assert length("é") == 1
    assert length("🙂") == 2  # outside the BMP: two UTF-16 code units


def test_the_limit_holds_for_text_outside_the_bmp() -> None:
    emoji = build_plan(
        ENV,
        [desired(f"🙂-{i:03}", interval="5m") for i in range(30)],
        [live(desired(f"🙂-{i:03}")) for i in range(30)],
    )
    full = render([emoji], limit=10**9)
    assert len(full) < length(full)
    text = render([emoji], limit=len(full))  # fits in code points, not in UTF-16 units
    assert length(text) <= len(full)
    assert _detail_of(text) is not Detail.FULL


def test_many_environments_are_cut_at_whole_lines_as_a_last_resort() -> None:
    plans = [build_plan(f"env-{i:03}", [desired("new", env=f"env-{i:03}")], []) for i in range(50)]
    text = render(plans, limit=4000)
    assert length(text) <= 4000
    assert text.endswith("plan them one by one.\n")
