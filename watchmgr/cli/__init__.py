"""The Typer app: one module per command group, each parsing options, calling
`watchmgr.workflow` and rendering through `watchmgr.output`. Exit codes are decided here.

Heavy modules (pySigma, YAML, the Elasticsearch client, Rich) are imported inside the commands
so that ``watchmgr --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from watchmgr import __version__
from watchmgr.cli import convert, environments, plan, ruletest
from watchmgr.cli.group import DetailedExitCodeGroup
from watchmgr.sandbox.cli import sandbox_command

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a rule, file, environment or cluster problem (one line each on "
    "stderr, path:line first); 2 usage error, or with plan --detailed-exitcode: changes "
    "pending (usage errors are 64 there)."
)

app = typer.Typer(
    name="watchmgr",
    cls=DetailedExitCodeGroup,
    help="Deploy Sigma rules as Elasticsearch Watcher watches, per environment.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"watchmgr {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Deploy Sigma rules as Elasticsearch Watcher watches, per environment."""


app.command("render")(convert.render)
app.command("validate")(convert.validate)
app.command("environments")(environments.environments)
app.add_typer(environments.config_app, name="config")
app.command("plan")(plan.plan_command)
app.command("apply")(plan.apply_command)
app.command("sandbox")(sandbox_command)
app.command("test")(ruletest.test_command)
app.command("check")(ruletest.check_command)


def main() -> None:
    """Console-script entry point."""
    app()
