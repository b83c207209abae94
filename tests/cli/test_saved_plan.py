"""A stale saved plan is refused first, in one line naming the watches that changed, before any
plan is printed; a saved plan lists its changes in the order a fresh plan does."""

from __future__ import annotations

import json

from tests.plan.support import Repo, es_client, rule_yaml, show
from watchmgr.sandbox import Sandbox


def edit_every_rule(repo: Repo) -> None:
    for n in range(3):
        repo.rule(f"r{n:04}", rule_yaml(f"Rule {n:04}", image="changed.exe"))


def test_a_stale_plan_is_one_line_naming_every_changed_watch(repo: Repo, sandbox: Sandbox) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    edit_every_rule(repo)
    saved = repo.root / "plan.json"
    assert repo.run("plan", "--env", "dev", "--out", str(saved)).exit_code == 0
    client = es_client(sandbox)
    client.watcher.deactivate_watch(watch_id="Rule-0000")
    client.watcher.deactivate_watch(watch_id="Rule-0002")
    client.watcher.delete_watch(id="Rule-0001")
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(saved), "--yes")
    assert result.exit_code == 1, show(result)
    assert result.stdout == "", show(result)
    assert result.stderr == (
        f"watchmgr: {saved}: the plan is stale, nothing was written: 'Rule-0000' and "
        "'Rule-0002' deactivated on the cluster since the plan was made; 'Rule-0001' deleted on "
        "the cluster since the plan was made; make the plan again\n"
    )
    assert sandbox.writes() == []


def test_a_saved_plan_lists_its_changes_as_a_fresh_plan_does(repo: Repo) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    edit_every_rule(repo)
    saved = repo.root / "plan.json"
    fresh = repo.run("plan", "--env", "dev", "--out", str(saved))
    assert fresh.exit_code == 0, show(fresh)
    document = json.loads(saved.read_text())
    document["environments"][0]["changes"].reverse()  # as an older or hand-merged file might
    saved.write_text(json.dumps(document))
    applied = repo.run("apply", "--env", "dev", str(saved), "--yes")
    assert applied.exit_code == 0, show(applied)
    plan_part = applied.stdout[: applied.stdout.index("Plan: ")]
    assert plan_part == fresh.stdout[: fresh.stdout.index("Plan: ")], show(applied)
