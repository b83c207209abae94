"""``plan``/``apply --target``: some rules only, by path, folder, glob, watch id or Sigma id;
deletes reach only the targeted watches."""

from __future__ import annotations

import uuid

from tests.plan.support import Repo, es_client, rule_yaml, show
from watchmgr.errors import ExitCode
from watchmgr.sandbox import Sandbox


def summary(repo: Repo, *targets: str) -> str:
    args = [a for t in targets for a in ("--target", t)]
    result = repo.run("plan", "--env", "dev", *args)
    assert result.exit_code == 0, show(result)
    return next(line for line in result.stdout.splitlines() if line.startswith("Plan: "))


def stored(sandbox: Sandbox) -> list[str]:
    return sorted(w["_id"] for w in es_client(sandbox).watcher.query_watches()["watches"])


def test_each_kind_of_target_picks_its_rules(repo: Repo) -> None:
    repo.rule("win/a", rule_yaml("Win A"))
    repo.rule("win/b", rule_yaml("Win B"))
    sigma_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "Rule 0002"))
    assert summary(repo) == "Plan: 5 to add, 0 to change, 0 to destroy."
    assert summary(repo, "rules/r0001.yml") == "Plan: 1 to add, 0 to change, 0 to destroy."
    assert summary(repo, "rules/win/") == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert summary(repo, "rules/win") == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert summary(repo, "rules/*.yml") == "Plan: 3 to add, 0 to change, 0 to destroy."
    assert summary(repo, "Win-A", sigma_id) == "Plan: 2 to add, 0 to change, 0 to destroy."


def test_apply_writes_only_the_targeted_watches(repo: Repo, sandbox: Sandbox) -> None:
    result = repo.run("apply", "--env", "dev", "--yes", "--target", "Rule-0000")
    assert result.exit_code == 0, show(result)
    assert stored(sandbox) == ["Rule-0000", "watchmgr-lock-dev"]
    assert summary(repo) == "Plan: 2 to add, 0 to change, 0 to destroy."


def test_deletes_are_limited_to_the_targeted_set(repo: Repo, sandbox: Sandbox) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    repo.remove("r0000")
    repo.remove("r0001")
    assert summary(repo, "rules/r0001.yml") == "Plan: 0 to add, 0 to change, 1 to destroy."
    result = repo.run("apply", "--env", "dev", "--yes", "--target", "rules/r0001.yml")
    assert result.exit_code == 0, show(result)
    assert stored(sandbox) == ["Rule-0000", "Rule-0002", "watchmgr-lock-dev"]


def test_a_target_that_matches_nothing_is_refused(repo: Repo, sandbox: Sandbox) -> None:
    for command in (["plan"], ["apply", "--yes"]):
        result = repo.run(*command, "--env", "dev", "--target", "rules/typo.yml")
        assert result.exit_code == ExitCode.ERROR, show(result)
        assert result.stderr.splitlines()[-1] == (
            "watchmgr: --target 'rules/typo.yml' matches no rule or watch (give a rule file, "
            "folder or glob, a watch id or a Sigma rule id)"
        )
    assert sandbox.writes() == []


def test_a_saved_plan_is_not_narrowed_afterwards(repo: Repo) -> None:
    saved = repo.root / "plan.json"
    assert (
        repo.run("plan", "--env", "dev", "--target", "Rule-0001", "--out", str(saved)).exit_code
        == 0
    )
    result = repo.run("apply", "--env", "dev", str(saved), "--yes", "--target", "Rule-0002")
    assert result.exit_code == ExitCode.USAGE, show(result)
    applied = repo.run("apply", "--env", "dev", str(saved), "--yes")
    assert applied.exit_code == 0 and "1 done, 0 not done" in applied.stdout, show(applied)
