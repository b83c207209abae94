"""`plan` and `apply`: options in, `watchmgr.workflow` called, plans and reports rendered.

Data goes to stdout, messages and the progress bar to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import tuning
from watchmgr.errors import Diagnostics, ExitCode

if TYPE_CHECKING:
    from watchmgr.apply import Result
    from watchmgr.plan import Plan

#: Writes at once, at most: `.watches` is a single-shard index (watcher-api.md §5).
MAX_PARALLELISM = 64

EnvsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        "-e",
        help="Environment to plan (a file in environments/). Repeat it for several; "
        "without it every environment is planned.",
        show_default=False,
    ),
]
RootOpt = Annotated[
    Path,
    typer.Option(
        "--root",
        help="The repository root, which holds environments/ and the rule paths.",
    ),
]


PlanFormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="text: tables and field diffs for people; json: the versioned plan document; "
        "markdown: for a pull-request comment, diffs folded away.",
    ),
]
DetailedOpt = Annotated[
    bool,
    typer.Option(
        "--detailed-exitcode",
        help="Exit 0 when nothing would change, 2 when changes are pending, and any other "
        "code (never 2) on errors, usage errors included.",
    ),
]
PlanOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Also save the plan as JSON to this file, for 'watchmgr apply --env E FILE'.",
    ),
]
ApplyEnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        help="The environment to apply (a file in environments/).",
        show_default=False,
    ),
]
PlanFileArg = Annotated[
    Path | None,
    typer.Argument(
        help="A plan saved by 'watchmgr plan --out'. Applied exactly as saved, and refused "
        "if any watch it touches changed since. Without it a fresh plan is made.",
        show_default=False,
    ),
]
YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Apply without asking. Required when stdin is not a terminal (CI).",
    ),
]
ParallelismOpt = Annotated[
    int,
    typer.Option("--parallelism", help="How many watches to write at the same time (1 to 64)."),
]
MassDeleteOpt = Annotated[
    bool,
    typer.Option(
        "--allow-mass-delete",
        help="Apply a plan that deletes more than 5 watches and more than 20 % of the "
        "environment's watches, or all of them.",
    ),
]
AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over watches at the rules' ids that watchmgr does not own (for example "
        "ones sigmac deployed) instead of refusing them.",
    ),
]


def plan_command(
    envs: EnvsOpt = None,
    fmt: PlanFormatOpt = "text",
    detailed_exitcode: DetailedOpt = False,
    out: PlanOutOpt = None,
    root: RootOpt = Path("."),
) -> None:
    """Show what apply would change on each environment's cluster, changing nothing.

    Lists '+ create', '~ update', '- delete', '< adopt' and '! conflict' per watch, with the
    field differences of each. Exit codes: 0 success; 1 an environment, rule or cluster problem;
    with --detailed-exitcode 0 no changes, 2 changes pending, 1 errors, 64 usage errors.
    """
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import messages, plan

    usage = ExitCode.USAGE_DETAILED if detailed_exitcode else ExitCode.USAGE
    if fmt not in plan.FORMATS:
        fail(f"unknown format {fmt!r} (use one of: {', '.join(plan.FORMATS)})", usage)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        problem = "is a directory" if out.is_dir() else "is in a directory that does not exist"
        fail(f"--out {out} {problem}; give the path of a file to write", usage)
    report = Diagnostics()
    with reporting(report):
        planned = workflow.plan_environments(
            root, envs or [], connector(), report, with_uuid=out is not None, tuning=tuning()
        )
        messages.write(report)
        plan.render(planned.plans, fmt)
        if out is not None:
            _save(plan.render_json(planned.plans), out)
    if planned.failed:
        raise typer.Exit(int(ExitCode.ERROR))
    if detailed_exitcode and planned.has_changes:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def _save(document: str, out: Path) -> None:
    from watchmgr.output import messages

    try:
        out.write_text(document, encoding="utf-8")
    except OSError as err:
        fail(f"{out}: cannot save the plan: {err.strerror}")
    messages.note(f"saved the plan to {out}")


def apply_command(
    env_name: ApplyEnvOpt,
    planfile: PlanFileArg = None,
    yes: YesOpt = False,
    parallelism: ParallelismOpt = 8,
    allow_mass_delete: MassDeleteOpt = False,
    adopt: AdoptOpt = False,
    root: RootOpt = Path("."),
) -> None:
    """Make an environment's cluster hold exactly its rules' watches.

    Shows the plan and asks before writing (unless --yes). Creates and updates run first,
    deletes last; updates are conditional, so a watch changed meanwhile is reported as a
    conflict, not overwritten. Exit codes: 0 everything applied; 1 anything not applied or an
    environment, rule or cluster problem; 2 usage error.
    """
    _check_apply_options(parallelism, yes)
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import messages, plan

    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        saved = workflow.saved_plan(planfile, env) if planfile is not None else None
        source = saved if saved is not None else workflow.desired(env, report, tuning())
        with connector(parallelism)(env) as cluster:
            chosen = workflow.plan_to_apply(
                env, cluster, source, planfile, adopt=adopt, allow_mass_delete=allow_mass_delete
            )
            messages.write(report)
            plan.render_text([chosen], plan.console())
            if not chosen.has_changes:
                return
            _confirm(yes, env.name)
            with _progress(chosen) as progress:
                done = workflow.apply(
                    chosen,
                    cluster,
                    parallelism=parallelism,
                    saved=saved is not None,
                    progress=progress,
                )
        plan.render_report(done, plan.console())
    if not done.ok:
        fail(workflow.not_applied(done, planfile))


def _check_apply_options(parallelism: int, yes: bool) -> None:
    if not 1 <= parallelism <= MAX_PARALLELISM:
        fail(
            f"--parallelism must be between 1 and {MAX_PARALLELISM}, not {parallelism} (every "
            "watch lives in one shard of .watches: more writes at once only get 429s)",
            ExitCode.USAGE,
        )
    if not yes and not sys.stdin.isatty():
        fail(
            "apply asks before writing and stdin is not a terminal; pass --yes to apply "
            "without asking",
            ExitCode.USAGE,
        )


def _confirm(yes: bool, env_name: str) -> None:
    if not yes and not typer.confirm(f"Apply these changes to environment {env_name!r}?", err=True):
        fail("apply cancelled; nothing was changed")


@contextmanager
def _progress(chosen: Plan) -> Iterator[Callable[[Result], None] | None]:
    """A progress bar on stderr when it is a terminal: yields what to call per watch."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from watchmgr.output.plan import console

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"applying {chosen.environment}", total=len(chosen.pending()))
        yield lambda _result: bar.advance(task)
