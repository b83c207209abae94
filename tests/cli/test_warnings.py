"""Every warning a command's inputs produce is shown by every command that reads them, and the
JSON plan carries them as ``warnings: [{path, line, message}]``."""

from __future__ import annotations

import json

from tests.plan.support import Repo, show

UNUSED = "overrides:\n  - match: {id: 00000000-0000-0000-0000-000000000000}\n    active: false\n"
WARNING = "environments/dev.yaml:6: warning: this override matches no rule"


def with_unused_override(repo: Repo) -> Repo:
    text = (repo.root / "environments" / "dev.yaml").read_text()
    repo.environment("dev", text + UNUSED)
    return repo


def test_plan_and_apply_print_the_warnings_validate_prints(repo: Repo) -> None:
    with_unused_override(repo)
    for args in (
        ["validate", "--env", "dev"],
        ["render", "--env", "dev"],
        ["plan", "--env", "dev"],
        ["apply", "--env", "dev", "--yes"],
    ):
        result = repo.run(*args)
        assert result.exit_code == 0, show(result)
        assert WARNING in result.stderr.splitlines(), show(result)


def test_the_json_plan_carries_the_warnings(repo: Repo) -> None:
    with_unused_override(repo)
    result = repo.run("plan", "--env", "dev", "--format", "json")
    assert result.exit_code == 0, show(result)
    warnings = json.loads(result.stdout)["warnings"]
    assert {
        "path": "environments/dev.yaml",
        "line": 6,
        "message": "this override matches no rule",
    } in warnings, warnings


def test_a_plan_without_warnings_says_so(repo: Repo) -> None:
    result = repo.run("plan", "--env", "dev", "--format", "json")
    assert json.loads(result.stdout)["warnings"] == [], show(result)


def test_a_saved_plan_carries_them_too_and_still_applies(repo: Repo) -> None:
    with_unused_override(repo)
    saved = repo.root / "plan.json"
    assert repo.run("plan", "--env", "dev", "--out", str(saved)).exit_code == 0
    assert json.loads(saved.read_text())["warnings"][-1]["line"] == 6
    result = repo.run("apply", "--env", "dev", str(saved), "--yes")
    assert result.exit_code == 0, show(result)
