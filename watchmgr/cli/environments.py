"""`environments` and `config show`: what the environment files say, resolved."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import (
    ConfigEnvOpt,
    ConfigFormatOpt,
    DebugOpt,
    EnvironmentsFormatOpt,
    PipelinesFormatOpt,
    RootOpt,
)
from watchmgr.errors import Diagnostics

config_app = typer.Typer(help="Inspect environment configuration.", no_args_is_help=True)


def environments(
    fmt: EnvironmentsFormatOpt = "text",
    root: RootOpt = Path("."),
) -> None:
    """List the environments (environments/*.yaml) and where each one deploys."""
    from watchmgr.config import list_environments
    from watchmgr.output import documents

    with reporting():
        found = list_environments(root)
    if fmt == "json":
        documents.write(documents.environments(found))
        return
    if not found:
        fail(f"no environments in {root / 'environments'} (add a <name>.yaml there)")
    width = max(len(info.name) for info in found)
    for info in found:
        sys.stdout.write(f"{info.name:<{width}}  {info.target}\n")


@config_app.command("show")
def config_show(
    env: ConfigEnvOpt,
    debug: DebugOpt = False,
    fmt: ConfigFormatOpt = "yaml",
    root: RootOpt = Path("."),
) -> None:
    """Print an environment as watchmgr resolves it: extends merged, defaults filled in.

    Secrets are never printed: each shows as the variable that holds it and ***.
    """
    from watchmgr import workflow
    from watchmgr.config import dump_yaml, resolved_config
    from watchmgr.output import documents

    report = Diagnostics()
    with reporting(report):
        environment = workflow.environment(root, env, report)
        resolved = resolved_config(environment, os.environ, debug=debug)
        if fmt == "json":
            documents.write({"environment": resolved})
        else:
            sys.stdout.write(dump_yaml(resolved))


def pipelines(
    fmt: PipelinesFormatOpt = "text",
) -> None:
    """List the installed pySigma processing pipelines an environment's mapping.pipelines can
    name (as sigma-cli's 'list pipelines' does): identifier, priority, backends, description."""
    from watchmgr import workflow
    from watchmgr.output import documents
    from watchmgr.output.plan import console, print_rows

    with reporting():
        found = workflow.installed_pipelines()
    if fmt == "json":
        documents.write({"pipelines": found})
        return
    from rich.text import Text

    rows = [
        (
            Text(p["identifier"]),
            Text("" if p["priority"] is None else str(p["priority"])),
            Text(", ".join(p["backends"]) or "any"),
            Text(p["name"]),
        )
        for p in found
    ]
    print_rows(console(), ("identifier", "priority", "backends", "description"), rows, below=3)
