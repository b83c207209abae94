"""Rendering of plans and apply results: Rich text, versioned JSON, Markdown for PR comments.

One renderer per format; nothing here decides exit codes or talks to a cluster. Output is
sorted (environments by name, changes by id, diffs by path) and carries no clock.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from watchmgr.apply import Outcome, Report
from watchmgr.errors import Diagnostic
from watchmgr.output import documents, formats, messages
from watchmgr.plan import SYMBOLS, Change, ChangeAction, FieldChange, Plan, document
from watchmgr.watch import Ownership

FORMATS = formats.PLAN


def console(stderr: bool = False) -> Console:
    """A Rich console on stdout (or stderr) that keeps lines whole when it is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    # Not a terminal (CI logs, files): wide enough that a table keeps ids and paths on one line.
    width = None if tty else 200
    if not messages.settings().color:  # --no-color: plain text, bold included
        return Console(
            file=stream, width=width, highlight=False, soft_wrap=not tty, color_system=None
        )
    # Rich's own checks: a terminal, FORCE_COLOR, and NO_COLOR (which drops colours only).
    return Console(file=stream, width=width, highlight=False, soft_wrap=not tty)


def render(plans: Sequence[Plan], fmt: str, warnings: Sequence[Diagnostic] = ()) -> None:
    """Write `plans` to stdout in `fmt` (one of FORMATS); JSON carries the inputs' `warnings`
    (text and Markdown leave them to stderr, where every command prints them)."""
    if fmt == "json":
        sys.stdout.write(render_json(plans, warnings))
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(plans))
    else:
        render_text(plans, console())


#: Markdown is shortened past this many characters, with a note: GitHub comments stop there.
MARKDOWN_LIMIT = 65_536
#: Objects and arrays longer than this (as JSON) are shortened in field diffs; strings (a
#: query, say) never are.
VALUE_LIMIT = 300

_STYLES = {
    ChangeAction.CREATE: "green",
    ChangeAction.UPDATE: "yellow",
    ChangeAction.DELETE: "red",
    ChangeAction.ADOPT: "cyan",
    ChangeAction.NOOP: "dim",
    ChangeAction.CONFLICT: "bold red",
}


def summary_line(plan: Plan) -> str:
    """Terraform's closing line, plus adoptions and conflicts when there are any."""
    counts = plan.summary
    line = (
        f"Plan: {counts['create']} to add, {counts['update']} to change, "
        f"{counts['delete']} to destroy."
    )
    extra = []
    if counts["adopt"]:
        extra.append(f"{counts['adopt']} to adopt")
    if counts["conflict"]:
        extra.append(f"{counts['conflict']} in conflict")
    return line if not extra else f"{line[:-1]}, {', '.join(extra)}."


def _value(value: Any, *, whole: bool = False) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if whole or isinstance(value, str) or len(text) <= VALUE_LIMIT:
        return text
    return text[: VALUE_LIMIT - 1] + "…"


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a body with its path (``a.b.c``); arrays and empty objects are leaves."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    else:
        yield path, node


def _created(body: Mapping[str, Any]) -> list[str]:
    """A new watch as ``+ path: value`` lines, in body order; watchmgr's own key left out."""
    shown = Ownership.unmarked(body)
    # Whole values: a query inside the `must` array is as much the watch as a top-level string.
    return [f"+ {path}: {_value(value, whole=True)}" for path, value in _leaves(shown)]


def diff_lines(change: Change) -> list[str]:
    """One line per field difference: ``~ path: old -> new``, ``+ path: new``, ``- path: old``;
    for a new watch, one ``+`` line per field."""
    lines = [_diff_line(item) for item in change.diff]
    if change.action is ChangeAction.CREATE and change.after is not None:
        lines = _created(change.after)  # all of it, as Terraform shows a new resource
        if change.renamed:
            lines.insert(0, f"(renamed from {change.renamed})")
    return lines


def _diff_line(item: FieldChange) -> str:
    if item.op == "add":
        return f"+ {item.path}: {_value(item.new)}"
    if item.op == "remove":
        return f"- {item.path}: {_value(item.old)}"
    return f"~ {item.path}: {_value(item.old)} -> {_value(item.new)}"


def _label(change: Change) -> str:
    if change.renamed and change.action in (ChangeAction.CREATE, ChangeAction.DELETE):
        return f"{change.action.value} (rename)"
    return change.action.value


# ------------------------------------------------------------------------------ text


