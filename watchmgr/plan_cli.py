"""The `plan` and `apply` commands: option parsing and wiring only.

Register them in cli.py with::

    app = typer.Typer(cls=plan_cli.DetailedExitCodeGroup, ...)
    app.command("plan")(plan_cli.plan_command)
    app.command("apply")(plan_cli.apply_command)

(`DetailedExitCodeGroup` keeps Click's usage errors from exiting 2, "changes pending", when
``--detailed-exitcode`` is anywhere on the command line.) Data goes to stdout, messages and the
progress bar to stderr.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from watchmgr.cli_errors import domain_errors, fail
from watchmgr.errors import ExitCode, WatchmgrError

if TYPE_CHECKING:
    from rich.console import Console

    from watchmgr.apply import Report
    from watchmgr.config import Environment
    from watchmgr.plan import Plan
    from watchmgr.watch import Watch

PLAN_FORMATS = ("text", "json", "markdown")
#: Writes at once, at most: `.watches` is a single-shard index (watcher-api.md §5).
MAX_PARALLELISM = 64


def _usage_error() -> Any:
    """Click's UsageError: recent Typer versions vendor Click, older ones depend on it."""
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            return importlib.import_module(module).UsageError
        except ImportError:
            continue
    raise RuntimeError("neither typer._click nor click is installed")


DETAILED_EXITCODE = "--detailed-exitcode"


class DetailedExitCodeGroup(TyperGroup):
    """The CLI's group: with ``--detailed-exitcode`` anywhere on the command line, a usage error
    exits USAGE_DETAILED (64) instead of Click's 2, which would read as "changes pending".

    The raw command line is looked at, not what Click parsed: the flag may come after the bad
    token, be misspelt into a value (``--detailed-exitcode=1``) or follow an unknown command.
    """

    detailed = False

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        given = sys.argv[1:] if args is None else args
        self.detailed = any(
            a == DETAILED_EXITCODE or a.startswith(f"{DETAILED_EXITCODE}=") for a in given
        )
        # `args` goes on as it came: Click expands wildcards on Windows only when it is None.
        return super().main(args, *rest, **extra)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        with self._usage_exit_code():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with self._usage_exit_code():
            return super().invoke(ctx)

    @contextmanager
    def _usage_exit_code(self) -> Iterator[None]:
        try:
            yield
        except _usage_error() as err:
            if self.detailed:
                err.exit_code = int(ExitCode.USAGE_DETAILED)
            raise


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    # Not a terminal (CI logs, files): wide enough that a table keeps ids and paths on one line.
    return Console(file=stream, width=None if tty else 200, highlight=False, soft_wrap=not tty)


def _desired(env: Environment) -> list[Watch]:
    """The environment's watches, owned; conversion problems are printed, errors refuse."""
    from watchmgr.cache import cache_for
    from watchmgr.convert import convert
    from watchmgr.plan import with_owner

    for warning in env.warnings:
        sys.stderr.write(f"{warning}\n")
    cache = cache_for(env.root, env.fingerprint())
    result = convert(env.rule_paths(), env.settings_for, env.prepare, base=env.root, cache=cache)
    for diagnostic in result.diagnostics:
        sys.stderr.write(f"{diagnostic}\n")
    if result.errors:
        raise WatchmgrError(
            f"{len(result.errors)} error(s) loading the rules (above), so nothing is planned "
            f"for environment {env.name!r}: their watches would look deleted; fix them first"
        )
    root = env.root.resolve()
    return [with_owner(w, env.name, _relative(w.source, root)) for w in result.watches]


def _relative(source: str, root: Path) -> str:
    """A rule path relative to the repository root, whatever the working directory is."""
    try:
        return Path(os.path.abspath(source)).relative_to(root).as_posix()
    except ValueError:
        return source


