"""A saved plan is data from outside (CI artifacts, pull requests): apply re-checks ownership.

Whatever a plan file says, apply updates and deletes only watches that this environment owns on
the cluster (``metadata.watchmgr.environment``), checked against the cluster as it is when apply
runs; a plan that says otherwise is refused whole, in one line, and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plan.support import Repo, dev_repo, es_client, show
from watchmgr.apply import apply_plan
from watchmgr.cluster import connect_url
from watchmgr.plan import PlanError, plan_from_document
from watchmgr.sandbox import Sandbox, SandboxConfig

HAND_MADE = {"trigger": {"schedule": {"interval": "1h"}}, "input": {"none": {}}, "actions": {}}


@pytest.fixture
def sandbox() -> Any:
    with Sandbox(SandboxConfig(es_version="9.1.0")) as sb:
        yield sb


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    repo = dev_repo(tmp_path, sandbox, rules=3)
    applied = repo.run("apply", "--env", "dev", "--yes")
    assert applied.exit_code == 0, show(applied)
    client = es_client(sandbox)
    client.watcher.put_watch(id="hand-made", body=HAND_MADE)
    owned_by_prod = {**HAND_MADE, "metadata": {"watchmgr": {"environment": "prod"}}}
    client.watcher.put_watch(id="prod-watch", body=owned_by_prod)
    return repo


def hostile_entry(sandbox: Sandbox, watch_id: str, action: str) -> dict[str, Any]:
    """A plan entry for `watch_id` as a forger would write it: current seq_no, current body."""
    live = connect_url(sandbox.url, "dev").get(watch_id)
    assert live is not None
    entry: dict[str, Any] = {
        "id": watch_id,
        "action": action,
        "before": dict(live.body),
        "before_active": live.active,
        "seq_no": live.seq_no,
        "primary_term": live.primary_term,
    }
    if action in ("update", "adopt"):
        after = {**HAND_MADE, "metadata": {"watchmgr": {"environment": "dev"}}}
        after["trigger"] = {"schedule": {"interval": "1m"}}
        entry |= {"after": after, "after_active": True}
        entry["diff"] = [{"path": "trigger.schedule.interval", "op": "change"}]
    return entry


def saved_with(repo: Repo, *entries: dict[str, Any]) -> Path:
    path = repo.root / "plan.json"
    made = repo.run("plan", "--env", "dev", "--out", str(path))
    assert made.exit_code == 0, show(made)
    data = json.loads(path.read_text())
    forged = {e["id"] for e in entries}
    changes = [c for c in data["environments"][0]["changes"] if c["id"] not in forged]
    data["environments"][0]["changes"] = [*changes, *entries]
    path.write_text(json.dumps(data))
    return path


def version(sandbox: Sandbox, watch_id: str) -> int:
    return int(es_client(sandbox).watcher.get_watch(id=watch_id)["_version"])


@pytest.mark.parametrize(
    ("victim", "action", "why"),
    [
        ("hand-made", "delete", "which watchmgr does not own (adopt it with --adopt)"),
        ("hand-made", "update", "which watchmgr does not own (adopt it with --adopt)"),
        ("prod-watch", "delete", "which environment 'prod' owns"),
        ("prod-watch", "update", "which environment 'prod' owns"),
        ("prod-watch", "adopt", "which environment 'prod' owns"),
    ],
)
def test_a_saved_plan_that_touches_a_watch_it_does_not_own_is_refused_whole(
    repo: Repo, sandbox: Sandbox, victim: str, action: str, why: str
) -> None:
    path = saved_with(repo, hostile_entry(sandbox, victim, action))
    before = version(sandbox, victim)
    sandbox.clear_log()
    args = ["apply", "--env", "dev", str(path), "--yes"]
    result = repo.run(*args, "--adopt") if action == "adopt" else repo.run(*args)
    assert result.exit_code == 1, show(result)
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, show(result)
    assert errors[0] == (
        f"watchmgr: refusing the plan, nothing was written: it would {action} watch "
        f"{victim!r}, {why}; watchmgr only changes the watches of environment 'dev': make the "
        "plan again with 'watchmgr plan --env dev'"
    ), show(result)
    assert "Traceback" not in result.output
    assert sandbox.writes() == []  # not even the lock
    assert version(sandbox, victim) == before


def test_a_saved_plan_that_adopts_needs_the_adopt_flag(repo: Repo, sandbox: Sandbox) -> None:
    path = saved_with(repo, hostile_entry(sandbox, "hand-made", "adopt"))
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(path), "--yes")
    assert result.exit_code == 1, show(result)
    assert result.stderr.strip() == (
        f"watchmgr: {path}: the plan adopts watch 'hand-made', which watchmgr does not own; "
        "apply it with --adopt to take the watch over, or make the plan again"
    )
    assert sandbox.writes() == []
    adopted = repo.run("apply", "--env", "dev", str(path), "--yes", "--adopt")
    assert adopted.exit_code == 0, show(adopted)
    owner = es_client(sandbox).watcher.get_watch(id="hand-made")["watch"]["metadata"]["watchmgr"]
    assert owner["environment"] == "dev"


def test_a_saved_plan_cannot_write_a_body_another_environment_would_own(
    repo: Repo, sandbox: Sandbox
) -> None:
    create = {
        "id": "smuggled",
        "action": "create",
        "after": {**HAND_MADE, "metadata": {"watchmgr": {"environment": "prod"}}},
        "after_active": True,
    }
    path = saved_with(repo, create)
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(path), "--yes")
    assert result.exit_code == 1, show(result)
    assert "it would write watch 'smuggled' without marking it as environment 'dev'" in (
        result.stderr
    ), show(result)
    assert sandbox.writes() == []


def test_a_saved_plan_cannot_hand_an_owned_watch_to_another_environment(
    repo: Repo, sandbox: Sandbox
) -> None:
    entry = hostile_entry(sandbox, "Rule-0000", "update")
    entry["after"]["metadata"]["watchmgr"]["environment"] = "prod"
    path = saved_with(repo, entry)
    before = version(sandbox, "Rule-0000")
    sandbox.clear_log()
    result = repo.run("apply", "--env", "dev", str(path), "--yes")
    assert result.exit_code == 1, show(result)
    assert "it would write watch 'Rule-0000' without marking it as environment 'dev'" in (
        result.stderr
    ), show(result)
    assert sandbox.writes() == []
    assert version(sandbox, "Rule-0000") == before


def test_ownership_is_checked_under_the_lock_for_every_plan(repo: Repo, sandbox: Sandbox) -> None:
    """Not only saved plans: any plan handed to apply is checked against the cluster under the
    lock (here one made in memory, which skips the check before the lock)."""
    cluster = connect_url(sandbox.url, "dev")
    entry = hostile_entry(sandbox, "hand-made", "delete")
    forged = plan_from_document(
        {"format_version": 1, "environments": [{"name": "dev", "changes": [entry]}]},
        "dev",
        "memory",
    )
    sandbox.clear_log()
    with pytest.raises(PlanError, match="it would delete watch 'hand-made'"):
        apply_plan(cluster, forged)
    assert es_client(sandbox).watcher.get_watch(id="hand-made")["found"]
    assert [e.path for e in sandbox.writes()] == ["/_watcher/watch/watchmgr-lock-dev"] * 2
    assert cluster.unlock() is None  # taken, then given back
