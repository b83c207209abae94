"""`watchmgr github ...`: what the GitOps workflows do on GitHub, without third-party actions.

Each command reads what `watchmgr plan` wrote (Markdown or a JSON plan), talks to
``$GITHUB_API_URL`` with ``$GITHUB_TOKEN`` through `watchmgr.github`, and says on stderr what it
did. Nothing here talks to a cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.group import DetailedExitCodeGroup
from watchmgr.cli.options import (
    AuthorOpt,
    CommentPrOpt,
    CommitOpt,
    MarkdownArg,
    PlanExitCodeOpt,
    PlanFileToCheckArg,
    PrOpt,
    RepoOpt,
    ReviewedEnvOpt,
    RootOpt,
)
from watchmgr.errors import Diagnostics, ExitCode

if TYPE_CHECKING:
    from watchmgr.fingerprint import Marker
    from watchmgr.github import GitHub

app = typer.Typer(
    cls=DetailedExitCodeGroup,  # the CLI's own group: one way to show arguments and usage errors
    help="Post plans on pull requests, check what was reviewed, keep drift issues (for CI).",
    no_args_is_help=True,
)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        fail(f"{path}: cannot read it: {err.strerror}")


def _connect(repo: str | None) -> GitHub:
    from watchmgr import github

    return github.connect(os.environ, repo)


@app.command("comment")
def comment(
    markdown: MarkdownArg,
    pr: CommentPrOpt,
    repo: RepoOpt = None,
    author: AuthorOpt = "github-actions[bot]",
) -> None:
    """Post one environment's plan on a pull request as its sticky comment.

    The environment's comment is edited in place when it exists (found by the hidden marker in
    it, and its author), so every push updates one comment per environment.
    """
    from watchmgr import github
    from watchmgr.output import messages

    text = _read(markdown)
    with reporting():
        posted = github.upsert_comment(_connect(repo), pr, text, str(markdown), author)
    messages.note(f"{posted.action} the plan comment on pull request #{pr}: {posted.url or ''}")


@app.command("check-reviewed")
def check_reviewed(
    planfile: PlanFileToCheckArg,
    env_name: ReviewedEnvOpt,
    pr: PrOpt = None,
    commit: CommitOpt = None,
    repo: RepoOpt = None,
    author: AuthorOpt = "github-actions[bot]",
    root: RootOpt = Path("."),
) -> None:
    """Succeed only if a fresh plan is the plan reviewed on the pull request.

    Compares the plan's fingerprint with the one in the pull request's plan comment for the
    environment. When they differ it fails with 'plan changed since review' and the watches
    that differ; it never writes to a cluster. Exit codes: 0 the same plan; 1 another plan, or
    no reviewed plan found; 2 usage error.
    """
    from watchmgr import workflow
    from watchmgr.fingerprint import marker_of
    from watchmgr.output import messages

    if (pr is None) == (commit is None):
        fail("give exactly one of --pr and --commit", ExitCode.USAGE)
    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        fresh = marker_of(workflow.saved_plan(planfile, env))
        number = _check_reviewed(_connect(repo), pr, commit, env.name, author, fresh, report)
    messages.note(
        f"the plan for environment {env.name!r} is the one reviewed on pull request "
        f"#{number} ({fresh.fingerprint})"
    )


def _check_reviewed(
    gh: GitHub,
    pr: int | None,
    commit: str | None,
    env_name: str,
    author: str,
    fresh: Marker,
    report: Diagnostics,
) -> int:
    """The number of the pull request (given, or that merged `commit`) whose plan comment for
    the environment carries `fresh`'s fingerprint; exit 1 with what differs when it does not."""
    from watchmgr import github
    from watchmgr.output import messages

    number = pr if pr is not None else github.merged_pull_request(gh, str(commit))
    reviewed = github.reviewed_marker(gh, number, env_name, author)
    try:
        github.check_reviewed(reviewed, fresh, number)
    except github.PlanChangedError as err:
        messages.write(report)
        messages.error(str(err))
        for line in err.details:
            messages.note(f"  {line}")
        raise typer.Exit(int(ExitCode.ERROR)) from err
    return number


@app.command("drift")
def drift(
    markdown: MarkdownArg,
    plan_exit_code: PlanExitCodeOpt,
    repo: RepoOpt = None,
    author: AuthorOpt = "github-actions[bot]",
) -> None:
    """Keep one issue per environment open while its cluster differs from the rules.

    Exit codes: 0 done; 1 GitHub refused; 2 usage error (a plan exit code other than 0 or 2:
    a plan that failed says nothing about drift, so the issue is left as it is).
    """
    from watchmgr import github
    from watchmgr.output import messages

    if plan_exit_code not in (0, 2):
        fail(
            f"--plan-exit-code {plan_exit_code}: the plan failed, so nothing is known about "
            "drift; the drift issue is left as it is",
            ExitCode.USAGE,
        )
    text = _read(markdown)
    with reporting():
        posted = github.sync_drift_issue(
            _connect(repo), text, str(markdown), plan_exit_code == 2, author
        )
    messages.note(f"drift issue {posted.action}: {posted.url or 'none open'}")
