"""`status` and `export`: what is on an environment's cluster, read only."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from watchmgr.cli.errors import busy, fail, reporting
from watchmgr.cli.options import RootOpt
from watchmgr.errors import Diagnostics, ExitCode

EnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="The environment (a file in environments/).",
        show_default=False,
    ),
]
StatusFormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="text: a table, worst first; json: the versioned status document.",
    ),
]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="HEALTH",
        help="Exit 1 when a watch is 'unhealthy' (its last run or an action failed), or "
        "'inactive' (that, or deactivated). For CI and monitoring.",
        show_default=False,
    ),
]
AllOpt = Annotated[
    bool,
    typer.Option("--all", help="Every watch on the cluster, not only the environment's own."),
]
ExportOutOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="Write one <id>.json body per watch into this folder (watchmgr owns it, as with "
        "render --out). Without it: one {id, active, body} JSON line per watch on stdout.",
        show_default=False,
    ),
]

FAIL_ON = {"unhealthy": ("failing",), "inactive": ("failing", "inactive")}


def status(
    env: EnvOpt,
    fmt: StatusFormatOpt = "text",
    fail_on: FailOnOpt = None,
    root: RootOpt = Path("."),
) -> None:
    """Show every watch the environment owns on its cluster, worst first.

    For each: failing, inactive, never run or ok; when it last ran, last met its condition
    and was last throttled; its acknowledged actions and the last execution's error.
    """
    if fmt not in ("text", "json"):
        fail(f"unknown format {fmt!r} (use one of: text, json)", ExitCode.USAGE)
    if fail_on is not None and fail_on not in FAIL_ON:
        fail(f"unknown --fail-on {fail_on!r} (use one of: {', '.join(FAIL_ON)})", ExitCode.USAGE)
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import status as output
    from watchmgr.output.plan import console

    report = Diagnostics()
    with reporting(report):
        environment = workflow.environment(root, env, report)
        reading = busy(f"reading the watches of {environment.name}", fmt)
        with connector()(environment) as cluster, reading:
            records = workflow.watch_statuses(cluster)
        if fmt == "json":
            output.render_status_json(environment.name, records)
        else:
            output.render_status_text(environment.name, records, console())
    bad = [r["id"] for r in records if fail_on is not None and r["health"] in FAIL_ON[fail_on]]
    if bad:
        fail(f"{len(bad)} of {len(records)} watches are {fail_on} (--fail-on {fail_on})")


def export(
    env: EnvOpt,
    everything: AllOpt = False,
    out: ExportOutOpt = None,
    root: RootOpt = Path("."),
) -> None:
    """Save the watches on an environment's cluster as JSON, as they are stored.

    The environment's own watches, or every watch with --all: a backup before a first apply
    that prunes. Each body can be PUT back as it is.
    """
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import messages, watches

    report = Diagnostics()
    with reporting(report):
        environment = workflow.environment(root, env, report)
        reading = busy(f"reading the watches of {environment.name}")
        with connector()(environment) as cluster, reading:
            found = workflow.exported(cluster, everything=everything)
        messages.write(report)
        if out is None:
            watches.write_exported(found, sys.stdout)
        else:
            done = watches.write_watch_files(found, out)
            gone = f", removed {len(done.removed)} no longer there" if done.removed else ""
            messages.note(f"exported {messages.plural(done.written, 'watch')} to {out}{gone}")
