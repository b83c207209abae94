"""`watchmgr github ...`: what the GitOps workflows do on GitHub, without third-party actions.

Each command reads what `watchmgr plan` wrote (Markdown or a JSON plan), talks to
``$GITHUB_API_URL`` with ``$GITHUB_TOKEN`` through `watchmgr.github`, and says on stderr what it
did. Nothing here talks to a cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.group import DetailedExitCodeGroup
from watchmgr.cli.options import RootOpt
from watchmgr.errors import Diagnostics, ExitCode

if TYPE_CHECKING:
    from watchmgr.github import GitHub

app = typer.Typer(
    cls=DetailedExitCodeGroup,  # the CLI's own group: one way to show arguments and usage errors
    help="Post plans on pull requests, check what was reviewed, keep drift issues (for CI).",
    no_args_is_help=True,
)

MarkdownArg = Annotated[
    Path,
    typer.Argument(
        help="The Markdown of one environment's plan ('watchmgr plan --env E --format markdown').",
        metavar="MARKDOWN",
        show_default=False,
    ),
]
RepoOpt = Annotated[
    str | None,
    typer.Option(
        "--repo",
        metavar="OWNER/NAME",
        help="The repository as owner/name. Default: $GITHUB_REPOSITORY, as Actions sets it.",
        show_default=False,
    ),
]
AuthorOpt = Annotated[
    str,
    typer.Option(
        "--author",
        metavar="LOGIN",
        help="Whose comments and issues are watchmgr's: the account GITHUB_TOKEN belongs to.",
    ),
]
PrOpt = Annotated[
    int | None,
    typer.Option(
        "--pr", metavar="NUMBER", help="The pull request's number.", show_default=False, min=1
    ),
]


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
    pr: Annotated[
        int, typer.Option("--pr", metavar="NUMBER", help="The pull request's number.", min=1)
    ],
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
    planfile: Annotated[
        Path,
        typer.Argument(
            help="The fresh plan, saved by 'watchmgr plan --env E --out PLANFILE'.",
            metavar="PLANFILE",
            show_default=False,
        ),
    ],
    env_name: Annotated[
        str,
        typer.Option("--env", "-e", metavar="ENV", help="The environment.", show_default=False),
    ],
    pr: PrOpt = None,
    commit: Annotated[
        str | None,
        typer.Option(
            "--commit",
            metavar="SHA",
            help="A commit on the main branch: the pull request that merged it is checked.",
            show_default=False,
        ),
    ] = None,
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
    from watchmgr import github, workflow
    from watchmgr.fingerprint import marker_of
    from watchmgr.output import messages

    if (pr is None) == (commit is None):
        fail("give exactly one of --pr and --commit", ExitCode.USAGE)
    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        fresh = marker_of(workflow.saved_plan(planfile, env))
        gh = _connect(repo)
        number = pr if pr is not None else github.merged_pull_request(gh, str(commit))
        reviewed = github.reviewed_marker(gh, number, env.name, author)
        try:
            github.check_reviewed(reviewed, fresh, number)
        except github.PlanChangedError as err:
            messages.write(report)
            messages.error(str(err))
            for line in err.details:
                messages.note(f"  {line}")
            raise typer.Exit(int(ExitCode.ERROR)) from err
    messages.note(
        f"the plan for environment {env.name!r} is the one reviewed on pull request "
        f"#{number} ({fresh.fingerprint})"
    )


@app.command("drift")
def drift(
    markdown: MarkdownArg,
    plan_exit_code: Annotated[
        int,
        typer.Option(
            "--plan-exit-code",
            metavar="CODE",
            help="The exit code of 'watchmgr plan --detailed-exitcode': 2 (drift) opens or "
            "updates the environment's drift issue, 0 (none) closes it.",
            show_default=False,
        ),
    ],
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
