"""Every `watchmgr` line of the workflows, run as the runner runs it: against the sandbox (with
a read-only plan key and an apply key, as the README says to create) and a fake GitHub API.

The scenarios follow a change from review to production: a pull request planned with one
create, one update and one delete per environment, its comments updated on the next push, the
merge applied to dev, an out-of-band edit on staging between review and merge that stops the
staging apply, and the drift workflow opening, updating and closing one issue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gitops.fake_github import FakeGitHub
from tests.gitops.workflows import REPO, Ran, run_step, step, watchmgr_steps
from tests.plan.support import Repo, rule_yaml
from watchmgr.cluster import connect_url
from watchmgr.fingerprint import parse_markers
from watchmgr.sandbox import Sandbox, SandboxConfig
from watchmgr.sandbox.config import ApiKey, Security

ENVIRONMENTS = ("dev", "staging", "prod")
PLAN_KEY = ApiKey("plan-key-id", "plan-secret", frozenset({"monitor_watcher"}), "watchmgr-plan")
APPLY_KEY = ApiKey("apply-key-id", "apply-secret", frozenset({"manage_watcher"}), "watchmgr-apply")

PLAN = ("plan.yml", "plan", "Plan every environment")
COMMENT = ("plan.yml", "plan", "Post one sticky comment per environment")
DRIFT_PLAN = ("drift.yml", "drift", "Plan every environment")
DRIFT_ISSUES = ("drift.yml", "drift", "Open, update or close one issue per environment")
VALIDATE = ("ci.yml", "test", "Validate the rules")


def apply_steps(env: str) -> list[tuple[str, str, str]]:
    return [
        ("apply.yml", env, "Plan again"),
        ("apply.yml", env, "Check that it is the plan reviewed on the pull request"),
        ("apply.yml", env, "Apply it"),
    ]


COVERED = {PLAN, COMMENT, DRIFT_PLAN, DRIFT_ISSUES, VALIDATE} | {
    key for env in ENVIRONMENTS for key in apply_steps(env)
}


def test_every_watchmgr_step_of_the_workflows_is_run_by_a_scenario() -> None:
    assert {s.key for s in watchmgr_steps()} == COVERED


@dataclass
class World:
    """A rules repository whose environments share one sandbox, and GitHub."""

    repo: Repo
    sandbox: Sandbox
    github: FakeGitHub
    tmp: Path

    #: What each expression of the workflows is on this runner.
    @property
    def values(self) -> dict[str, str]:
        values = {
            f"secrets.WATCHMGR_{env.upper()}_PLAN_API_KEY": PLAN_KEY.encoded for env in ENVIRONMENTS
        }
        return {
            **values,
            "secrets.WATCHMGR_APPLY_API_KEY": APPLY_KEY.encoded,
            "github.token": self.github.token,
            "github.event.pull_request.number": "7",
            "github.sha": "abc123",
            "!cancelled() && github.event.pull_request.head.repo.full_name == "
            "github.repository": "true",
            "github.event_name == 'push'": "true",
        }

    def run(self, key: tuple[str, str, str], **values: str) -> Ran:
        work = self.tmp / "runner"
        work.mkdir(exist_ok=True)
        environ = {k: v for k, v in self.github.environ().items() if k != "GITHUB_TOKEN"}
        return run_step(step(key), self.repo.root, {**self.values, **values}, environ, work)

    def job(self, keys: list[tuple[str, str, str]]) -> list[Ran]:
        """Run steps in order; as on GitHub, a failed step skips the ones after it."""
        done = []
        for key in keys:
            done.append(self.run(key))
            if done[-1].code not in (0, None):
                break
        return done

    def apply_now(self, env: str) -> None:
        """Apply `env` by hand, as someone with the apply key would."""
        result = self.repo.run(
            "apply", "--env", env, "--yes",
            env={f"WATCHMGR_{env.upper()}_API_KEY": APPLY_KEY.encoded},
        )  # fmt: skip
        assert result.exit_code == 0, result.stdout + result.stderr

    def edit_by_hand(self, watch_id: str) -> None:
        client = connect_url(self.sandbox.url, "tests", api_key=APPLY_KEY.encoded).client
        body = client.watcher.get_watch(id=watch_id)["watch"]
        body["trigger"]["schedule"]["interval"] = "1h"
        client.watcher.put_watch(id=watch_id, body=body)

    def plan_json(self, env: str) -> dict[str, object]:
        data = json.loads((self.repo.root / "plans" / f"{env}.json").read_text())
        return dict(data["environments"][0])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    security = Security(api_keys=(PLAN_KEY, APPLY_KEY))
    with Sandbox(SandboxConfig(security=security)) as sandbox, FakeGitHub() as github:
        repo = Repo(tmp_path / "repo")
        for env in ENVIRONMENTS:
            repo.environment(
                env,
                f"elasticsearch:\n  hosts: [{sandbox.url}]\n"
                f"  api_key_env: WATCHMGR_{env.upper()}_API_KEY\n"
                f"rules:\n  paths: [rules/]\nwatch:\n  id_prefix: {env}-\n",
            )
        for name in ("a", "b", "c"):
            repo.rule(name, rule_yaml(f"Rule {name.upper()}"))
        yield World(repo, sandbox, github, tmp_path)


def reviewed_pull_request(world: World) -> None:
    """Every environment holds rules A, B, C; the pull request changes B, drops C, adds D."""
    for env in ENVIRONMENTS:
        world.apply_now(env)
    world.repo.rule("b", rule_yaml("Rule B", image="other.exe"))
    world.repo.remove("c")
    world.repo.rule("d", rule_yaml("Rule D"))


def test_a_pull_request_gets_one_sticky_comment_per_environment(world: World) -> None:
    reviewed_pull_request(world)
    writes = len(world.sandbox.writes())
    planned = world.run(PLAN)
    assert planned.code == 0, planned.show()
    for env in ENVIRONMENTS:
        text = (world.repo.root / "plans" / f"{env}.md").read_text()
        assert "**Plan: 1 to add, 1 to change, 1 to destroy.**" in text, text
        assert f"| `+` | create | `{env}-Rule-D` |" in text
        assert f"### watchmgr plan: `{env}`" in planned.summary
    posted = world.run(COMMENT)
    assert posted.code == 0, posted.show()
    assert posted.stderr.count("created the plan comment on pull request #7") == 3
    comments = world.github.comments_on(7)
    markers = {parse_markers(c["body"])[0].environment: c for c in comments}
    assert sorted(markers) == sorted(ENVIRONMENTS)
    dev = parse_markers(markers["dev"]["body"])[0]
    assert dev.fingerprint == world.plan_json("dev")["fingerprint"]
    # The next push: the same three comments, edited in place.
    world.repo.rule("d", rule_yaml("Rule D", image="d.exe"))
    assert world.run(PLAN).code == 0 and world.run(COMMENT).code == 0
    assert len(world.github.comments_on(7)) == 3
    assert [m for m, _ in world.github.writes()][-3:] == ["PATCH"] * 3
    assert len(world.sandbox.writes()) == writes  # planning writes nothing


def test_a_plan_that_fails_fails_the_check_and_the_others_are_still_posted(
    world: World,
) -> None:
    reviewed_pull_request(world)
    broken = {"secrets.WATCHMGR_PROD_PLAN_API_KEY": "bm8tc3VjaC1rZXk="}
    planned = world.run(PLAN, **broken)
    assert planned.code == 1, planned.show()
    assert "::error::watchmgr plan failed for environment prod (exit 1)" in planned.stdout
    assert not (world.repo.root / "plans" / "prod.md").exists()
    posted = world.run(COMMENT)
    assert posted.code == 0, posted.show()
    envs = sorted(parse_markers(c["body"])[0].environment for c in world.github.comments_on(7))
    assert envs == ["dev", "staging"]


def test_the_merge_applies_what_was_reviewed_and_nothing_that_changed_since(
    world: World,
) -> None:
    reviewed_pull_request(world)
    assert world.run(PLAN).code == 0 and world.run(COMMENT).code == 0
    world.github.merged("abc123", 7)
    world.edit_by_hand("staging-Rule-A")  # between review and merge

    dev = world.job(apply_steps("dev"))
    assert [r.code for r in dev] == [0, 0, 0], "\n".join(r.show() for r in dev)
    assert "reviewed on pull request #7" in dev[1].stderr
    assert "Apply dev: 3 done, 0 not done." in dev[2].stdout
    assert "**Plan: 1 to add, 1 to change, 1 to destroy.**" in dev[0].summary
    again = world.repo.run(
        "plan", "--env", "dev", "--detailed-exitcode",
        env={"WATCHMGR_DEV_API_KEY": PLAN_KEY.encoded},
    )  # fmt: skip
    assert again.exit_code == 0, again.stdout + again.stderr

    writes = len(world.sandbox.writes())
    staging = world.job(apply_steps("staging"))
    assert [r.code for r in staging] == [0, 1], "\n".join(r.show() for r in staging)
    lines = [line for line in staging[1].stderr.splitlines() if "plain http://" not in line]
    assert lines[0].startswith("watchmgr: plan changed since review: the plan for environment")
    assert "  staging-Rule-A: no change in the reviewed plan, update now" in lines
    assert len(world.sandbox.writes()) == writes  # nothing written


def test_a_push_that_no_pull_request_merged_is_not_applied(world: World) -> None:
    reviewed_pull_request(world)
    writes = len(world.sandbox.writes())
    dev = world.job(apply_steps("dev"))
    assert [r.code for r in dev] == [0, 1]
    assert "commit abc123 was not merged through a pull request" in dev[1].stderr
    assert len(world.sandbox.writes()) == writes


def test_dispatch_applies_without_a_pull_request(world: World) -> None:
    reviewed_pull_request(world)
    dispatched = [
        world.run(key, **{"github.event_name == 'push'": "false"}) for key in apply_steps("prod")
    ]
    assert [r.code for r in dispatched] == [0, None, 0], "\n".join(r.show() for r in dispatched)


def test_drift_opens_updates_and_closes_one_issue_per_environment(world: World) -> None:
    for env in ENVIRONMENTS:
        world.apply_now(env)
    world.edit_by_hand("dev-Rule-A")
    for _ in range(2):
        planned, synced = world.job([DRIFT_PLAN, DRIFT_ISSUES])
        assert (planned.code, synced.code) == (0, 0), planned.show() + synced.show()
    (issue,) = world.github.open_issues()
    assert issue["title"] == "watchmgr: drift in environment dev"
    assert "drift issue updated" in synced.stderr
    assert "dev-Rule-A" in issue["body"] and "drift: the watch was changed" in issue["body"]

    world.apply_now("dev")
    planned, synced = world.job([DRIFT_PLAN, DRIFT_ISSUES])
    assert synced.code == 0, synced.show()
    assert world.github.open_issues() == [] and "drift issue closed" in synced.stderr


def test_a_drift_plan_that_fails_fails_the_run_and_leaves_its_issue(world: World) -> None:
    for env in ENVIRONMENTS:
        world.apply_now(env)
    world.edit_by_hand("dev-Rule-A")
    world.job([DRIFT_PLAN, DRIFT_ISSUES])
    (issue,) = [dict(i) for i in world.github.open_issues()]
    broken = {"secrets.WATCHMGR_DEV_PLAN_API_KEY": "bm8tc3VjaC1rZXk="}
    planned = world.run(DRIFT_PLAN, **broken)
    synced = world.run(DRIFT_ISSUES)
    assert planned.code == 0 and synced.code == 1, planned.show() + synced.show()
    assert "::error::watchmgr plan failed for environment dev (exit 1)" in synced.stdout
    assert world.github.open_issues() == [issue]  # neither updated nor closed


def test_ci_validates_this_repositorys_rules(tmp_path: Path) -> None:
    if not (REPO / ".venv" / "bin" / "watchmgr").exists():
        pytest.skip(f"{REPO / '.venv'} is absent: ci.yml validates with the Makefile's venv")
    from tests.gitops.workflows import run_step as run

    done = run(step(VALIDATE), REPO, {}, {}, tmp_path)
    assert done.code == 0, done.show()
    assert " 0 errors" in done.stderr + done.stdout


def test_the_fork_guard_runs_before_any_secret_step() -> None:
    # GitHub runs steps in order and skips the rest after a failure: the guard must come first.
    from tests.gitops.workflows import load

    steps = load(REPO / ".github/workflows/plan.yml")["jobs"]["plan"]["steps"]
    assert steps[0]["name"] == "Pull requests from forks are not planned"
    assert "full_name != github.repository" in steps[0]["if"] and "exit 1" in steps[0]["run"]
