"""The README's first example works on a fresh clone as shown; a plan that apply would refuse
exits non-zero; ``plan --adopt`` previews what ``apply --adopt`` does."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.plan.support import Repo, es_client, show
from watchmgr.errors import ExitCode
from watchmgr.sandbox import Sandbox

HAND = {"trigger": {"schedule": {"interval": "1h"}}, "actions": {}}


def first_example() -> list[str]:
    """The first ``watchmgr ...`` command in the README's code blocks, comment removed."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    line = next(
        line for block in blocks for line in block.splitlines() if line.startswith("watchmgr ")
    )
    return shlex.split(line.split("#", 1)[0])[1:]


def test_the_readmes_first_example_works_on_a_fresh_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("rules", "environments"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    args = first_example()
    assert args[0] == "plan", args
    result = Repo(tmp_path).run(*args, env={"WATCHMGR_NO_CACHE": "1"})
    assert result.exit_code == 0, show(result)
    assert "Plan: " in result.stdout


def test_a_plan_with_a_conflict_exits_1_and_says_apply_would_refuse_it(
    repo: Repo, sandbox: Sandbox
) -> None:
    es_client(sandbox).watcher.put_watch(id="Rule-0001", body=HAND)  # sigmac deployed it, say
    for extra in ([], ["--detailed-exitcode"]):
        result = repo.run("plan", "--env", "dev", *extra)
        assert result.exit_code == ExitCode.ERROR, show(result)
        assert result.stderr.splitlines()[-1] == (
            "watchmgr: apply would refuse 1 watch in conflict for environment 'dev', write the "
            "rest and fail (see why above; --adopt takes over watches no environment owns)"
        ), show(result)
    applied = repo.run("apply", "--env", "dev", "--yes")
    assert applied.exit_code == ExitCode.ERROR, show(applied)
    live = {w["_id"] for w in es_client(sandbox).watcher.query_watches(size=100)["watches"]}
    assert len(live) > 1, live  # the rest was written
    hand = es_client(sandbox).watcher.get_watch(id="Rule-0001")["watch"]
    assert "watchmgr" not in hand.get("metadata", {}), hand  # the conflict was not


def test_plan_adopt_shows_the_adoption_apply_adopt_makes(repo: Repo, sandbox: Sandbox) -> None:
    es_client(sandbox).watcher.put_watch(id="Rule-0001", body=HAND)
    sandbox.clear_log()
    result = repo.run("plan", "--env", "dev", "--adopt", "--detailed-exitcode")
    assert result.exit_code == ExitCode.CHANGES_PENDING, show(result)
    row = next(line for line in result.stdout.splitlines() if "Rule-0001" in line)
    assert row.split()[:3] == ["<", "adopt", "Rule-0001"], row
    assert "Plan: 2 to add, 0 to change, 0 to destroy, 1 to adopt." in result.stdout
    assert sandbox.writes() == []
    applied = repo.run("apply", "--env", "dev", "--adopt", "--yes")
    assert applied.exit_code == 0, show(applied)
    assert repo.run("plan", "--env", "dev", "--detailed-exitcode").exit_code == 0
