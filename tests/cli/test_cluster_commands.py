"""``status``, ``export`` and ``destroy`` against the sandbox: what is on an environment's
cluster, read with the paged query_watches, saved, and deleted behind plan, prompt and guards."""

from __future__ import annotations

import json

import pytest

from tests.plan.support import Repo, es_client, show
from watchmgr.errors import ExitCode
from watchmgr.sandbox import Sandbox

HAND = {"trigger": {"schedule": {"interval": "1h"}}, "input": {"none": {}}, "actions": {}}


def deployed(repo: Repo, sandbox: Sandbox) -> None:
    """Three watches: Rule-0000 failed its last run, Rule-0001 deactivated, Rule-0002 ran fine
    and its action was acknowledged; one hand-made watch beside them."""
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    es = es_client(sandbox)
    es.watcher.execute_watch(id="Rule-0000", ignore_condition=True, record_execution=True)
    es.watcher.deactivate_watch(watch_id="Rule-0001")
    es.watcher.execute_watch(
        id="Rule-0002",
        ignore_condition=True,
        record_execution=True,
        action_modes={"_all": "simulate"},
    )
    es.watcher.ack_watch(watch_id="Rule-0002")
    es.watcher.put_watch(id="hand-made", body=HAND)
    sandbox.clear_log()


def test_status_lists_owned_watches_worst_first_in_one_paged_read(
    repo: Repo, sandbox: Sandbox
) -> None:
    deployed(repo, sandbox)
    result = repo.run("status", "--env", "dev", "--format", "json")
    assert result.exit_code == 0, show(result)
    document = json.loads(result.stdout)
    assert document["format_version"] == 1 and document["environment"] == "dev"
    watches = document["watches"]
    assert [(w["id"], w["health"]) for w in watches] == [
        ("Rule-0000", "failing"),
        ("Rule-0001", "inactive"),
        ("Rule-0002", "ok"),
    ]
    failing, _, fine = watches
    assert "send_email: the watchmgr sandbox does not deliver [email]" in failing["error"]
    assert failing["last_checked"] and failing["last_met_condition"]
    assert fine["acked"] == ["send_email"] and fine["error"] is None
    assert fine["source"] == "rules/r0002.yml"
    paths = [entry.path for entry in sandbox.request_log]
    assert paths == ["/_watcher/_query/watches"], paths


def test_status_text_and_fail_on(repo: Repo, sandbox: Sandbox) -> None:
    deployed(repo, sandbox)
    text = repo.run("status", "--env", "dev")
    assert text.exit_code == 0, show(text)
    first = next(line for line in text.stdout.splitlines() if "Rule-" in line)
    assert first.split()[:2] == ["failing", "Rule-0000"], text.stdout
    assert "1 failing, 1 inactive, 1 ok" in text.stdout
    gate = repo.run("status", "--env", "dev", "--fail-on", "unhealthy")
    assert gate.exit_code == ExitCode.ERROR, show(gate)
    assert gate.stderr == "watchmgr: 1 of 3 watches are unhealthy (--fail-on unhealthy)\n"
    stricter = repo.run("status", "--env", "dev", "--fail-on", "inactive")
    assert "2 of 3 watches are inactive" in stricter.stderr, show(stricter)


def test_export_saves_the_owned_watches_or_all_of_them(repo: Repo, sandbox: Sandbox) -> None:
    deployed(repo, sandbox)
    owned = repo.run("export", "--env", "dev")
    assert owned.exit_code == 0, show(owned)
    records = [json.loads(line) for line in owned.stdout.splitlines()]
    assert [(r["id"], r["active"]) for r in records] == [
        ("Rule-0000", True),
        ("Rule-0001", False),
        ("Rule-0002", True),
    ]
    assert records[0]["body"]["metadata"]["watchmgr"]["environment"] == "dev"
    out = repo.root / "backup"
    everything = repo.run("export", "--env", "dev", "--all", "--out", str(out))
    assert everything.exit_code == 0, show(everything)
    assert everything.stderr == f"exported 5 watches to {out}\n"
    names = sorted(p.name for p in out.glob("*.json"))
    assert names == [
        "Rule-0000.json",
        "Rule-0001.json",
        "Rule-0002.json",
        "hand-made.json",
        "watchmgr-lock-dev.json",  # the free lock is a watch like any other
    ]
    restored = json.loads((out / "hand-made.json").read_text())
    es_client(sandbox).watcher.put_watch(id="restored", body=restored)  # PUT back as it is


def test_destroy_deletes_only_the_environments_own_watches(repo: Repo, sandbox: Sandbox) -> None:
    deployed(repo, sandbox)
    refused = repo.run("destroy", "--env", "dev")
    assert refused.exit_code == ExitCode.USAGE, show(refused)  # no terminal, no --yes
    assert "destroy asks before writing" in refused.stderr, show(refused)
    declined = repo.run("destroy", "--env", "dev", "--yes", "--parallelism", "0")
    assert declined.exit_code == ExitCode.USAGE, show(declined)
    assert [e for e in sandbox.writes() if e.status < 300] == []
    result = repo.run("destroy", "--env", "dev", "--yes")
    assert result.exit_code == 0, show(result)
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in result.stdout
    assert result.stdout.count("destroy deletes every watch this environment owns") == 3
    assert "Apply dev: 3 done, 0 not done." in result.stdout
    left = es_client(sandbox).watcher.query_watches(size=100)["watches"]
    assert sorted(w["_id"] for w in left) == ["hand-made", "watchmgr-lock-dev"]
    again = repo.run("destroy", "--env", "dev", "--yes")
    assert again.exit_code == 0 and "No changes." in again.stdout, show(again)


def test_status_pages_through_many_watches(
    repo: Repo, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    monkeypatch.setattr("watchmgr.cluster.PAGE_SIZE", 2)
    sandbox.clear_log()
    result = repo.run("status", "--env", "dev", "--format", "json")
    assert [w["health"] for w in json.loads(result.stdout)["watches"]] == ["never run"] * 3
    assert [e.path for e in sandbox.request_log] == ["/_watcher/_query/watches"] * 2