def _plan_for(
    env: Environment, cluster: Any, desired: list[Watch], *, adopt: bool, with_uuid: bool = False
) -> Plan:
    """The plan of `desired` against the cluster, with the environment's own options."""
    from watchmgr.apply import read_plan

    return read_plan(
        cluster,
        desired,
        prune=env.prune,
        respect_remote_active=env.respect_remote_active,
        adopt=adopt,
        with_uuid=with_uuid,
    )


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


def plan_command(
    envs: EnvsOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="text: tables and field diffs for people; json: the versioned plan document; "
            "markdown: for a pull-request comment, diffs folded away.",
        ),
    ] = "text",
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 0 when nothing would change, 2 when changes are pending, and any other "
            "code (never 2) on errors, usage errors included.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also save the plan as JSON to this file, for 'watchmgr apply --env E FILE'.",
        ),
    ] = None,
    root: RootOpt = Path("."),
) -> None:
    """Show what apply would change on each environment's cluster, changing nothing.

    Lists '+ create', '~ update', '- delete', '< adopt' and '! conflict' per watch, with the
    field differences of each. Exit codes: 0 success; 1 an environment, rule or cluster problem;
    with --detailed-exitcode 0 no changes, 2 changes pending, 1 errors, 64 usage errors.
    """
    usage = ExitCode.USAGE_DETAILED if detailed_exitcode else ExitCode.USAGE
    if fmt not in PLAN_FORMATS:
        fail(f"unknown format {fmt!r} (use one of: {', '.join(PLAN_FORMATS)})", usage)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        problem = "is a directory" if out.is_dir() else "is in a directory that does not exist"
        fail(f"--out {out} {problem}; give the path of a file to write", usage)
    from watchmgr import plan_output
    from watchmgr.cluster import connect
    from watchmgr.config import list_environments, load_environment
    from watchmgr.plan import PlanError, check_mass_delete

    names = list(dict.fromkeys(envs)) if envs else None
    failed = False
    plans: list[Plan] = []
    with domain_errors():
        if names is None:
            names = [info.name for info in list_environments(root)]
            if not names:
                raise WatchmgrError(f"no environments in {root / 'environments'}")
    for name in names:
        try:
            env = load_environment(root, name)
            with connect(env) as cluster:
                plan = _plan_for(
                    env, cluster, _desired(env), adopt=False, with_uuid=out is not None
                )
        except WatchmgrError as err:
            sys.stderr.write(f"watchmgr: {err}\n")
            failed = True
            continue
        plans.append(plan)
        try:
            check_mass_delete(plan, allow=False)
        except PlanError as err:  # the plan is shown all the same: apply will refuse it
            sys.stderr.write(f"watchmgr: warning: {err}\n")
    with domain_errors():
        if fmt == "json":
            sys.stdout.write(plan_output.render_json(plans))
        elif fmt == "markdown":
            sys.stdout.write(plan_output.render_markdown(plans))
        else:
            plan_output.render_text(plans, _console())
        if out is not None:
            try:
                out.write_text(plan_output.render_json(plans), encoding="utf-8")
            except OSError as err:
                fail(f"{out}: cannot save the plan: {err.strerror}")
            sys.stderr.write(f"saved the plan to {out}\n")
    if failed:
        raise typer.Exit(int(ExitCode.ERROR))
    if detailed_exitcode and any(p.has_changes for p in plans):
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def apply_command(
    env_name: Annotated[
        str,
        typer.Option(
            "--env",
            "-e",
            help="The environment to apply (a file in environments/).",
            show_default=False,
        ),
    ],
    planfile: Annotated[
        Path | None,
        typer.Argument(
            help="A plan saved by 'watchmgr plan --out'. Applied exactly as saved, and refused "
            "if any watch it touches changed since. Without it a fresh plan is made.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Apply without asking. Required when stdin is not a terminal (CI).",
        ),
    ] = False,
    parallelism: Annotated[
        int,
        typer.Option("--parallelism", help="How many watches to write at the same time (1 to 64)."),
    ] = 8,
    allow_mass_delete: Annotated[
        bool,
        typer.Option(
            "--allow-mass-delete",
            help="Apply a plan that deletes more than 5 watches and more than 20 % of the "
            "environment's watches, or all of them.",
        ),
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Take over watches at the rules' ids that watchmgr does not own (for example "
            "ones sigmac deployed) instead of refusing them.",
        ),
    ] = False,
    root: RootOpt = Path("."),
) -> None:
    """Make an environment's cluster hold exactly its rules' watches.

    Shows the plan and asks before writing (unless --yes). Creates and updates run first,
    deletes last; updates are conditional, so a watch changed meanwhile is reported as a
    conflict, not overwritten. Exit codes: 0 everything applied; 1 anything not applied or an
    environment, rule or cluster problem; 2 usage error.
    """
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
    from watchmgr import plan_output
    from watchmgr.apply import apply_plan, check_cluster
    from watchmgr.cluster import connect
    from watchmgr.config import load_environment
    from watchmgr.plan import check_mass_delete, plan_from_document, with_adoptions

    with domain_errors():
        env = load_environment(root, env_name)
        saved = None
        if planfile is not None:
            data = _read_plan_file(planfile)
            saved = plan_from_document(data, env.name, str(planfile))
        desired = _desired(env) if saved is None else None
        with connect(env, parallelism=parallelism) as cluster:
            if saved is not None:
                plan = saved
                check_cluster(cluster, plan, str(planfile))
                if adopt:
                    plan = with_adoptions(plan)
            else:
                assert desired is not None
                plan = _plan_for(env, cluster, desired, adopt=adopt)
            check_mass_delete(plan, allow_mass_delete)
            out = _console()
            plan_output.render_text([plan], out)
            if not plan.has_changes:
                return
            if not yes and not typer.confirm(
                f"Apply these changes to environment {env.name!r}?", err=True
            ):
                fail("apply cancelled; nothing was changed")
            report = _run(apply_plan, cluster, plan, parallelism, saved is not None)
        plan_output.render_report(report, out)
    if not report.ok:
        fail(_not_applied(report, planfile))