def render_text(plans: Sequence[Plan], console: Console, *, show_noop: bool = False) -> None:
    """Per environment: a table of changes, each change's field diff, the summary line."""
    for plan in sorted(plans, key=lambda p: p.environment):
        console.print(Text(f"Environment {plan.environment}", style="bold"))
        shown = [c for c in plan.changes if show_noop or c.action is not ChangeAction.NOOP]
        if not shown:
            console.print("No changes. The cluster matches the rules.")
        else:
            rows = [
                (
                    Text(SYMBOLS[c.action], style=_STYLES[c.action]),
                    Text(_label(c), style=_STYLES[c.action]),
                    Text(c.watch_id),
                    Text(c.source or ""),
                    Text(c.reason),
                )
                for c in shown
            ]
            print_rows(console, ("", "action", "watch", "source", "why"), rows, below=3)
            for change in shown:
                lines = diff_lines(change)
                if not lines:
                    continue
                console.print(Text(f"\n{SYMBOLS[change.action]} {change.watch_id}", style="bold"))
                for line in lines:
                    console.print(Text(f"    {line}", style=_line_style(line)), soft_wrap=True)
        if plan.kept:
            console.print(
                f"{len(plan.kept)} watches no rule makes are kept (prune: false): "
                + ", ".join(plan.kept[:10])
                + (" …" if len(plan.kept) > 10 else "")
            )
        console.print(Text(summary_line(plan), style="bold"))
        console.print()


#: Columns of a table are two cells apart (Rich's padding of one on each side, no box).
_GAP = 2


def print_rows(
    console: Console,
    header: Sequence[str],
    rows: Sequence[Sequence[Text]],
    *,
    below: int,
    label_from: int | None = None,
) -> None:
    """`rows` as a table whose cells are never broken (ids, paths, actions), except the last,
    which wraps between words; when that does not fit the console, each row is one line of its
    first `below` cells with the others under it, indented, so an id or a path is still whole
    (and can be copied) on any terminal width. There, with no header above them, the cells from
    `label_from` on are named (``last checked: -``)."""
    if not rows:
        return
    columns = zip(*rows, strict=True)
    widths = [
        max([len(h), *(c.cell_len for c in col)]) for h, col in zip(header, columns, strict=True)
    ]
    words = max([len(header[-1]), *(len(w) for r in rows for w in r[-1].plain.split())])
    if sum(widths[:-1]) + words + _GAP * (len(header) - 1) <= console.width:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for n, title in enumerate(header):
            last = n == len(header) - 1
            table.add_column(title, no_wrap=not last, min_width=None if last else widths[n])
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    if label_from is not None:
        rows = [
            [
                c if n < label_from or not c.plain else Text(f"{header[n]}: ") + c
                for n, c in enumerate(r)
            ]
            for r in rows
        ]
    for row in rows:
        console.print(Text("  ").join(c for c in row[:below] if c.plain), soft_wrap=True)
        for cell in row[below:]:
            if cell.plain:
                console.print(Text("    ") + cell, soft_wrap=True)


def _line_style(line: str) -> str:
    return {"+": "green", "-": "red", "~": "yellow"}.get(line[:1], "")


# ------------------------------------------------------------------------------ json


def render_json(plans: Sequence[Plan], warnings: Sequence[Diagnostic] = ()) -> str:
    """The plan document (``format_version`` 1), sorted keys, as ``--out`` saves it, with the
    warnings its inputs gave as ``warnings: [{path, line, message}]`` in the order found, and
    each environment with its plan's fingerprint (`watchmgr.fingerprint`)."""
    from watchmgr.fingerprint import fingerprint

    data = {**document(plans), "warnings": [warning_record(w) for w in warnings]}
    ordered = sorted(plans, key=lambda p: p.environment)  # as `document` orders them
    for entry, plan in zip(data["environments"], ordered, strict=True):
        entry["fingerprint"] = fingerprint(plan)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def warning_record(diagnostic: Diagnostic) -> dict[str, Any]:
    """A diagnostic as JSON: where (``line`` null for a whole file or the command) and what."""
    (record,) = documents.diagnostics([diagnostic])
    return record


# ------------------------------------------------------------------------------ markdown


def render_markdown(plans: Sequence[Plan], limit: int = MARKDOWN_LIMIT) -> str:
    """Markdown for a pull-request comment: a table per environment, diffs folded away, at
    most `limit` characters (`watchmgr.output.markdown`)."""
    from watchmgr.output import markdown

    return markdown.render(plans, limit)


# ------------------------------------------------------------------------------ results


def render_report(report: Report, console: Console) -> None:
    """The per-watch result table of an apply, then one summary line."""
    if report.results:
        rows = []
        for result in report.results:
            style = (
                "green" if result.ok else ("yellow" if result.outcome is Outcome.SKIPPED else "red")
            )
            rows.append(
                (
                    Text(result.watch_id),
                    Text(result.action.value),
                    Text(result.outcome, style=style),
                    Text(result.message),
                )
            )
        print_rows(console, ("watch", "action", "result", "detail"), rows, below=3)
    done = report.count(Outcome.DONE)
    failed = len(report.results) - done
    console.print(
        Text(
            f"Apply {report.environment}: {done} done, {failed} not done"
            + (f" ({report.retries} requests retried)" if report.retries else "")
            + ".",
            style="bold" if report.ok else "bold red",
        )
    )
