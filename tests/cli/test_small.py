"""The small rough edges: every error line starts the same way, usage errors suggest only a real
look-alike, help shows no Python types, tag warnings name the tag and the fix, local.yaml's
comment holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.plan.support import Repo, rule_yaml, show
from watchmgr.cli import app
from watchmgr.errors import ExitCode

COMMANDS = (["render"], ["validate"], ["plan"], ["apply"], ["environments"], ["config", "show"])


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["plan", "--bogus"], "watchmgr: no such option: --bogus; see 'watchmgr plan --help'"),
        (
            ["plan", "--detailed-exitcodes"],
            "watchmgr: no such option: --detailed-exitcodes (did you mean --detailed-exitcode?); "
            "see 'watchmgr plan --help'",
        ),
        (["apply"], "watchmgr: missing option '--env' / '-e'; see 'watchmgr apply --help'"),
        (
            ["plna"],
            "watchmgr: no such command 'plna' (did you mean 'plan'?); see 'watchmgr --help'",
        ),
        (
            ["render", "--format", "yaml"],
            "watchmgr: unknown format 'yaml' (use one of: ndjson, json, curl, query); "
            "see 'watchmgr render --help'",
        ),
    ],
)
def test_usage_errors_are_one_line_that_starts_like_every_other_error(
    args: list[str], line: str, tmp_path: Path
) -> None:
    result = Repo(tmp_path).run(*args)
    assert result.exit_code == ExitCode.USAGE, show(result)
    assert result.stderr.splitlines() == [line], show(result)


def test_every_error_line_is_place_colon_message(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule("bad", "title: Bad\nlogsource: {product: windows}\ndetection: {condition: nope}\n")
    repo.environment("dev", "sandbox: {state: .watchmgr/dev.json}\n")
    for args in (["validate"], ["plan", "--env", "dev"], ["plan", "--env", "qa"], ["nope"]):
        result = repo.run(*args)
        assert result.exit_code != 0, show(result)
        for line in result.stderr.splitlines():
            if re.match(r"\d+ rules?, ", line):  # validate's closing count
                continue
            assert re.match(r"(watchmgr|rules/\S+?(:\d+)?): \S", line), show(result)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_no_python_types(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert not re.search(r"<(str|int|float|bool|path|list\[\w+\]|int range)>", result.stdout), (
        result.stdout
    )


def test_a_tag_without_namespace_is_named_with_its_fix_at_its_line(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    rule = rule_yaml("Tagged").replace("status:", "tags: [Execution, attack.t1059, mytag]\nstatus:")
    repo.rule("tagged", rule)
    result = repo.run("validate")
    assert result.exit_code == 0, show(result)
    assert result.stderr.splitlines()[:2] == [
        "rules/tagged.yml:3: warning: tag 'Execution' has no namespace; write it as "
        "'attack.execution' (Sigma tags are namespace.name)",
        "rules/tagged.yml:3: warning: tag 'mytag' has no namespace; write it as namespace.name, "
        "e.g. attack.t1059, cve.2021-44228, detection.threat-hunting",
    ], show(result)


def test_local_yaml_says_truly_how_render_with_and_without_it_differ() -> None:
    text = (REPO / "environments" / "local.yaml").read_text()
    comment = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "but for `metadata.watchmgr.environment: local`" in comment
    plain = CliRunner().invoke(app, ["render", "--root", str(REPO), "--no-cache"])
    local = CliRunner().invoke(app, ["render", "--root", str(REPO), "--env", "local", "--no-cache"])
    assert plain.exit_code == local.exit_code == 0, (plain.output, local.output)
    with_env = [json.loads(line) for line in local.stdout.splitlines()]
    for record in with_env:
        owner = record["body"]["metadata"]["watchmgr"]
        assert owner.pop("environment") == "local"
    assert with_env == [json.loads(line) for line in plain.stdout.splitlines()]
