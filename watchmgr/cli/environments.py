"""`environments` and `config show`: what the environment files say, resolved."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import RootOpt
from watchmgr.errors import Diagnostics

config_app = typer.Typer(help="Inspect environment configuration.", no_args_is_help=True)


def environments(root: RootOpt = Path(".")) -> None:
    """List the environments (environments/*.yaml) and where each one deploys."""
    from watchmgr.config import list_environments

    with reporting():
        found = list_environments(root)
    if not found:
        fail(f"no environments in {root / 'environments'} (add a <name>.yaml there)")
    width = max(len(info.name) for info in found)
    for info in found:
        sys.stdout.write(f"{info.name:<{width}}  {info.target}\n")


@config_app.command("show")
def config_show(
    env: Annotated[str, typer.Option("--env", "-e", help="The environment to show.")],
    debug: Annotated[
        bool, typer.Option(help="Also show the file and line each setting comes from.")
    ] = False,
    root: RootOpt = Path("."),
) -> None:
    """Print an environment as watchmgr resolves it: extends merged, defaults filled in.

    Secrets are never printed: each shows as the variable that holds it and ***.
    """
    from watchmgr import workflow
    from watchmgr.config import dump_yaml, resolved_config

    report = Diagnostics()
    with reporting(report):
        environment = workflow.environment(root, env, report)
        sys.stdout.write(dump_yaml(resolved_config(environment, os.environ, debug=debug)))
