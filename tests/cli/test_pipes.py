"""A closed stdout (``watchmgr render | head -1``) ends quietly, as in every Unix tool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.plan.support import Repo, rule_yaml


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    for n in range(80):  # about 150 kB of curl script: more than a pipe holds
        repo.rule(f"r{n:03}", rule_yaml(f"Rule {n:03}"))
    command = [sys.executable, "-c", "from watchmgr.cli import main; main()"]
    args = ["render", "--root", str(tmp_path), "--format", "curl", "--no-cache"]
    with subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # what `head -1` does after its line
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert first.startswith(b"curl "), first
    assert stderr == "", stderr
    assert code == 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`
