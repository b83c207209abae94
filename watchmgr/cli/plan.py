"""`plan`, `apply` and `destroy`: options in, `watchmgr.workflow` called, plans and reports
rendered.

Data goes to stdout, messages and the progress bar to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import (
    AdoptOpt,
    ApplyEnvOpt,
    ApplyFormatOpt,
    DetailedOpt,
    EnvsOpt,
    MappingCheckOpt,
    MassDeleteOpt,
    ParallelismOpt,
    PlanAdoptOpt,
    PlanFileArg,
    PlanFormatOpt,
    PlanOutOpt,
    PlanRootOpt,
    TargetOpt,
    YesOpt,
    tuning,
)
from watchmgr.errors import Diagnostics, ExitCode, of_severity

if TYPE_CHECKING:
    from watchmgr.apply import Report, Result
    from watchmgr.cluster import Cluster
    from watchmgr.plan import Plan
    from watchmgr.workflow import Plans

#: Writes at once, at most: `.watches` is a single-shard index (watcher-api.md §5).
MAX_PARALLELISM = 64


def plan_command(
    envs: EnvsOpt = None,
    fmt: PlanFormatOpt = "text",
    detailed_exitcode: DetailedOpt = False,
    out: PlanOutOpt = None,
    adopt: PlanAdoptOpt = False,
    target: TargetOpt = None,
    mapping_check: MappingCheckOpt = True,
    root: PlanRootOpt = Path("."),
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

    _check_out(out, ExitCode.USAGE_DETAILED if detailed_exitcode else ExitCode.USAGE)
    targets = workflow.Targets(target, root) if target else None
    options = workflow.PlanOptions(adopt, out is not None, mapping_check, targets)
    report = Diagnostics()
    with reporting(report):
        planned = workflow.plan_environments(
            root, envs or [], connector(), report, options, tuning()
        )
        warnings = of_severity(report, "warning")
        messages.write(report)
        plan.render(planned.plans, fmt, warnings)
        if out is not None:
            _save(plan.render_json(planned.plans, warnings), out)
    _exit(planned, detailed_exitcode)


def _check_out(out: Path | None, usage: ExitCode) -> None:
    """Refuse an --out that cannot be a file to write, before anything is planned."""
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        problem = "is a directory" if out.is_dir() else "is in a directory that does not exist"
        fail(f"--out {out} {problem}; give the path of a file to write", usage)


def _exit(planned: Plans, detailed_exitcode: bool) -> None:
    """Exit 1 for a plan that failed or that apply would refuse; 2 for pending changes when
    --detailed-exitcode asks."""
    from watchmgr import workflow
    from watchmgr.output import messages

    refused = [r for r in map(workflow.refusal, planned.plans) if r is not None]
    for line in refused:
        messages.error(line)
    if planned.failed or refused:
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
    target: TargetOpt = None,
    mapping_check: MappingCheckOpt = True,
    fmt: ApplyFormatOpt = "text",
    root: PlanRootOpt = Path("."),
) -> None:
    """Make an environment's cluster hold exactly its rules' watches.

    Shows the plan and asks before writing (unless --yes). Creates and updates run first,
    deletes last; updates are conditional, so a watch changed meanwhile is reported as a
    conflict, not overwritten. Exit codes: 0 everything applied; 1 anything not applied or an
    environment, rule or cluster problem; 2 usage error.
    """
    _check_apply_options(parallelism, yes, bool(target) and planfile is not None)
    from watchmgr import workflow
    from watchmgr.cli.local import connector

    targets = workflow.Targets(target, root) if target else None
    options = workflow.PlanOptions(adopt, False, mapping_check, targets)
    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        saved = workflow.saved_plan(planfile, env) if planfile is not None else None
        source = saved if saved is not None else workflow.desired(env, report, tuning())
        with connector(parallelism)(env) as cluster:
            chosen = workflow.plan_to_apply(
                env, cluster, source, planfile, report, options, allow_mass_delete=allow_mass_delete
            )
            done = _apply(chosen, cluster, report, parallelism, yes, fmt, saved is not None)
        _show_report(done, env.name, fmt)
    if done is not None and not done.ok:
        fail(workflow.not_applied(done, planfile))


def destroy_command(
    env_name: ApplyEnvOpt,
    yes: YesOpt = False,
    parallelism: ParallelismOpt = 8,
    fmt: ApplyFormatOpt = "text",
    root: PlanRootOpt = Path("."),
) -> None:
    """Delete every watch the environment owns on its cluster, and nothing else.

    Terraform's destroy: the plan of no rules is shown, asked about (unless --yes) and applied
    as apply does (under the environment's lock, each watch checked again first). Watches
    other environments or people own are never touched. Exit codes as apply.
    """
    _check_apply_options(parallelism, yes, command="destroy")
    from watchmgr import workflow
    from watchmgr.cli.local import connector

    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        with connector(parallelism)(env) as cluster:
            chosen = workflow.destroy_plan(env, cluster)
            question = f"Delete all {len(chosen.pending())} watches of environment {env.name!r}?"
            done = _apply(chosen, cluster, report, parallelism, yes, fmt, False, question)
        _show_report(done, env.name, fmt)
    if done is not None and not done.ok:
        fail(workflow.not_applied(done, None))


def _apply(
    chosen: Plan,
    cluster: Cluster,
    report: Diagnostics,
    parallelism: int,
    yes: bool,
    fmt: str,
    saved: bool,
    question: str | None = None,
) -> Report | None:
    """Show the plan, ask (unless `yes`) and execute it with a progress bar; None when there
    was nothing to do."""
    from watchmgr import workflow
    from watchmgr.output import messages

    messages.write(report)
    _show_plan(chosen, fmt)
    if not chosen.has_changes:
        return None
    _confirm(yes, chosen.environment, question)
    with _progress(chosen, fmt) as progress:
        return workflow.apply(
            chosen, cluster, parallelism=parallelism, saved=saved, progress=progress
        )


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


def _check_apply_options(
    parallelism: int, yes: bool, targeted_saved_plan: bool = False, command: str = "apply"
) -> None:
    if not 1 <= parallelism <= MAX_PARALLELISM:
        fail(
            f"--parallelism must be between 1 and {MAX_PARALLELISM}, not {parallelism} (every "
            "watch lives in one shard of .watches: more writes at once only get 429s)",
            ExitCode.USAGE,
        )
    if not yes and not sys.stdin.isatty():
        fail(
            f"{command} asks before writing and stdin is not a terminal; pass --yes to "
            f"{command} without asking",
            ExitCode.USAGE,
        )
    if targeted_saved_plan:
        fail(
            "--target cannot narrow a saved plan: make the plan with --target and apply that",
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
