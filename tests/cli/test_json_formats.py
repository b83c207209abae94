"""``--format json`` on every command that reports: one versioned, sorted document on stdout.
``validate --strict`` fails on warnings."""

from __future__ import annotations

import json
from typing import Any

from tests.plan.support import Repo, rule_yaml, show
from watchmgr.errors import ExitCode
from watchmgr.sandbox import Sandbox


def document(repo: Repo, *args: str, code: int = 0) -> dict[str, Any]:
    result = repo.run(*args, "--format", "json")
    assert result.exit_code == code, show(result)
    data = json.loads(result.stdout)
    assert data["format_version"] == 1, data
    assert result.stdout == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return data  # type: ignore[no-any-return]


def with_a_warning(repo: Repo) -> None:
    repo.rule("dated", rule_yaml("Dated", date="27/10/2019"))


def test_validate(repo: Repo) -> None:
    with_a_warning(repo)
    repo.rule("broken", "title: Broken\nlogsource: {product: windows}\ndetection: {}\n")
    data = document(repo, "validate", code=ExitCode.ERROR)
    assert (data["rules"], data["watches"]) == (4, 4)
    assert [e["path"] for e in data["errors"]] == ["rules/broken.yml"]
    assert data["warnings"] == [
        {
            "path": "rules/dated.yml",
            "line": 12,
            "message": "Rule date '27/10/2019' is invalid, use yyyy-mm-dd",
        }
    ]


def test_validate_strict_fails_on_warnings(repo: Repo) -> None:
    assert repo.run("validate").exit_code == 0
    assert repo.run("validate", "--strict").exit_code == 0  # nothing to warn about
    with_a_warning(repo)
    lenient = repo.run("validate")
    assert lenient.exit_code == 0, show(lenient)
    strict = repo.run("validate", "--strict")
    assert strict.exit_code == ExitCode.ERROR, show(strict)
    assert strict.stderr.splitlines()[-1] == (
        "watchmgr: 1 warning and --strict: fix them, or validate without --strict"
    )
    assert document(repo, "validate", "--strict", code=ExitCode.ERROR)["strict"] is True


def test_environments(repo: Repo, sandbox: Sandbox) -> None:
    repo.environment("local", "sandbox:\n  state: .watchmgr/local.json\n")
    assert document(repo, "environments")["environments"] == [
        {
            "name": "dev",
            "path": "environments/dev.yaml",
            "target": f"elasticsearch {sandbox.url} (no authentication)",
        },
        {
            "name": "local",
            "path": "environments/local.yaml",
            "target": "sandbox .watchmgr/local.json",
        },
    ]


def test_config_show(repo: Repo, sandbox: Sandbox) -> None:
    data = document(repo, "config", "show", "--env", "dev")
    settings = data["environment"]
    assert settings["elasticsearch"]["hosts"] == [sandbox.url]
    assert settings["watch"]["interval"] == "30m"


def test_apply_results(repo: Repo, sandbox: Sandbox) -> None:
    result = repo.run("apply", "--env", "dev", "--yes", "--format", "json")
    assert result.exit_code == 0, show(result)
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["environment"] == "dev"
    assert data["summary"] == {"done": 3}
    assert data["results"][0] == {
        "id": "Rule-0000",
        "action": "create",
        "outcome": "done",
        "message": "created",
    }
    assert "Plan: 3 to add" in result.stderr  # the plan, for people, off stdout
    nothing = document(repo, "apply", "--env", "dev", "--yes")
    assert (nothing["results"], nothing["ok"]) == ([], True)


def test_status(repo: Repo) -> None:
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0
    assert len(document(repo, "status", "--env", "dev")["watches"]) == 3


def test_an_unknown_format_is_a_usage_error(repo: Repo) -> None:
    for args in (
        ["validate"],
        ["environments"],
        ["apply", "--env", "dev", "--yes"],
        ["status", "--env", "dev"],
        ["config", "show", "--env", "dev"],
    ):
        result = repo.run(*args, "--format", "xml")
        assert result.exit_code == ExitCode.USAGE, show(result)
        assert result.stderr.startswith("watchmgr: unknown format 'xml' (use one of: "), show(
            result
        )
