"""The flow's edges: rule paths made relative once, the one message sink, the workflow's
diagnostics, and the sandbox handed to `cluster.connect` by the CLI rather than found by it."""

from __future__ import annotations

import ast
import io
import json
import os
from pathlib import Path

import pytest

from tests.plan.support import Repo, rule_yaml, show
from watchmgr.cli.options import tuning
from watchmgr.cluster import connect
from watchmgr.config import load_environment
from watchmgr.errors import COMMAND, ClusterError, Diagnostic, Diagnostics, SourceLocation
from watchmgr.output import messages
from watchmgr.rules import load_paths, root_relative
from watchmgr.workflow import Tuning

SANDBOX_ENV = "sandbox:\n  state: .watchmgr/sandbox.json\nrules:\n  paths: [rules/]\n"


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("rules/win/a.yml", ".", "rules/win/a.yml"),
        ("./rules/a.yml", ".", "rules/a.yml"),
        ("repo/rules/a.yml", "repo", "rules/a.yml"),
        ("repo/rules/../other/a.yml", "repo", "other/a.yml"),
        ("elsewhere/a.yml", "repo", "elsewhere/a.yml"),
    ],
)
def test_root_relative(
    path: str, root: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert root_relative(Path(path), Path(root)) == expected


def test_root_relative_mixes_absolute_and_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert root_relative(tmp_path / "repo/rules/a.yml", Path("repo")) == "rules/a.yml"
    assert root_relative(Path("repo/rules/a.yml"), tmp_path / "repo") == "rules/a.yml"
    outside = tmp_path / "other/a.yml"
    assert root_relative(outside, tmp_path / "repo") == outside.as_posix()


def test_a_rule_carries_its_root_relative_path_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.rule("win/a", rule_yaml("A"))
    monkeypatch.chdir(tmp_path / "repo" / "rules")
    (rule,) = load_paths([repo.root / "rules"], repo.root).rules
    assert rule.path == "rules/win/a.yml"
    monkeypatch.chdir(tmp_path)
    (rule,) = load_paths(["repo/rules"], Path("repo")).rules
    assert rule.path == "rules/win/a.yml"


def test_render_from_another_directory_shows_paths_from_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.rule("win/a", rule_yaml("A"))
    repo.environment("local", SANDBOX_ENV)
    monkeypatch.chdir(tmp_path / "repo" / "rules")
    for args in ([], ["--env", "local"]):
        result = repo.run("render", *args)
        assert result.exit_code == 0, show(result)
        (line,) = result.stdout.splitlines()
        assert json.loads(line)["source"] == "rules/win/a.yml", show(result)


def test_every_line_on_stderr_is_place_then_message() -> None:
    report = Diagnostics([Diagnostic(SourceLocation("rules/a.yml", 3), "bad")])
    report.warning("deletes all", SourceLocation("environments/dev.yaml", 1))
    report.failure(ClusterError("cannot reach", SourceLocation("environments/dev.yaml", 2)))
    report.warning("the plan deletes all 3 watches")
    out = io.StringIO()
    messages.write(report, out)
    assert out.getvalue().splitlines() == [
        "rules/a.yml:3: bad",
        "environments/dev.yaml:1: warning: deletes all",
        "watchmgr: environments/dev.yaml:2: cannot reach",
        "watchmgr: warning: the plan deletes all 3 watches",
    ]
    assert len(report) == 0, "what the sink printed is not printed again"
    messages.write(report, out)
    assert len(out.getvalue().splitlines()) == 4


def test_command_messages_are_located_at_the_tool() -> None:
    assert str(Diagnostic(COMMAND, "interrupted")) == "watchmgr: interrupted"


def test_plan_warns_about_overrides_that_match_no_rule_as_render_does(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule("a", rule_yaml("A"))
    repo.environment(
        "local", SANDBOX_ENV + "overrides:\n  - match: {path: rules/nothing/*}\n    skip: true\n"
    )
    expected = "environments/local.yaml:6: warning: this override matches no rule"
    for args in (["render", "--env", "local"], ["plan", "--env", "local"]):
        result = repo.run(*args)
        assert result.exit_code == 0, show(result)
        lines = [line.removeprefix(f"{tmp_path}{os.sep}") for line in result.stderr.splitlines()]
        assert expected in lines, show(result)


def test_a_sandbox_environment_needs_the_local_cluster_the_cli_provides(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.environment("local", SANDBOX_ENV)
    env = load_environment(tmp_path, "local")
    with pytest.raises(ClusterError, match="deploys to a local sandbox"), connect(env):
        pass


def test_connect_uses_the_local_cluster_it_is_given(tmp_path: Path) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from watchmgr.config import Environment
    from watchmgr.sandbox import Sandbox, SandboxConfig

    repo = Repo(tmp_path)
    repo.environment("local", SANDBOX_ENV)
    env = load_environment(tmp_path, "local")
    started: list[str] = []

    @contextmanager
    def local(given: Environment) -> Iterator[tuple[str, str]]:
        with Sandbox(SandboxConfig(es_version="9.1.0")) as sandbox:
            started.append(given.name)
            yield sandbox.url, "a test's sandbox"

    with connect(env, local=local) as cluster:
        assert cluster.list_owned() == [] and cluster.describe == "a test's sandbox"
    assert started == ["local"]


# ------------------------------------------------------------------------------ no hidden knobs

PACKAGE = Path(__file__).resolve().parent.parent / "watchmgr"


def _product_sources() -> dict[str, ast.Module]:
    return {
        path.relative_to(PACKAGE.parent).as_posix(): ast.parse(path.read_text("utf-8"))
        for path in PACKAGE.rglob("*.py")
        if "sandbox" not in path.relative_to(PACKAGE).parts
    }


def test_the_tuning_variables_are_read_at_the_edge_from_the_mapping_it_is_given() -> None:
    assert tuning(True, {}) == Tuning(cache=True, jobs=None)
    assert tuning(False, {}) == Tuning(cache=False, jobs=None)
    assert tuning(True, {"WATCHMGR_NO_CACHE": "1"}) == Tuning(cache=False, jobs=None)
    assert tuning(True, {"WATCHMGR_NO_CACHE": ""}) == Tuning(cache=True, jobs=None)
    assert tuning(True, {"WATCHMGR_JOBS": "3"}) == Tuning(cache=True, jobs=3)
    assert tuning(True, {"WATCHMGR_JOBS": "many"}) == Tuning(cache=True, jobs=None)


def test_only_the_cli_reads_the_process_environment() -> None:
    # config/ still resolves the variables an environment file names (its secrets) by itself;
    # nothing else may read os.environ or os.getenv.
    readers = {
        module
        for module, tree in _product_sources().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id, node.attr) in (("os", "environ"), ("os", "getenv"))
    }
    assert {m for m in readers if not m.startswith(("watchmgr/cli/", "watchmgr/config"))} == set()


def test_no_product_module_keeps_state_in_a_global() -> None:
    found = [
        f"{module}:{node.lineno}"
        for module, tree in _product_sources().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Global)
    ]
    assert found == []


def test_watchmgr_no_cache_reaches_the_conversion_through_the_edge(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule("a", rule_yaml("A"))
    cache = tmp_path / ".watchmgr" / "cache"
    rules = str(tmp_path / "rules")
    result = repo.run("render", rules, env={"WATCHMGR_NO_CACHE": "1"})
    assert result.exit_code == 0 and not cache.exists(), show(result)
    result = repo.run("render", rules, env={"WATCHMGR_NO_CACHE": ""})
    assert result.exit_code == 0 and cache.is_dir(), show(result)


def test_the_package_carries_no_module_only_the_tests_use() -> None:
    # Test data (the sandbox's rule table, say) lives in tests/: every module of the package is
    # imported by another one, or run by itself.
    from tests.test_architecture import MODULES, _imports

    imported = {name for module in MODULES for name in _imports(module)}
    run_by_itself = {"watchmgr.sandbox.__main__"}  # python -m watchmgr.sandbox
    assert set(MODULES) - imported - run_by_itself == set()
