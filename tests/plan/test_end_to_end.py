"""Plan and apply through the CLI against a sandbox: real client, real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plan.support import Repo, dev_repo, es_client, rule_yaml, show, successful_writes
from watchmgr.sandbox import Faults, Sandbox

#: Every test here runs against both majors watchmgr supports (with whichever client is installed).
pytestmark = pytest.mark.parametrize("sandbox", ["8.19.0", "9.1.0"], indirect=True)


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    return dev_repo(tmp_path, sandbox, rules=6)


def plan_json(repo: Repo, env: str = "dev") -> dict[str, object]:
    result = repo.run("plan", "--env", env, "--format", "json")
    assert result.exit_code == 0, show(result)
    document = json.loads(result.stdout)
    (entry,) = document["environments"]
    return entry  # type: ignore[no-any-return]


def test_apply_then_plan_is_empty_and_exits_0_under_detailed_exitcode(
    repo: Repo, sandbox: Sandbox
) -> None:
    first = repo.run("plan", "--env", "dev", "--detailed-exitcode")
    assert first.exit_code == 2, show(first)
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in first.stdout
    assert successful_writes(sandbox) == []
    applied = repo.run("apply", "--env", "dev", "--yes")
    assert applied.exit_code == 0, show(applied)
    assert "6 done, 0 not done" in applied.stdout
    again = repo.run("plan", "--env", "dev", "--detailed-exitcode")
    assert again.exit_code == 0, show(again)
    assert "No changes" in again.stdout


def test_the_second_apply_makes_zero_write_requests(repo: Repo, sandbox: Sandbox) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    sandbox.clear_log()
    second = repo.run("apply", "--env", "dev", "--yes")
    assert second.exit_code == 0, show(second)
    assert sandbox.writes() == []
    watcher = [e for e in sandbox.request_log if e.path.startswith("/_watcher")]
    assert len(watcher) == 1, watcher  # one listing page


def test_editing_a_rule_makes_exactly_one_update(repo: Repo) -> None:
    repo.run("apply", "--env", "dev", "--yes")
    repo.rule("r0003", rule_yaml("Rule 0003", image="y.exe"))
    entry = plan_json(repo)
    assert entry["summary"] == {
        "create": 0,
        "update": 1,
        "delete": 0,
        "adopt": 0,
        "no-op": 5,
        "conflict": 0,
    }
    (update,) = [c for c in entry["changes"] if c["action"] == "update"]  # type: ignore[union-attr]
    assert update["id"] == "Rule-0003"
    assert update["reason"] == "the rule or the environment changed"
    paths = {d["path"] for d in update["diff"]}
    assert "metadata.query" in paths
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    assert plan_json(repo)["summary"]["update"] == 0  # type: ignore[index]


def test_deleting_a_rule_makes_one_delete(repo: Repo, sandbox: Sandbox) -> None:
    repo.run("apply", "--env", "dev", "--yes")
    repo.remove("r0002")
    entry = plan_json(repo)
    assert entry["summary"]["delete"] == 1  # type: ignore[index]
    sandbox.clear_log()
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    deletes = [e for e in sandbox.writes() if e.method == "DELETE"]
    assert [e.path for e in deletes] == ["/_watcher/watch/Rule-0002"]


def test_a_renamed_rule_shows_as_a_rename(repo: Repo) -> None:
    repo.run("apply", "--env", "dev", "--yes")
    same_id = rule_yaml("Rule 0001", image="x.exe").split("\n")[1]
    repo.rule("r0001", rule_yaml("Rule One", rule_id=same_id.removeprefix("id: ")))
    result = repo.run("plan", "--env", "dev")
    assert "create (rename)" in result.stdout and "delete (rename)" in result.stdout, show(result)
    assert "renamed from Rule-0001" in result.stdout


def test_an_unowned_watch_is_never_touched(repo: Repo, sandbox: Sandbox) -> None:
    es = es_client(sandbox)
    hand = {"trigger": {"schedule": {"interval": "1h"}}, "actions": {}}
    es.watcher.put_watch(id="hand-made", body=hand)
    es.watcher.put_watch(id="Rule-0004", body=hand)  # at a desired id, e.g. sigmac deployed it
    result = repo.run("apply", "--env", "dev", "--yes")
    assert result.exit_code == 1, show(result)
    assert "conflict" in result.stdout
    assert es.watcher.get_watch(id="Rule-0004")["_version"] == 1
    assert es.watcher.get_watch(id="hand-made")["_version"] == 1
    repo.remove("r0000")
    repo.run("apply", "--env", "dev", "--yes")
    assert es.watcher.get_watch(id="hand-made")["_version"] == 1
    adopted = repo.run("apply", "--env", "dev", "--yes", "--adopt")
    assert adopted.exit_code == 0, show(adopted)
    owner = es.watcher.get_watch(id="Rule-0004")["watch"]["metadata"]["watchmgr"]
    assert owner["environment"] == "dev"
    assert es.watcher.get_watch(id="hand-made")["_version"] == 1


def test_two_environments_on_one_sandbox_stay_apart(repo: Repo, sandbox: Sandbox) -> None:
    repo.cluster_env("dev", sandbox, "watch:\n  id_prefix: dev-\n")
    repo.cluster_env("staging", sandbox, "watch:\n  id_prefix: stg-\n")
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    assert repo.run("apply", "--env", "staging", "--yes").exit_code == 0
    both = repo.run("plan", "--detailed-exitcode")
    assert both.exit_code == 0, show(both)
    (repo.root / "nothing").mkdir()
    repo.environment(
        "staging",
        f"elasticsearch:\n  hosts: [{sandbox.url}]\nrules:\n  paths: [nothing/]\n"
        "watch:\n  id_prefix: stg-\n",
    )
    entry = plan_json(repo, "dev")
    assert entry["summary"]["delete"] == 0  # type: ignore[index]
    staging = plan_json(repo, "staging")
    assert staging["summary"]["delete"] == 6  # type: ignore[index]
    assert {c["id"] for c in staging["changes"]} == {f"stg-Rule-{i:04}" for i in range(6)}  # type: ignore[union-attr]


def test_a_watch_edited_on_the_cluster_shows_as_drift(repo: Repo, sandbox: Sandbox) -> None:
    repo.run("apply", "--env", "dev", "--yes")
    es = es_client(sandbox)
    watch = es.watcher.get_watch(id="Rule-0000")["watch"]
    watch["trigger"]["schedule"]["interval"] = "1m"
    es.watcher.put_watch(id="Rule-0000", body=watch)
    result = repo.run("plan", "--env", "dev", "--detailed-exitcode")
    assert result.exit_code == 2, show(result)
    assert "drift: the watch was changed on the cluster" in result.stdout
    assert '~ trigger.schedule.interval: "1m" -> "30m"' in result.stdout


def test_active_state_follows_the_rules_unless_the_environment_respects_the_cluster(
    repo: Repo, sandbox: Sandbox
) -> None:
    repo.run("apply", "--env", "dev", "--yes")
    es = es_client(sandbox)
    es.watcher.deactivate_watch(watch_id="Rule-0001")
    entry = plan_json(repo)
    (update,) = [c for c in entry["changes"] if c["action"] == "update"]  # type: ignore[union-attr]
    assert update["diff"] == [{"path": "active", "op": "change", "old": False, "new": True}]
    sandbox.clear_log()
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    assert [e.path for e in successful_writes(sandbox) if "lock" not in e.path] == [
        "/_watcher/watch/Rule-0001/_activate"
    ]
    # An environment that respects the cluster's active state leaves on-call's silence alone.
    repo.cluster_env("dev", sandbox, "respect_remote_active: true\n")
    es.watcher.deactivate_watch(watch_id="Rule-0002")
    assert repo.run("plan", "--env", "dev", "--detailed-exitcode").exit_code == 0
    sandbox.clear_log()
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    assert successful_writes(sandbox) == []
    assert es.watcher.get_watch(id="Rule-0002")["status"]["state"]["active"] is False


def test_a_rule_can_say_active_false_and_an_environment_override_wins(
    repo: Repo, sandbox: Sandbox
) -> None:
    repo.rule("r0000", rule_yaml("Rule 0000", active="false"))
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    es = es_client(sandbox)
    assert es.watcher.get_watch(id="Rule-0000")["status"]["state"]["active"] is False
    assert es.watcher.get_watch(id="Rule-0001")["status"]["state"]["active"] is True
    assert repo.run("plan", "--env", "dev", "--detailed-exitcode").exit_code == 0
    overrides = "overrides:\n  - match: {path: rules/r0000.yml}\n    active: true\n"
    repo.cluster_env("dev", sandbox, overrides)
    entry = plan_json(repo)
    (update,) = [c for c in entry["changes"] if c["action"] == "update"]  # type: ignore[union-attr]
    assert (update["id"], update["diff"]) == (
        "Rule-0000",
        [{"path": "active", "op": "change", "old": False, "new": True}],
    )


def test_a_saved_plan_is_applied_exactly_and_refused_once_stale(
    repo: Repo, sandbox: Sandbox
) -> None:
    saved = repo.root / "plan.json"
    result = repo.run("plan", "--env", "dev", "--out", str(saved))
    assert result.exit_code == 0, show(result)
    assert repo.run("apply", "--env", "dev", str(saved), "--yes").exit_code == 0
    repo.rule("r0000", rule_yaml("Rule 0000", image="z.exe"))
    repo.run("plan", "--env", "dev", "--out", str(saved))
    es_client(sandbox).watcher.put_watch(
        id="Rule-0000", body={"trigger": {"schedule": {"interval": "1h"}}}
    )
    sandbox.clear_log()
    stale = repo.run("apply", "--env", "dev", str(saved), "--yes")
    assert stale.exit_code == 1, show(stale)
    assert "'Rule-0000' edited on the cluster since the plan was made" in stale.stderr
    assert sandbox.writes() == []


def test_a_saved_plan_still_applies_after_its_watches_ran(repo: Repo, sandbox: Sandbox) -> None:
    # Every run of a watch rewrites its status and moves its seq_no (watcher-api.md §5): on a
    # cluster, a plan saved in CI is always older than the last run of an active watch.
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    repo.rule("r0000", rule_yaml("Rule 0000", image="z.exe"))
    saved = repo.root / "plan.json"
    assert repo.run("plan", "--env", "dev", "--out", str(saved)).exit_code == 0
    client = es_client(sandbox)
    before = client.watcher.get_watch(id="Rule-0000")["_seq_no"]
    for watch_id in ("Rule-0000", "Rule-0001"):
        client.watcher.execute_watch(id=watch_id, record_execution=True)
    assert client.watcher.get_watch(id="Rule-0000")["_seq_no"] > before
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(saved), "--yes")
    assert result.exit_code == 0, show(result)
    assert [e.path for e in successful_writes(sandbox) if "Rule-" in e.path] == [
        "/_watcher/watch/Rule-0000"
    ]
    assert repo.run("plan", "--env", "dev", "--detailed-exitcode").exit_code == 0


def test_plan_output_in_ci_logs_keeps_long_ids_whole(repo: Repo) -> None:
    title = "Suspicious PowerShell Download and Execute Pattern Via Invoke Expression And WebClient"
    repo.rule("long", rule_yaml(title))
    result = repo.run("plan", "--env", "dev")
    assert result.exit_code == 0, show(result)
    watch_id = title.replace(" ", "-")
    table_row = next(line for line in result.stdout.splitlines() if watch_id in line)
    assert "rules/long.yml" in table_row
    assert "…" not in result.stdout


def test_ctrl_c_during_apply_reports_what_was_applied(
    repo: Repo, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import _thread

    from watchmgr import apply

    execute, calls = apply._execute, []

    def interrupted_at_the_second(*args: object) -> apply.Result:
        calls.append(args)
        if len(calls) == 2:
            _thread.interrupt_main()  # as Ctrl-C
        return execute(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(apply, "_execute", interrupted_at_the_second)
    sandbox.set_faults(Faults(latency_ms=100, path_prefix="/_watcher/watch/Rule"))
    result = repo.run("apply", "--env", "dev", "--yes", "--parallelism", "1")
    sandbox.set_faults(Faults())
    assert result.exit_code == 1, show(result)
    done = len(calls)
    assert 2 <= done < 6
    assert result.stderr.strip().splitlines()[-1] == (
        f"watchmgr: interrupted: {done} of 6 changes applied, the others not (the table above "
        "says which); run plan to see what is left"
    )
    assert "not applied: interrupted" in result.stdout
    assert len([e for e in successful_writes(sandbox) if "lock" not in e.path]) == done
