"""`watchmgr github ...` against a fake GitHub API on loopback: one sticky comment per
environment, the reviewed plan checked before apply, one drift issue per environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.gitops.fake_github import FakeGitHub
from tests.plan.support import show
from tests.plan.test_plan import desired, live
from watchmgr.cli import app
from watchmgr.fingerprint import fingerprint, parse_markers
from watchmgr.output.markdown import render
from watchmgr.output.plan import render_json
from watchmgr.plan import Plan, build_plan


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def plan_of(env: str, interval: str = "5m", extra: int = 0) -> Plan:
    old = desired("changed", env=env)
    new = [desired("changed", env=env, interval=interval), desired("new", env=env)]
    new += [desired(f"more-{i}", env=env) for i in range(extra)]
    return build_plan(env, new, [live(old), live(desired("gone", env=env))])


def run(github: FakeGitHub, *args: str, **extra_env: str) -> Result:
    env = {**github.environ(), **extra_env}
    return CliRunner().invoke(app, ["github", *args], env=env)


def markdown_file(tmp_path: Path, plan: Plan, name: str = "plan.md") -> Path:
    path = tmp_path / name
    path.write_text(render([plan]), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ comment


def test_the_second_run_updates_the_same_comment(github: FakeGitHub, tmp_path: Path) -> None:
    first = run(github, "comment", str(markdown_file(tmp_path, plan_of("dev"))), "--pr", "7")
    assert first.exit_code == 0, show(first)
    assert "created the plan comment on pull request #7" in first.stderr
    second = run(
        github, "comment", str(markdown_file(tmp_path, plan_of("dev", "10m"))), "--pr", "7"
    )
    assert second.exit_code == 0, show(second)
    assert "updated the plan comment" in second.stderr
    (comment,) = github.comments_on(7)
    assert parse_markers(comment["body"])[0].fingerprint == fingerprint(plan_of("dev", "10m"))


def test_each_environment_has_its_own_comment(github: FakeGitHub, tmp_path: Path) -> None:
    for env in ("dev", "prod", "dev"):
        result = run(github, "comment", str(markdown_file(tmp_path, plan_of(env))), "--pr", "7")
        assert result.exit_code == 0, show(result)
    envs = sorted(parse_markers(c["body"])[0].environment for c in github.comments_on(7))
    assert envs == ["dev", "prod"]


def test_a_marker_in_someone_elses_comment_is_left_alone(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forged = github.comment(7, render([plan_of("dev", "1h")]), user="mallory")
    result = run(github, "comment", str(markdown_file(tmp_path, plan_of("dev"))), "--pr", "7")
    assert result.exit_code == 0, show(result)
    assert github.comments[forged["id"]]["body"] == render([plan_of("dev", "1h")])
    assert len(github.comments_on(7)) == 2


def test_the_comment_is_found_past_the_first_page(github: FakeGitHub, tmp_path: Path) -> None:
    for i in range(150):
        github.comment(7, f"looks good {i}", user="reviewer")
    ours = github.comment(7, render([plan_of("dev", "1h")]))
    result = run(github, "comment", str(markdown_file(tmp_path, plan_of("dev"))), "--pr", "7")
    assert result.exit_code == 0, show(result)
    assert github.writes() == [("PATCH", f"/api/v3/repos/octo/rules/issues/comments/{ours['id']}")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just text", "holds no watchmgr plan marker"),
        (None, "holds the plans of dev, prod"),
    ],
)
def test_markdown_of_no_or_several_environments_is_refused(
    github: FakeGitHub, tmp_path: Path, text: str | None, message: str
) -> None:
    path = tmp_path / "plan.md"
    path.write_text(text or render([plan_of("dev"), plan_of("prod")]), encoding="utf-8")
    result = run(github, "comment", str(path), "--pr", "7")
    assert result.exit_code == 1, show(result)
    assert result.stderr.startswith(f"watchmgr: {path}: {message}"), show(result)
    assert len(result.stderr.splitlines()) == 1 and github.writes() == []


# ------------------------------------------------------------------------------ check-reviewed


def repo_with_plan(tmp_path: Path, plan: Plan) -> tuple[Path, Path]:
    (tmp_path / "environments").mkdir(exist_ok=True)
    (tmp_path / "environments" / f"{plan.environment}.yaml").write_text(
        "sandbox:\n  state: .watchmgr/sandbox.json\nrules:\n  paths: [rules/]\n"
    )
    planfile = tmp_path / "plan.json"
    planfile.write_text(render_json([plan]), encoding="utf-8")
    return tmp_path, planfile


def check(github: FakeGitHub, root: Path, planfile: Path, *args: str) -> Result:
    return run(github, "check-reviewed", str(planfile), "--env", "dev", "--root", str(root), *args)


def test_the_reviewed_plan_passes(github: FakeGitHub, tmp_path: Path) -> None:
    github.comment(7, render([plan_of("dev")]))
    root, planfile = repo_with_plan(tmp_path, plan_of("dev"))
    result = check(github, root, planfile, "--pr", "7")
    assert result.exit_code == 0, show(result)
    assert f"is the one reviewed on pull request #7 ({fingerprint(plan_of('dev'))})" in (
        result.stderr
    )


def test_a_plan_that_changed_since_review_fails_and_says_how(
    github: FakeGitHub, tmp_path: Path
) -> None:
    github.comment(7, render([plan_of("dev")]))
    root, planfile = repo_with_plan(tmp_path, plan_of("dev", "10m", extra=1))
    result = check(github, root, planfile, "--pr", "7")
    assert result.exit_code == 1, show(result)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("watchmgr: plan changed since review: the plan for environment")
    assert "  changed: update, but of another body or live state" in lines
    assert "  more-0: no change in the reviewed plan, create now" in lines
    assert github.writes() == []


def test_the_merged_pull_request_of_a_commit_is_the_one_checked(
    github: FakeGitHub, tmp_path: Path
) -> None:
    github.comment(7, render([plan_of("dev", "1h")]))
    github.comment(8, render([plan_of("dev")]))
    github.merged("abc123", 8)
    root, planfile = repo_with_plan(tmp_path, plan_of("dev"))
    result = check(github, root, planfile, "--commit", "abc123")
    assert result.exit_code == 0, show(result)
    assert "reviewed on pull request #8" in result.stderr


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda g: None, ("--commit", "abc123"), "commit abc123 was not merged through a pull"),
        (lambda g: None, ("--pr", "7"), "pull request #7 has no plan comment for environment"),
        (
            lambda g: g.comment(7, render([plan_of("dev")]), user="mallory"),
            ("--pr", "7"),
            "pull request #7 has no plan comment for environment 'dev' by github-actions[bot]",
        ),
    ],
)
def test_no_reviewed_plan_fails(
    github: FakeGitHub, tmp_path: Path, setup: object, args: tuple[str, ...], message: str
) -> None:
    setup(github)  # type: ignore[operator]
    root, planfile = repo_with_plan(tmp_path, plan_of("dev"))
    result = check(github, root, planfile, *args)
    assert result.exit_code == 1, show(result)
    assert result.stderr.startswith(f"watchmgr: {message}"), show(result)


@pytest.mark.parametrize("args", [(), ("--pr", "7", "--commit", "abc")])
def test_exactly_one_of_pr_and_commit(
    github: FakeGitHub, tmp_path: Path, args: tuple[str, ...]
) -> None:
    root, planfile = repo_with_plan(tmp_path, plan_of("dev"))
    result = check(github, root, planfile, *args)
    assert result.exit_code == 2, show(result)
    assert "give exactly one of --pr and --commit" in result.stderr
    assert github.requests == []


# ------------------------------------------------------------------------------ drift


def drift(github: FakeGitHub, tmp_path: Path, plan: Plan, code: int) -> Result:
    return run(github, "drift", str(markdown_file(tmp_path, plan)), "--plan-exit-code", str(code))


def test_drift_opens_updates_and_closes_one_issue(github: FakeGitHub, tmp_path: Path) -> None:
    opened = drift(github, tmp_path, plan_of("dev"), 2)
    assert opened.exit_code == 0, show(opened)
    assert "drift issue created: https://github.test/octo/rules/issues/1" in opened.stderr
    updated = drift(github, tmp_path, plan_of("dev", "10m"), 2)
    assert updated.exit_code == 0 and "drift issue updated" in updated.stderr, show(updated)
    (issue,) = github.open_issues()
    assert issue["title"] == "watchmgr: drift in environment dev"
    assert parse_markers(issue["body"])[0].fingerprint == fingerprint(plan_of("dev", "10m"))
    other = drift(github, tmp_path, plan_of("prod"), 2)
    assert other.exit_code == 0 and len(github.open_issues()) == 2, show(other)
    same = desired("same", env="dev")
    closed = drift(github, tmp_path, build_plan("dev", [same], [live(same)]), 0)
    assert closed.exit_code == 0 and "drift issue closed" in closed.stderr, show(closed)
    assert github.issues[1]["state"] == "closed" and github.issues[1]["state_reason"] == (
        "completed"
    )
    assert "matches the rules again" in github.comments_on(1)[0]["body"]
    assert [i["title"] for i in github.open_issues()] == ["watchmgr: drift in environment prod"]


def test_no_drift_and_no_issue_writes_nothing(github: FakeGitHub, tmp_path: Path) -> None:
    same = desired("same", env="dev")
    result = drift(github, tmp_path, build_plan("dev", [same], [live(same)]), 0)
    assert result.exit_code == 0 and "drift issue unchanged: none open" in result.stderr
    assert github.writes() == []


def test_a_failed_plan_leaves_the_issue_alone(github: FakeGitHub, tmp_path: Path) -> None:
    result = drift(github, tmp_path, plan_of("dev"), 1)
    assert result.exit_code == 2, show(result)
    assert "the plan failed, so nothing is known about drift" in result.stderr
    assert github.requests == []


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("environ", "faults", "message"),
    [
        ({"GITHUB_TOKEN": ""}, [], "GITHUB_TOKEN is not set"),
        ({"GITHUB_REPOSITORY": "rules"}, [], "the repository must be given as owner/name"),
        ({"GITHUB_API_URL": "ftp://x"}, [], "GITHUB_API_URL must be an http(s) URL"),
        ({"GITHUB_TOKEN": "wrong"}, [], "GET /repos/octo/rules/issues/7/comments?per_page=100"),
        ({}, [403], "GitHub refused the request; give the job the permission it needs"),
        ({"GITHUB_API_URL": "http://127.0.0.1:9/api"}, [], "cannot reach the GitHub API"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    github: FakeGitHub,
    tmp_path: Path,
    environ: dict[str, str],
    faults: list[int],
    message: str,
) -> None:
    github.faults.extend(faults)
    path = markdown_file(tmp_path, plan_of("dev"))
    result = run(github, "comment", str(path), "--pr", "7", **environ)
    assert result.exit_code == 1, show(result)
    assert message in result.stderr and len(result.stderr.splitlines()) == 1, show(result)
    assert github.comments == {}


def test_a_bad_token_is_named(github: FakeGitHub, tmp_path: Path) -> None:
    path = markdown_file(tmp_path, plan_of("dev"))
    result = run(github, "comment", str(path), "--pr", "7", GITHUB_TOKEN="s3cr3t-but-wrong")
    assert "401, GitHub refused the token" in result.stderr and "Bad credentials" in result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr  # the token itself is never shown


def test_reads_are_retried_on_a_503(github: FakeGitHub, tmp_path: Path) -> None:
    github.faults.append(503)
    result = run(github, "comment", str(markdown_file(tmp_path, plan_of("dev"))), "--pr", "7")
    assert result.exit_code == 0, show(result)
    assert [m for m, _ in github.requests] == ["GET", "GET", "POST"]
