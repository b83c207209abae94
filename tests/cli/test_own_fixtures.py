"""A team that adopts the repository layout adds its own environments and rules: no test may
depend on which files the project's own environments/ holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

#: The test folders that read the shipped environments.
READERS = ("tests/config", "tests/conversion/test_cli_env.py", "tests/plan/test_local.py")


def test_the_tests_pass_with_an_environment_and_a_rule_added(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for folder in ("tests", "rules", "environments"):
        shutil.copytree(REPO / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy)
    (copy / "environments" / "qa.yaml").write_text(
        "extends: base.yaml\nelasticsearch:\n  hosts: [https://qa.example.com:9200]\n"
    )
    (copy / "rules" / "team_rule.yml").write_text(
        "title: Team Rule\nlogsource: {product: windows}\ndetection: {s: {x: 1}, condition: s}\n"
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *READERS],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout[-3000:]
