"""The workflows' own rules, read from their YAML: least permissions, pinned actions, no
credentials left behind, no expression inside a script, secrets only where used; and
actionlint (with shellcheck) and zizmor find nothing in them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.gitops.workflows import BIN, WORKFLOWS, load

NAMES = ["apply.yml", "ci.yml", "drift.yml", "plan.yml"]
#: The permissions each job needs, and no more.
PERMISSIONS = {
    ("ci.yml", "test"): {"contents": "read"},
    ("plan.yml", "plan"): {"contents": "read", "pull-requests": "write"},
    ("apply.yml", "dev"): {"contents": "read", "pull-requests": "read"},
    ("apply.yml", "staging"): {"contents": "read", "pull-requests": "read"},
    ("apply.yml", "prod"): {"contents": "read", "pull-requests": "read"},
    ("drift.yml", "drift"): {"contents": "read", "issues": "write"},
}


def workflows(directory: Path = WORKFLOWS) -> dict[str, dict[str, Any]]:
    return {p.name: load(p) for p in sorted(directory.glob("*.yml"))}


def test_the_four_workflows_are_there() -> None:
    assert sorted(workflows()) == NAMES


def test_nothing_is_permitted_at_the_top_and_each_job_gets_the_least_it_needs() -> None:
    found = {}
    for name, workflow in workflows().items():
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            found[(name, job_id)] = job["permissions"]
    assert found == PERMISSIONS


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_an_official_one_pinned_to_a_commit_with_its_version(name: str) -> None:
    lines = [
        line.strip() for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line
    ]
    assert lines
    pinned = re.compile(r"^(- )?uses: actions/[a-z-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    assert [line for line in lines if not pinned.match(line)] == []


def test_checkout_never_keeps_the_token_in_the_clone() -> None:
    checkouts = [
        step
        for workflow in workflows().values()
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) == 6
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_no_expression_is_expanded_inside_a_script() -> None:
    scripts = [
        step["run"]
        for workflow in workflows().values()
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]
    assert [s for s in scripts if "${{" in s] == []


def test_secrets_are_only_in_the_steps_that_talk_to_a_cluster() -> None:
    for name, workflow in workflows().items():
        assert "secrets." not in str(workflow.get("env", {})), name
        for job in workflow["jobs"].values():
            assert "secrets." not in str(job.get("env", {})), name
            for step in job["steps"]:
                if "secrets." in str(step.get("env", {})):
                    assert re.search(r"watchmgr (plan|apply) ", step["run"]), step["name"]


def test_pull_requests_are_planned_with_pull_request_never_pull_request_target() -> None:
    for name, workflow in workflows().items():
        assert "pull_request_target" not in workflow["on"], name
    assert list(workflows()["plan.yml"]["on"]) == ["pull_request"]


def test_apply_goes_dev_staging_prod_each_a_github_environment_never_cancelled() -> None:
    jobs = workflows()["apply.yml"]["jobs"]
    assert list(jobs) == ["dev", "staging", "prod"]
    assert "needs" not in jobs["dev"]
    assert (jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("dev", "staging")
    for env, job in jobs.items():
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"watchmgr-apply-{env}", "cancel-in-progress": False}
    assert set(workflows()["apply.yml"]["on"]) == {"push", "workflow_dispatch"}
    assert workflows()["drift.yml"]["concurrency"]["cancel-in-progress"] is False


def test_apply_applies_the_fresh_plan_only_after_checking_it_is_the_reviewed_one() -> None:
    for job in workflows()["apply.yml"]["jobs"].values():
        runs = [step.get("run", "") for step in job["steps"]]
        plan = next(i for i, r in enumerate(runs) if "watchmgr plan" in r)
        check = next(i for i, r in enumerate(runs) if "watchmgr github check-reviewed" in r)
        apply = next(i for i, r in enumerate(runs) if "watchmgr apply" in r)
        assert plan < check < apply
        assert "--out plan.json" in runs[plan] and "plan.json --yes" in runs[apply]


def _tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{path} is missing: install the dev extras (pip install -e '.[dev]')"
    return str(path)


def actionlint(directory: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p) for p in directory.glob("*.yml"))
    return subprocess.run(
        [_tool("actionlint"), "-shellcheck", _tool("shellcheck"), *files],
        capture_output=True,
        text=True,
    )


def zizmor(directory: Path) -> subprocess.CompletedProcess[str]:
    # Files, not the directory: zizmor collects a directory's workflows only under .github/.
    files = sorted(str(p) for p in directory.glob("*.yml"))
    return subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--min-severity", "medium", *files],
        capture_output=True,
        text=True,
    )


def lint(directory: Path) -> None:
    """actionlint with shellcheck, and zizmor offline (medium or worse), over `directory`."""
    linted = actionlint(directory)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = zizmor(directory)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout, audited.stdout


def test_actionlint_and_zizmor_find_nothing() -> None:
    lint(WORKFLOWS)


def test_the_linters_find_what_they_are_here_for(tmp_path: Path) -> None:
    text = (WORKFLOWS / "plan.yml").read_text()
    injected = text.replace('"$PR_NUMBER"', '"${{ github.event.pull_request.title }}"')
    (tmp_path / "plan.yml").write_text(injected)
    assert "potentially untrusted" in actionlint(tmp_path).stdout
    assert "template-injection" in zizmor(tmp_path).stdout
    kept = text.replace("          persist-credentials: false\n", "", 1)
    kept = kept.replace("# v4.2.2\n        with:\n", "# v4.2.2\n", 1)
    (tmp_path / "plan.yml").write_text(kept)
    assert actionlint(tmp_path).returncode == 0
    assert "artipacked" in zizmor(tmp_path).stdout
