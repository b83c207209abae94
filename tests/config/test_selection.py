"""Path globs, rule filters and the logsource → indices mapping (pure, table-driven)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.config.support import REPO
from watchmgr.config import load_environment
from watchmgr.rules import load_paths
from watchmgr.selection import Glob, IndexMapping, IndexRoute
from watchmgr.watch import render_rules

GLOBS = [
    ("rules/windows/*", "rules/windows/a.yml", True),
    ("rules/windows/*", "rules/windows/sub/a.yml", False),
    ("rules/**/a.yml", "rules/a.yml", True),
    ("rules/**/a.yml", "rules/x/y/a.yml", True),
    ("rules/**", "rules/x/y/a.yml", True),
    ("*_wip.yml", "rules/deep/x_wip.yml", True),
    ("*_wip.yml", "rules/deep/x_wip.yml.bak", False),
    ("rules/windows/legacy/", "rules/windows/legacy/a/b.yml", True),
    ("rules/windows/legacy/", "rules/windows/legacy2/a.yml", False),
    ("./rules/?.yml", "rules/a.yml", True),
    ("rules/?.yml", "rules/ab.yml", False),
    ("rules/[ab].yml", "rules/b.yml", True),
    ("rules/[!ab].yml", "rules/b.yml", False),
    ("rules/a+b.yml", "rules/a+b.yml", True),
    ("rules/a+b.yml", "rules/aab.yml", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), GLOBS)
def test_glob(pattern: str, path: str, expected: bool) -> None:
    assert Glob(pattern).matches(path) is expected


def test_most_specific_index_route_wins_then_the_first() -> None:
    mapping = IndexMapping(
        default=("logs-*",),
        by_logsource=(
            IndexRoute((("product", "windows"),), ("win-*",)),
            IndexRoute((("product", "windows"), ("service", "security")), ("sec-*",)),
            IndexRoute((("service", "security"), ("product", "windows")), ("never-*",)),
            IndexRoute((("category", "dns"),), ("dns-*",)),
        ),
    )
    assert mapping.indices_for({"logsource": {"product": "Windows", "service": "security"}}) == (
        "sec-*",
    )
    assert mapping.indices_for({"logsource": {"product": "windows", "category": "dns"}}) == (
        "win-*",
    )
    assert mapping.indices_for({"logsource": {"category": "dns"}}) == ("dns-*",)
    assert mapping.indices_for({"logsource": {"product": "linux"}}) == ("logs-*",)
    assert mapping.indices_for({}) == ("logs-*",)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["local", "dev", "staging", "prod"])
def test_every_corpus_rule_prepares_and_renders_without_exceptions(shared: Path, name: str) -> None:
    corpus = shared / "corpus" / "sigmahq"
    # Rules are loaded relative to the corpus, the root the environment is pointed at: their
    # paths are not under this repository's rules/.
    loaded = load_paths([corpus / "rules"], corpus)
    env = load_environment(REPO, name)
    env = dataclasses.replace(
        env, root=corpus, rules=dataclasses.replace(env.rules, paths=("rules/",))
    )
    prepared, problems = env.prepare_rules(loaded.rules)
    assert not problems, problems[:5]
    result = render_rules(prepared, env.settings_for)
    assert result.watches
    assert len(result.watches) + len(result.diagnostics) >= len(prepared) // 2
