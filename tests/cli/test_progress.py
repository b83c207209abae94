"""Progress goes to stderr on a terminal only, and never with --format json."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plan.support import Repo, show
from watchmgr import workflow


def progress_given(repo: Repo, monkeypatch: pytest.MonkeyPatch, terminal: bool, *args: str) -> Any:
    seen: list[Any] = []
    real = workflow.apply

    def spy(*a: Any, **kw: Any) -> Any:
        seen.append(kw["progress"])
        return real(*a, **kw)

    monkeypatch.setattr(workflow, "apply", spy)
    monkeypatch.setattr("watchmgr.cli.plan.stderr_is_terminal", lambda: terminal)
    result = repo.run("apply", "--env", "dev", "--yes", *args)
    assert result.exit_code == 0, show(result)
    (given,) = seen
    return given


def test_a_terminal_gets_a_progress_bar(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    assert callable(progress_given(repo, monkeypatch, True))


def test_a_pipe_or_a_log_gets_none(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_given(repo, monkeypatch, False) is None


def test_json_output_gets_none_even_on_a_terminal(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert progress_given(repo, monkeypatch, True, "--format", "json") is None
