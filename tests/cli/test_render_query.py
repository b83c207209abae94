"""``render --format query [--target T]``: each rule's bare query, one a line: es-qs (the
watch's own query_string, as the seed shows it), or splunk / logpoint through the optional
pySigma backends, with one clear line when a backend is not installed."""

from __future__ import annotations

import codecs
import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.plan.support import Repo, rule_yaml, show
from watchmgr.errors import ExitCode


def seed(shared: Path) -> tuple[str, str]:
    """The seed's rule and its es-qs query (the page stored both escaped, as a bytes repr)."""
    text = next((shared / "seed").glob("*.txt")).read_text(encoding="utf-8")
    rule = re.search(r"### Sigma rule\s*\n+```\n(.*?)\n```", text, re.DOTALL)
    query = re.search(r"### es-qs\s*\n\s*```\n(.*?)\n```", text, re.DOTALL)
    assert rule is not None and query is not None
    return rule.group(1), codecs.escape_decode(query.group(1).strip().encode())[0].decode()


def test_es_qs_is_the_seeds_query(shared: Path, tmp_path: Path) -> None:
    rule, expected = seed(shared)
    repo = Repo(tmp_path)
    repo.rule("seed", rule)
    # The seed's text is sigmac's of 2020: the dialect that reproduces it byte for byte.
    result = repo.run("render", "--dialect", "sigmac-2020", "--format", "query")
    assert result.exit_code == 0, show(result)
    assert result.stdout == expected + "\n"
    targeted = repo.run(
        "render", "--dialect", "sigmac-2020", "--format", "query", "--target", "es-qs"
    )
    assert targeted.stdout == result.stdout


def test_es_qs_is_each_watchs_query_in_watch_order(repo: Repo) -> None:
    rendered = [json.loads(line) for line in repo.run("render").stdout.splitlines()]
    result = repo.run("render", "--format", "query")
    assert result.stdout.splitlines() == [r["body"]["metadata"]["query"] for r in rendered]


def test_a_backend_that_is_not_installed_is_one_line(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sigma.backends.splunk", None)  # import fails
    result = repo.run("render", "--format", "query", "--target", "splunk")
    assert result.exit_code == ExitCode.ERROR, show(result)
    assert result.stderr == (
        "watchmgr: --target splunk needs the pySigma backend pysigma-backend-splunk, which is "
        "not installed (pip install pysigma-backend-splunk)\n"
    )
    assert result.stdout == ""


class FakeLogpoint:
    """Stands in for pysigma-backend-logpoint's backend: the same call, a recognisable text."""

    def convert_rule(self, rule: Any) -> list[str]:
        if rule.title == "Refused":
            raise ValueError("the backend cannot express this")
        return [f'title="{rule.title}"']


def test_an_installed_backend_converts_each_rule(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("sigma.backends.logpoint")
    module.Logpoint = FakeLogpoint  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sigma.backends.logpoint", module)
    result = repo.run("render", "--format", "query", "--target", "logpoint")
    assert result.exit_code == 0, show(result)
    assert result.stdout.splitlines() == [f'title="Rule {n:04}"' for n in range(3)]
    repo.rule("refused", rule_yaml("Refused"))
    refused = repo.run("render", "--format", "query", "--target", "logpoint")
    assert refused.exit_code == ExitCode.ERROR, show(refused)
    assert refused.stderr == ("rules/refused.yml:1: logpoint: the backend cannot express this\n"), (
        show(refused)
    )
    assert len(refused.stdout.splitlines()) == 3


def test_an_unknown_target_is_a_usage_error(repo: Repo) -> None:
    result = repo.run("render", "--format", "query", "--target", "qradar")
    assert result.exit_code == ExitCode.USAGE, show(result)
    assert result.stderr == (
        "watchmgr: unknown --target 'qradar' (use one of: es-qs, splunk, logpoint)\n"
    )
