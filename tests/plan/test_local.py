"""environments/local.yaml: `watchmgr apply --env local --yes` deploys rules/ to the sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.plan.support import Repo, show


def test_apply_local_deploys_the_rules_and_a_second_run_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    (tmp_path / "environments").mkdir()
    shutil.copy(REPO / "environments" / "local.yaml", tmp_path / "environments")
    monkeypatch.chdir(tmp_path)
    repo = Repo(tmp_path)
    first = repo.run("apply", "--env", "local", "--yes")
    assert first.exit_code == 0, show(first)
    found = (tmp_path / "rules").rglob("*.yml")
    rules = len([p for p in found if not p.name.endswith(".tests.yml")])  # tests are no rules
    assert f"Plan: {rules} to add, 0 to change, 0 to destroy." in first.stdout
    state = tmp_path / ".watchmgr" / "local.json"
    assert state.is_file()
    journal = state.with_name(state.name + ".journal")
    before = journal.read_bytes() if journal.exists() else b""
    snapshot = state.read_bytes()
    second = repo.run("apply", "--env", "local", "--yes")
    assert second.exit_code == 0, show(second)
    assert "No changes" in second.stdout
    # No write reached the sandbox: its journal (one line per write) and snapshot are unchanged.
    assert (journal.read_bytes() if journal.exists() else b"") == before
    assert state.read_bytes() == snapshot
    planned = repo.run("plan", "--env", "local", "--detailed-exitcode")
    assert planned.exit_code == 0, show(planned)
