"""`watchmgr plan --format markdown` of 4,000 new watches: a comment GitHub takes, which says
it is shortened and still carries the plan's fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plan.support import Repo, show
from watchmgr.fingerprint import parse_markers
from watchmgr.output.markdown import COMMENT_LIMIT, length


@pytest.mark.slow
def test_a_4000_watch_plan_comment_is_at_most_65536_characters(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rules(4000)
    repo.environment("big", "sandbox:\n  state: .watchmgr/big.json\nrules:\n  paths: [rules/]\n")
    result = repo.run(
        "plan", "--env", "big", "--format", "markdown", "--detailed-exitcode",
        "--out", str(tmp_path / "plan.json"),
    )  # fmt: skip
    assert result.exit_code == 2, show(result)
    assert length(result.stdout) <= COMMENT_LIMIT
    assert "**Plan: 4000 to add, 0 to change, 0 to destroy.**" in result.stdout
    assert "> **Truncated**" in result.stdout
    saved = json.loads((tmp_path / "plan.json").read_text())["environments"][0]
    (marker,) = parse_markers(result.stdout)
    assert marker.fingerprint == saved["fingerprint"]
