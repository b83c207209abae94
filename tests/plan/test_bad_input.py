"""Every bad input: one line on stderr, a non-zero exit, and no write reaches the cluster."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.plan.support import Repo, dev_repo, rule_yaml, show, successful_writes
from watchmgr.errors import ExitCode
from watchmgr.sandbox import ApiKey, Sandbox, Security

MONITOR = ApiKey("mon", "monkey", frozenset({"monitor_watcher"}))
MANAGE = ApiKey("man", "mankey", frozenset({"manage_watcher"}))


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    return dev_repo(tmp_path, sandbox, rules=3)


def one_line(result_stderr: str) -> str:
    # Configuration warnings (credentials over plain http in these tests) are not errors, nor
    # is the note of a plan whose rules' indices are not on the cluster.
    lines = [
        line
        for line in result_stderr.splitlines()
        if line.strip() and "warning:" not in line and "note:" not in line
    ]
    assert len(lines) == 1, lines
    return lines[0]


def test_an_unknown_environment(repo: Repo, sandbox: Sandbox) -> None:
    result = repo.run("apply", "--env", "dve", "--yes")
    assert result.exit_code == 1, show(result)
    assert "unknown environment 'dve'" in one_line(result.stderr)
    assert "did you mean 'dev'" in result.stderr
    assert sandbox.writes() == []


def saved_plan(repo: Repo, **changes: object) -> Path:
    path = repo.root / "plan.json"
    result = repo.run("plan", "--env", "dev", "--out", str(path))
    assert result.exit_code == 0, show(result)
    data = json.loads(path.read_text())
    if "format_version" in changes:
        data["format_version"] = changes["format_version"]
    if "name" in changes:
        data["environments"][0]["name"] = changes["name"]
    if "cluster_uuid" in changes:
        data["environments"][0]["cluster_uuid"] = changes["cluster_uuid"]
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "prod"}, "the plan is for environment 'prod', not 'dev'"),
        ({"format_version": 2}, "plan format version 2 is newer than this watchmgr understands"),
        ({"cluster_uuid": "another-cluster"}, "the plan was made against cluster another-cluster"),
    ],
    ids=["other-environment", "newer-format", "other-cluster"],
)
def test_a_plan_file_that_does_not_fit(
    repo: Repo, sandbox: Sandbox, change: dict[str, object], message: str
) -> None:
    path = saved_plan(repo, **change)
    result = repo.run("apply", "--env", "dev", str(path), "--yes")
    assert result.exit_code == 1, show(result)
    assert message in one_line(result.stderr)
    assert sandbox.writes() == []


def _edit_first_change(change: dict[str, Any], edit: str) -> None:
    if edit == "unknown action":
        change["action"] = "frobnicate"
    elif edit == "no id":
        del change["id"]
    elif edit == "seq_no a string":
        change["seq_no"] = "7"
    elif edit == "diff entry not an object":
        change["diff"] = ["path"]
    elif edit == "an update without its body":
        del change["after"]
    elif edit == "an update without its seq_no":
        change["seq_no"] = None
    elif edit == "an update with an empty diff":
        change["diff"] = []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            "unknown action",
            "malformed plan file: environments[0].changes[0].action is 'frobnicate', not one "
            "of create, update, delete, adopt, no-op, conflict",
        ),
        ("no id", "malformed plan file: environments[0].changes[0].id is missing"),
        (
            "seq_no a string",
            'malformed plan file: environments[0].changes[0].seq_no is "7", not an integer',
        ),
        (
            "diff entry not an object",
            "malformed plan file: environments[0].changes[0].diff[0] is not an object",
        ),
        (
            "an update without its body",
            "malformed plan file: environments[0].changes[0].after is missing",
        ),
        (
            "an update without its seq_no",
            "malformed plan file: environments[0].changes[0].seq_no is missing",
        ),
        (
            "an update with an empty diff",
            "malformed plan file: environments[0].changes[0].diff is empty, but an update "
            "changes something",
        ),
        (
            "the same watch twice",
            "malformed plan file: environments[0].changes[1] is a second change of watch "
            "'Rule-0000'",
        ),
    ],
)
def test_a_malformed_plan_file_names_the_bad_field(
    repo: Repo, sandbox: Sandbox, edit: str, message: str
) -> None:
    repo.rule("r0000", rule_yaml("Rule 0000", image="z.exe"))  # an update, with a diff
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    repo.rule("r0000", rule_yaml("Rule 0000", image="y.exe"))
    path = saved_plan(repo)
    data = json.loads(path.read_text())
    changes = data["environments"][0]["changes"]
    first = next(c for c in changes if c["action"] == "update")
    changes.remove(first)
    changes.insert(0, first)
    if edit == "the same watch twice":
        changes.insert(1, dict(first))
    _edit_first_change(first, edit)
    path.write_text(json.dumps(data))
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(path), "--yes")
    assert result.exit_code == 1, show(result)
    assert one_line(result.stderr) == f"watchmgr: {path}: {message}; make the plan again"
    assert sandbox.writes() == []


def test_a_plan_file_that_is_not_json(repo: Repo, sandbox: Sandbox) -> None:
    path = repo.root / "plan.json"
    path.write_text("{\n  nope")
    result = repo.run("apply", "--env", "dev", str(path), "--yes")
    assert result.exit_code == 1, show(result)
    assert one_line(result.stderr).startswith(f"watchmgr: {path}:2: not a JSON plan file")


def test_a_stale_plan(repo: Repo, sandbox: Sandbox) -> None:
    from elasticsearch import Elasticsearch

    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    repo.rules(3, prefix="Other")  # overwrites the rule files: three renames
    path = saved_plan(repo)
    Elasticsearch(sandbox.url).watcher.deactivate_watch(watch_id="Rule-0001")
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(path), "--yes", "--allow-mass-delete")
    assert result.exit_code == 1, show(result)
    assert one_line(result.stderr) == (
        f"watchmgr: {path}: the plan is stale, nothing was written: 'Rule-0001' deactivated on "
        "the cluster since the plan was made; make the plan again"
    )
    assert sandbox.writes() == []


def test_an_unreachable_cluster(repo: Repo) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo.environment("down", f"elasticsearch:\n  hosts: [http://127.0.0.1:{port}]\n")
    result = repo.run("plan", "--env", "down")
    assert result.exit_code == 1, show(result)
    line = one_line(result.stderr)
    assert line.startswith("watchmgr: environments/down.yaml:1: cannot reach elasticsearch")
    assert "check the address and that the cluster is up" in line


def test_missing_credentials_are_a_401_line(repo: Repo, sandbox: Sandbox) -> None:
    sandbox.set_security(Security(api_keys=(MANAGE,)))
    result = repo.run("plan", "--env", "dev")
    assert result.exit_code == 1, show(result)
    assert "refused the credentials (401" in one_line(result.stderr)


def key_env(repo: Repo, sandbox: Sandbox, key: ApiKey) -> dict[str, str]:
    sandbox.set_security(Security(api_keys=(MONITOR, MANAGE)))
    repo.cluster_env("dev", sandbox, "")
    text = (repo.root / "environments" / "dev.yaml").read_text()
    text = text.replace("rules:", "  api_key_env: TEST_KEY\nrules:")
    (repo.root / "environments" / "dev.yaml").write_text(text)
    return {"TEST_KEY": key.encoded}


def test_plan_without_monitor_watcher_names_the_privilege(repo: Repo, sandbox: Sandbox) -> None:
    none = ApiKey("none", "nokey", frozenset({"manage_ilm"}))
    environ = key_env(repo, sandbox, none)
    sandbox.set_security(Security(api_keys=(none,)))
    result = repo.run("plan", "--env", "dev", env=environ)
    assert result.exit_code == 1, show(result)
    assert "lack the cluster privilege 'monitor_watcher'" in one_line(result.stderr)


def test_apply_without_manage_watcher_names_the_privilege(repo: Repo, sandbox: Sandbox) -> None:
    environ = key_env(repo, sandbox, MONITOR)
    planned = repo.run("plan", "--env", "dev", env=environ)
    assert planned.exit_code == 0, show(planned)
    result = repo.run("apply", "--env", "dev", "--yes", env=environ)
    assert result.exit_code == 1, show(result)
    assert "'manage_watcher', which apply needs" in one_line(result.stderr)
    assert successful_writes(sandbox) == []


def test_a_basic_licence(repo: Repo, sandbox: Sandbox) -> None:
    sandbox.set_license("basic")
    result = repo.run("apply", "--env", "dev", "--yes")
    assert result.exit_code == 1, show(result)
    assert "a basic licence has none" in one_line(result.stderr)
    assert sandbox.writes() == []


def test_apply_needs_yes_without_a_terminal(repo: Repo, sandbox: Sandbox) -> None:
    result = repo.run("apply", "--env", "dev")
    assert result.exit_code == ExitCode.USAGE, show(result)
    assert "pass --yes" in one_line(result.stderr)
    assert sandbox.writes() == []


def test_a_mass_delete_is_refused_without_the_flag(repo: Repo, sandbox: Sandbox) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    for i in range(3):
        repo.remove(f"r{i:04}")
    sandbox.clear_log()
    planned = repo.run("plan", "--env", "dev", "--detailed-exitcode")
    assert planned.exit_code == ExitCode.CHANGES_PENDING, show(planned)
    assert "watchmgr: warning: the plan for environment 'dev' deletes all" in planned.stderr
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in planned.stdout
    result = repo.run("apply", "--env", "dev", "--yes")
    assert result.exit_code == 1, show(result)
    assert "deletes all of its 3 watches" in one_line(result.stderr)
    assert sandbox.writes() == []
    forced = repo.run("apply", "--env", "dev", "--yes", "--allow-mass-delete")
    assert forced.exit_code == 0, show(forced)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["plan", "--env", "dev", "--format", "yaml"], ExitCode.USAGE),
        (
            ["plan", "--env", "dev", "--format", "yaml", "--detailed-exitcode"],
            ExitCode.USAGE_DETAILED,
        ),
        (["plan", "--bogus", "--detailed-exitcode"], ExitCode.USAGE_DETAILED),
        (["plan", "--detailed-exitcode", "--bogus"], ExitCode.USAGE_DETAILED),
        (["plan", "--detailed-exitcode", "extra"], ExitCode.USAGE_DETAILED),
        (["plan", "--detailed-exitcode", "--env"], ExitCode.USAGE_DETAILED),
        (["plan", "-e", "dev", "--detailed-exitcode", "-f"], ExitCode.USAGE_DETAILED),
        (["plan", "-e", "dev", "--detailed-exitcode=1"], ExitCode.USAGE_DETAILED),
        (["plna", "--detailed-exitcode"], ExitCode.USAGE_DETAILED),
        (["plan", "--bogus"], ExitCode.USAGE),
        (["plna"], ExitCode.USAGE),
        (["apply", "--yes"], ExitCode.USAGE),  # --env is required
        (["apply", "--env", "dev", "--yes", "--parallelism", "0"], ExitCode.USAGE),
        (["apply", "--env", "dev", "--yes", "--parallelism", "65"], ExitCode.USAGE),
    ],
)
def test_usage_errors_never_exit_2_under_detailed_exitcode(
    repo: Repo, args: list[str], code: int
) -> None:
    result = repo.run(*args)
    assert result.exit_code == code, show(result)


@pytest.mark.parametrize(
    ("where", "problem"),
    [("missing/plan.json", "is in a directory that does not exist"), (".", "is a directory")],
)
def test_plan_out_to_a_path_it_cannot_write(
    repo: Repo, sandbox: Sandbox, where: str, problem: str
) -> None:
    target = repo.root / where
    sandbox.clear_log()
    result = repo.run("plan", "--env", "dev", "--out", str(target))
    assert result.exit_code == ExitCode.USAGE, show(result)
    assert one_line(result.stderr) == (
        f"watchmgr: --out {target} {problem}; give the path of a file to write"
    )
    assert sandbox.request_log == []  # refused before anything is read
