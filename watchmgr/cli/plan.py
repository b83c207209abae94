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
from watchmgr.errors import Diagnostics, ExitCode, of_severity

if TYPE_CHECKING:
    from watchmgr.apply import Report, Result
    from watchmgr.plan import Plan
    from watchmgr.workflow import Targets

#: Writes at once, at most: `.watches` is a single-shard index (watcher-api.md §5).
MAX_PARALLELISM = 64

EnvsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="Environment to plan (a file in environments/). Repeat it for several; "
        "without it every environment is planned.",
        show_default=False,
    ),
]
RootOpt = Annotated[
    Path,
    typer.Option(
        "--root",
        metavar="DIR",
        help="The repository root, which holds environments/ and the rule paths.",
        show_default=".",
    ),
]


PlanFormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
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
        metavar="FILE",
        help="Also save the plan as JSON to this file, for 'watchmgr apply --env E FILE'.",
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        metavar="TARGET",
        help="Limit the plan to some rules and their watches: a rule file, folder or glob, a "
        "watch id or a Sigma rule id. Repeat it for several. Deletes then reach only the "
        "targeted watches.",
        show_default=False,
    ),
]
ApplyFormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="text: the plan, then a table of results; json: the results as a versioned "
        "document on stdout (the plan goes to stderr for people).",
    ),
]
PlanAdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Show watches at the rules' ids that watchmgr does not own as adoptions (what "
        "'apply --adopt' does) instead of conflicts.",
    ),
]
ApplyEnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="The environment to apply (a file in environments/).",
        show_default=False,
    ),
]
PlanFileArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="PLANFILE",
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
    typer.Option(
        "--parallelism", metavar="N", help="How many watches to write at the same time (1 to 64)."
    ),
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
    adopt: PlanAdoptOpt = False,
    target: TargetOpt = None,
    root: RootOpt = Path("."),
) -> None:
    """Show what apply would change on each environment's cluster, changing nothing.

    Lists '+ create', '~ update', '- delete', '< adopt' and '! conflict' per watch, with the
    field differences of each. Exit codes: 0 success; 1 an environment, rule or cluster problem,
    or a plan apply would refuse (watches in conflict); with --detailed-exitcode 0 no
    changes, 2 changes pending, 1 errors, 64 usage errors.
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
    targets = workflow.Targets(target, root) if target else None
    with reporting(report):
        planned = workflow.plan_environments(
            root,
            envs or [],
            connector(),
            report,
            with_uuid=out is not None,
            tuning=tuning(),
            adopt=adopt,
            targets=targets,
        )
        _check_targets(targets, planned.failed)
        warnings = of_severity(report, "warning")
        messages.write(report)
        plan.render(planned.plans, fmt, warnings)
        if out is not None:
            _save(plan.render_json(planned.plans, warnings), out)
    refused = [r for r in map(workflow.refusal, planned.plans) if r is not None]
    for line in refused:
        messages.error(line)
    if planned.failed or refused:
        raise typer.Exit(int(ExitCode.ERROR))
    if detailed_exitcode and planned.has_changes:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def _check_targets(targets: Targets | None, failed: int = 0) -> None:
    """Refuse a --target that matched nothing: most likely a typo, and the plan would be empty."""
    missed = targets.unmatched() if targets is not None and not failed else []
    if missed:
        shown = ", ".join(repr(t) for t in missed)
        fail(
            f"--target {shown} matches no rule or watch (give a rule file, folder or glob, a "
            "watch id or a Sigma rule id)"
        )


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
    target: TargetOpt = None,
    fmt: ApplyFormatOpt = "text",
    root: RootOpt = Path("."),
) -> None:
    """Make an environment's cluster hold exactly its rules' watches.

    Shows the plan and asks before writing (unless --yes). Creates and updates run first,
    deletes last; updates are conditional, so a watch changed meanwhile is reported as a
    conflict, not overwritten. Exit codes: 0 everything applied; 1 anything not applied or an
    environment, rule or cluster problem; 2 usage error.
    """
    _check_apply_options(parallelism, yes, fmt)
    if target and planfile is not None:
        fail(
            "--target cannot narrow a saved plan: make the plan with --target and apply that",
            ExitCode.USAGE,
        )
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import messages

    report = Diagnostics()
    targets = workflow.Targets(target, root) if target else None
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        saved = workflow.saved_plan(planfile, env) if planfile is not None else None
        source = saved if saved is not None else workflow.desired(env, report, tuning())
        with connector(parallelism)(env) as cluster:
            chosen = workflow.plan_to_apply(
                env,
                cluster,
                source,
                planfile,
                adopt=adopt,
                allow_mass_delete=allow_mass_delete,
                targets=targets,
            )
            _check_targets(targets)
            if saved is not None and planfile is not None:
                workflow.stale_plan(cluster, chosen, planfile)
            messages.write(report)
            _show_plan(chosen, fmt)
            if not chosen.has_changes:
                _show_report(None, env.name, fmt)
                return
            _confirm(yes, env.name)
            with _progress(chosen, fmt) as progress:
                done = workflow.apply(
                    chosen,
                    cluster,
                    parallelism=parallelism,
                    saved=saved is not None,
                    progress=progress,
                )
        _show_report(done, env.name, fmt)
    if not done.ok:
        fail(workflow.not_applied(done, planfile))


def destroy_command(
    env_name: ApplyEnvOpt,
    yes: YesOpt = False,
    parallelism: ParallelismOpt = 8,
    fmt: ApplyFormatOpt = "text",
    root: RootOpt = Path("."),
) -> None:
    """Delete every watch the environment owns on its cluster, and nothing else.

    Terraform's destroy: the plan of no rules is shown, asked about (unless --yes) and applied
    as apply does (under the environment's lock, each watch checked again first). Watches
    other environments or people own are never touched. Exit codes as apply.
    """
    _check_apply_options(parallelism, yes, fmt)
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import messages

    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        with connector(parallelism)(env) as cluster:
            chosen = workflow.destroy_plan(env, cluster)
            messages.write(report)
            _show_plan(chosen, fmt)
            if not chosen.has_changes:
                _show_report(None, env.name, fmt)
                return
            deletes = len(chosen.pending())
            _confirm(yes, env.name, f"Delete all {deletes} watches of environment {env.name!r}?")
            with _progress(chosen, fmt) as progress:
                done = workflow.apply(
                    chosen, cluster, parallelism=parallelism, saved=False, progress=progress
                )
        _show_report(done, env.name, fmt)
    if not done.ok:
        fail(workflow.not_applied(done, None))


def _show_plan(chosen: Plan, fmt: str) -> None:
    """The plan for people: on stdout, or on stderr when stdout carries the JSON results."""
    from watchmgr.output import plan

    plan.render_text([chosen], plan.console(stderr=fmt == "json"))


def _show_report(done: Report | None, environment: str, fmt: str) -> None:
    """The results (None: nothing to do) as a table, or as the versioned JSON document."""
    from watchmgr.apply import Report
    from watchmgr.output import documents, plan

    if fmt == "json":
        documents.write(documents.report(done or Report(environment, ())))
    elif done is not None:
        plan.render_report(done, plan.console())


def _check_apply_options(parallelism: int, yes: bool, fmt: str = "text") -> None:
    if fmt not in ("text", "json"):
        fail(f"unknown format {fmt!r} (use one of: text, json)", ExitCode.USAGE)
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


def _confirm(yes: bool, env_name: str, question: str | None = None) -> None:
    question = question or f"Apply these changes to environment {env_name!r}?"
    if not yes and not typer.confirm(question, err=True):
        fail("cancelled; nothing was changed")


@contextmanager
def _progress(chosen: Plan, fmt: str = "text") -> Iterator[Callable[[Result], None] | None]:
    """A progress bar on stderr when it is a terminal and the output is for people (never in
    a pipe, a log or with --format json): yields what to call per watch."""
    from watchmgr.output import messages

    if fmt == "json" or not messages.stderr_is_terminal():
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
