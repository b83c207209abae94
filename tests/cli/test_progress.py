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
    monkeypatch.setattr("watchmgr.output.messages.stderr_is_terminal", lambda: terminal)
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


class Screen:
    """Stands in for a terminal's stderr: a console that records what a spinner draws."""

    def __init__(self) -> None:
        import io

        from rich.console import Console

        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, force_terminal=True, width=80)

    def text(self) -> str:
        return self.buffer.getvalue()


def watched(monkeypatch: pytest.MonkeyPatch, terminal: bool) -> Screen:
    from watchmgr.output import plan

    screen = Screen()
    real = plan.console
    monkeypatch.setattr("watchmgr.output.messages.stderr_is_terminal", lambda: terminal)
    monkeypatch.setattr(plan, "console", lambda stderr=False: screen.console if stderr else real())
    return screen


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["render"], "converting the rules"),
        (["validate"], "converting the rules"),
        (["status", "--env", "dev"], "reading the watches of dev"),
        (["export", "--env", "dev"], "reading the watches of dev"),
    ],
)
def test_long_steps_show_a_spinner_on_a_terminal_only(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    screen = watched(monkeypatch, True)
    assert repo.run(*args).exit_code == 0
    assert says in screen.text()
    quiet = watched(monkeypatch, False)
    assert repo.run(*args).exit_code == 0
    assert quiet.text() == ""


def test_json_output_never_gets_a_spinner(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = watched(monkeypatch, True)
    for args in (["render", "--format", "json"], ["status", "--env", "dev", "--format", "json"]):
        assert repo.run(*args).exit_code == 0
    assert screen.text() == ""


@pytest.mark.parametrize("args", [["render"], ["validate"], ["render", "--env", "dev"]])
def test_converting_counts_the_rule_files_on_a_terminal(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    screen = watched(monkeypatch, True)
    assert repo.run(*args, "--no-cache").exit_code == 0
    assert "converting the rules" in screen.text()
    assert "3/3" in screen.text(), screen.text()


@pytest.mark.parametrize("terminal", [True, False], ids=["json on a terminal", "a pipe"])
def test_no_count_in_a_pipe_or_with_json(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    screen = watched(monkeypatch, terminal)
    args = ["render", "--format", "json"] if terminal else ["render"]
    result = repo.run(*args, "--no-cache")
    assert result.exit_code == 0
    assert screen.text() == ""
    assert "3/3" not in result.stderr + result.stdout
