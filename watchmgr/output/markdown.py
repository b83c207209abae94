"""Markdown of plans for a pull-request comment and a job summary: never too long for GitHub.

GitHub refuses a comment longer than 65,536 characters, and a job that fails on that hides the
plan it was to show. So the text is made at the most detailed level that fits, in steps:
every field difference, then only the paths of the changed fields, then a table of ids and
actions, then the counts alone, with a note saying what was left out. Length is counted in
UTF-16 code units, as GitHub's limit is (a character outside the BMP counts twice).

Each environment's section carries its hidden marker (`watchmgr.fingerprint`), which says
which plan the comment shows: apply compares it with a fresh plan, and `watchmgr github
comment` finds the environment's sticky comment by it.

Content never breaks the markup: code fences are longer than any run of backticks inside
them, inline code likewise, table cells escape ``|``, HTML is escaped where it would be read.
"""

from __future__ import annotations

import enum
import html
import re
from collections.abc import Callable, Sequence

from watchmgr.fingerprint import marker_of, render_marker
from watchmgr.output.plan import _label, diff_lines, summary_line
from watchmgr.plan import SYMBOLS, Change, Plan

#: GitHub's limit for an issue or pull-request comment (and a job summary is larger).
COMMENT_LIMIT = 65_536


class Detail(enum.IntEnum):
    """How much of each change a comment shows, most first."""

    FULL = 0  # every field difference, with old and new values
    FIELDS = 1  # the paths of the changed fields only
    TABLE = 2  # a table of ids and actions
    COUNTS = 3  # the counts alone


_NOTES = {
    Detail.FIELDS: "only the paths of the changed fields, not their values",
    Detail.TABLE: "only the watches and their actions, not the fields that change",
    Detail.COUNTS: "only how many watches change, not which",
}


def length(text: str) -> int:
    """`text`'s length as GitHub counts it: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def render(plans: Sequence[Plan], limit: int = COMMENT_LIMIT) -> str:
    """The plans as Markdown of at most `limit` characters, at the most detail that fits."""
    ordered = sorted(plans, key=lambda p: p.environment)
    markers = [render_marker(marker_of(plan)) for plan in ordered]  # once: hashing is costly
    for detail in Detail:
        text = "".join(_section(p, m, detail, limit) for p, m in zip(ordered, markers, strict=True))
        if length(text) <= limit:
            return text
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    """The last resort (hundreds of environments in one comment): whole lines that fit."""
    note = "\n> **Truncated**: too many environments for one comment; plan them one by one.\n"
    kept: list[str] = []
    used = length(note)
    for line in text.splitlines(keepends=True):
        used += length(line)
        if used > limit:
            break
        kept.append(line)
    return "".join(kept) + note


def _section(plan: Plan, marker: str, detail: Detail, limit: int) -> str:
    parts = [f"### watchmgr plan: {code(plan.environment)}\n\n", marker]
    parts.append("\n\n")
    pending = plan.pending()
    if not pending:
        parts.append("No changes. The cluster matches the rules.\n\n")
    else:
        if detail is not Detail.FULL:
            parts.append(
                f"> **Truncated**: the whole plan is longer than a comment may be "
                f"({limit:,} characters), so this shows {_NOTES[detail]}. "
                f"`watchmgr plan --env {plan.environment}` shows all of it, and the JSON plan "
                "is among the run's artifacts.\n\n"
            )
        if detail <= Detail.TABLE:
            parts.append(_table(pending))
        if detail <= Detail.FIELDS:
            lines = diff_lines if detail is Detail.FULL else _changed_paths
            parts.extend(_details(change, lines) for change in pending)
    parts.append(f"**{summary_line(plan)}**\n\n")
    return "".join(parts)


def _table(pending: Sequence[Change]) -> str:
    rows = ["| | action | watch | source | why |\n|---|---|---|---|---|\n"]
    rows.extend(
        f"| {code(SYMBOLS[c.action])} | {_label(c)} | {cell(code(c.watch_id))} | "
        f"{cell(c.source or '')} | {cell(c.reason)} |\n"
        for c in pending
    )
    rows.append("\n")
    return "".join(rows)


def _details(change: Change, lines_of: Callable[[Change], list[str]]) -> str:
    lines = lines_of(change)
    if not lines:
        return ""
    summary = html.escape(f"{SYMBOLS[change.action]} {change.watch_id}", quote=False)
    block = fenced("\n".join(lines), "diff")
    return f"<details><summary>{summary}</summary>\n\n{block}\n\n</details>\n\n"


_PATH = re.compile(r"^([+~-]) ([^:]*):")


def _changed_paths(change: Change) -> list[str]:
    """`diff_lines` without the values: ``~ path`` per changed field."""
    kept = []
    for line in diff_lines(change):
        match = _PATH.match(line)
        kept.append(f"{match.group(1)} {match.group(2)}" if match else line)
    return kept


# ------------------------------------------------------------------------------ markup


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def fenced(text: str, info: str = "") -> str:
    """`text` in a fenced code block whose fence no run of backticks in it can close."""
    fence = "`" * max(3, _longest_backticks(text) + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def code(text: str) -> str:
    """`text` as inline code, whatever backticks it holds (CommonMark's rule: a longer run of
    backticks around it, and a space inside where it starts or ends with one)."""
    ticks = "`" * (_longest_backticks(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def cell(text: str) -> str:
    """`text` fit for a table cell: ``|`` escaped (GFM reads it even inside code), one line."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
