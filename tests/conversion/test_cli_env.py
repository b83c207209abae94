"""The CLI with environments: render/validate --env, environments, config show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.config.support import shipped_environments
from watchmgr.cli import app

REPO = Path(__file__).resolve().parents[2]


def _render(*args: str) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(app, ["render", "--root", str(REPO), *args])
    assert result.exit_code == 0, result.output
    return {r["source"]: r for r in map(json.loads, result.stdout.splitlines())}


def test_render_with_an_environment_uses_its_rules_and_settings() -> None:
    local = _render("--env", "local")
    prod = _render("--env", "prod")
    assert len(prod) < len(local)  # prod deploys stable rules of medium level and up
    source, watch = next(iter(prod.items()))
    body = watch["body"]
    assert isinstance(body, dict)
    assert body["metadata"]["watchmgr"]["environment"] == "prod"
    assert body["input"]["search"]["request"]["indices"] != []
    assert str(watch["id"]).startswith("sigma-")
    assert local[source]["body"]["input"]["search"]["request"]["indices"] == []  # type: ignore[index]


def test_an_unknown_environment_lists_the_ones_that_exist(tmp_path: Path) -> None:
    root = shipped_environments(tmp_path)
    result = CliRunner().invoke(app, ["render", "--root", str(root), "--env", "qa"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "watchmgr: unknown environment 'qa': there is no environments/qa.yaml "
        "(environments: dev, local, prod, staging)"
    )
    assert result.stdout == ""


def test_environments_lists_each_target() -> None:
    result = CliRunner().invoke(app, ["environments", "--root", str(REPO)])
    assert result.exit_code == 0
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["local"] == "sandbox .watchmgr/local.json"
    assert lines["prod"].startswith("elasticsearch Elastic Cloud")


def test_config_show_never_prints_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHMGR_PROD_API_KEY", "c2VjcmV0LXZhbHVlLW5vdC10by1wcmludA==")
    for debug in ([], ["--debug"]):
        args = ["config", "show", "--root", str(REPO), "--env", "prod", *debug]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "c2VjcmV0LXZhbHVl" not in result.output
        assert "api_key_env: WATCHMGR_PROD_API_KEY" in result.stdout
        assert "api_key: '***'" in result.stdout
