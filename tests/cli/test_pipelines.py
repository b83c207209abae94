"""``watchmgr pipelines``: the installed pySigma pipelines, as sigma-cli lists them, each a name
an environment's mapping.pipelines accepts."""

from __future__ import annotations

import json

from sigma.plugins import InstalledSigmaPlugins
from typer.testing import CliRunner

from tests.plan.support import Repo, show
from watchmgr.cli import app


def test_every_installed_pipeline_is_listed_with_what_it_is() -> None:
    result = CliRunner().invoke(app, ["pipelines", "--format", "json"])
    assert result.exit_code == 0, show(result)
    listed = json.loads(result.stdout)["pipelines"]
    installed = sorted(InstalledSigmaPlugins.autodiscover().pipelines)
    assert [p["identifier"] for p in listed] == installed
    windows = next(p for p in listed if p["identifier"] == "ecs_windows")
    assert windows["name"].startswith("Elastic Common Schema (ECS) Windows")
    assert windows["priority"] == 20 and "elasticsearch" in windows["backends"]


def test_the_text_form_has_a_line_per_pipeline() -> None:
    result = CliRunner().invoke(app, ["pipelines"])
    assert result.exit_code == 0, show(result)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["identifier", "priority", "backends"]
    assert sorted(line.split()[0] for line in lines[1:]) == sorted(
        InstalledSigmaPlugins.autodiscover().pipelines
    )


def test_each_listed_name_is_one_an_environment_takes(repo: Repo) -> None:
    listed = CliRunner().invoke(app, ["pipelines", "--format", "json"]).stdout
    for pipeline in json.loads(listed)["pipelines"]:
        name = pipeline["identifier"]
        repo.environment("local", f"sandbox: {{state: x.json}}\nmapping:\n  pipelines: [{name}]\n")
        result = repo.run("validate", "--env", "local", "--no-cache")
        assert "unknown pipeline" not in result.stderr, (name, show(result))