def _not_applied(report: Report, planfile: Path | None) -> str:
    """The one line on stderr for an apply that did not apply everything."""
    if report.interrupted:
        done = report.count("done")
        return (
            f"interrupted: {done} of {len(report.results)} changes applied, the others not "
            "(the table above says which); run plan to see what is left"
        )
    if report.stale:
        first = next(r for r in report.results if r.watch_id == report.stale[0])
        more = f" and {len(report.stale) - 1} more" if len(report.stale) > 1 else ""
        what = f"{first.watch_id!r} {first.message}{more}"
        if planfile is not None:
            return (
                f"{planfile}: the plan is stale, nothing was written: {what}; make the plan again"
            )
        return f"nothing was written: {what}; run apply again"
    counts = {o: report.count(o) for o in ("conflict", "failed", "skipped")}
    parts = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    missed = len(report.results) - report.count("done")
    return f"{missed} of {len(report.results)} changes not applied ({parts}); see the table above"


def _read_plan_file(path: Path) -> Any:
    from watchmgr.plan import PlanError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanError(f"{path}: cannot read the plan file: {err.strerror}") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise PlanError(f"{path}:{err.lineno}: not a JSON plan file: {err.msg}") from err


def _run(apply_plan: Any, cluster: Any, plan: Plan, parallelism: int, saved: bool) -> Any:
    """Apply with a progress bar on stderr when it is a terminal."""
    changes: Sequence[Any] = plan.pending()
    if not sys.stderr.isatty():
        return apply_plan(cluster, plan, parallelism=parallelism, check_first=saved)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"applying {plan.environment}", total=len(changes))
        return apply_plan(
            cluster,
            plan,
            parallelism=parallelism,
            check_first=saved,
            progress=lambda _result: bar.advance(task),
        )
