"""The options every command takes: --version, -q, -v, --no-color (and NO_COLOR), and shell
completion."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from tests.plan.support import Repo, rule_yaml, show
from watchmgr import __version__
from watchmgr.cli import app
from watchmgr.errors import ExitCode

ESC = "\x1b["
COLOUR = re.compile(r"\x1b\[(\d+;)*(3\d|9[0-7])(;\d+)*m")  # a foreground colour


def run(repo: Repo, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--root", str(repo.root)], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"watchmgr {__version__}\n")


def test_quiet_keeps_data_and_errors_only(repo: Repo) -> None:
    repo.rule("dated", rule_yaml("Dated", date="27/10/2019"))
    code, out, err = run(repo, "-q", "render")
    assert code == 0 and err == "" and len(out.splitlines()) == 4, (out, err)
    repo.rule("broken", "title: Broken\nlogsource: {product: windows}\ndetection: {}\n")
    code, _, err = run(repo, "-q", "validate")
    assert code == ExitCode.ERROR
    assert [line.split(":")[0] for line in err.splitlines()] == ["rules/broken.yml"], err


def test_verbose_says_how_long_the_command_took(repo: Repo) -> None:
    code, _, err = run(repo, "-v", "validate")
    assert code == 0, err
    assert re.fullmatch(r"watchmgr validate: \d+\.\d\d s", err.splitlines()[-1]), err


def test_quiet_and_verbose_together_are_a_usage_error(repo: Repo) -> None:
    code, _, err = run(repo, "-q", "-v", "validate")
    assert code == ExitCode.USAGE and "give -q or -v, not both" in err, err


def test_colour_is_forced_off_by_no_color_and_by_its_variable(repo: Repo) -> None:
    code, out, _ = run(repo, "plan", "--env", "dev", env={"FORCE_COLOR": "1"})
    assert code == 0 and COLOUR.search(out), out  # the control: Rich colours when forced to
    code, out, _ = run(repo, "--no-color", "plan", "--env", "dev", env={"FORCE_COLOR": "1"})
    assert code == 0 and ESC not in out, out  # plain text, bold included
    code, out, _ = run(repo, "plan", "--env", "dev", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert code == 0 and not COLOUR.search(out), out  # no-color.org: bold may stay


def test_shell_completion_is_turned_on(repo: Repo) -> None:
    script = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="watchmgr")
    assert script.exit_code == 0, show(script)
    assert "_watchmgr_completion" in script.stdout
    completed = CliRunner().invoke(
        app,
        [],
        prog_name="watchmgr",
        complete_var="_WATCHMGR_COMPLETE",
        env={"_WATCHMGR_COMPLETE": "complete_bash", "COMP_WORDS": "watchmgr st", "COMP_CWORD": "1"},
    )
    assert completed.stdout.split() == ["status"], show(completed)
