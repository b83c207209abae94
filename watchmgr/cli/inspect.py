"""`status` and `export`: what is on an environment's cluster, read only."""

from __future__ import annotations

import sys
from pathlib import Path

from watchmgr.cli.errors import busy, fail, reporting
from watchmgr.cli.options import (
    FAIL_ON,
    AllOpt,
    ExportOutOpt,
    FailOnOpt,
    InspectEnvOpt,
    RootOpt,
    StatusFormatOpt,
)
from watchmgr.errors import Diagnostics


def status(
    env: InspectEnvOpt,
    fmt: StatusFormatOpt = "text",
    fail_on: FailOnOpt = None,
    root: RootOpt = Path("."),
) -> None:
    """Show every watch the environment owns on its cluster, worst first.

    For each: failing, inactive, never run or ok; when it last ran, last met its condition
    and was last throttled; its acknowledged actions and the last execution's error.
    """
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
    env: InspectEnvOpt,
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
