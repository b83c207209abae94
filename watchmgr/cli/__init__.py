"""The Typer app: one module per command group, each parsing options, calling
`watchmgr.workflow` and rendering through `watchmgr.output`. Exit codes are decided here.

Heavy modules (pySigma, YAML, the Elasticsearch client, Rich) are imported inside the commands
so that ``watchmgr --help`` stays fast.
"""

from __future__ import annotations

import typer

from watchmgr.cli import convert, environments, github, init, inspect, lock, plan, ruletest
from watchmgr.cli.group import DetailedExitCodeGroup
from watchmgr.cli.options import NoColorOpt, QuietOpt, VerboseOpt, VersionOpt
from watchmgr.errors import ExitCode
from watchmgr.sandbox.cli import sandbox_command

#: Written from `ExitCode`'s meanings, so that the help and the codes cannot drift apart.
EXIT_CODES_HELP = "Exit codes: " + "; ".join(f"{int(c)} {c.meaning}" for c in ExitCode) + "."


app = typer.Typer(
    name="watchmgr",
    cls=DetailedExitCodeGroup,
    help="Deploy Sigma rules as Elasticsearch Watcher watches, per environment.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    version: VersionOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Deploy Sigma rules as Elasticsearch Watcher watches, per environment."""
    import time

    from watchmgr.output import messages

    if quiet and verbose:
        raise typer.BadParameter("give -q or -v, not both", param_hint="'-q' / '-v'")
    messages.configure(verbosity=-1 if quiet else 1 if verbose else 0, color=not no_color)
    started = time.monotonic()
    command = ctx.invoked_subcommand or "watchmgr"
    ctx.call_on_close(
        lambda: messages.detail(f"watchmgr {command}: {time.monotonic() - started:.2f} s")
    )


app.command("render")(convert.render)
app.command("validate")(convert.validate)
app.command("environments")(environments.environments)
app.command("pipelines")(environments.pipelines)
app.add_typer(environments.config_app, name="config")
app.command("plan")(plan.plan_command)
app.command("apply")(plan.apply_command)
app.command("destroy")(plan.destroy_command)
app.command("status")(inspect.status)
app.command("export")(inspect.export)
app.command("unlock")(lock.unlock_command)
app.command("sandbox")(sandbox_command)
app.command("test")(ruletest.test_command)
app.command("check")(ruletest.check_command)
app.add_typer(github.app, name="github")
app.command("init")(init.init)


def main() -> None:
    """Console-script entry point."""
    import sys

    from watchmgr.cli.errors import silence_stdout
    from watchmgr.errors import ExitCode

    try:
        app()
    except SystemExit:
        try:  # what is still buffered goes now, while a closed pipe can end quietly
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
            sys.exit(int(ExitCode.BROKEN_PIPE))
        raise
