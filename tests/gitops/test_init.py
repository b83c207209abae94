"""`watchmgr init`: a rules repository that validates, applies to the sandbox at once and
carries the same linted, tested workflows as this repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.gitops.test_workflow_rules import lint
from tests.gitops.workflows import BIN, WORKFLOWS, command_lines, run_step, step, watchmgr_steps
from tests.plan.support import show
from watchmgr.cli import app


def init(*args: str) -> Result:
    return CliRunner().invoke(app, ["init", *args])


@pytest.fixture
def made(tmp_path: Path) -> Path:
    root = tmp_path / "detections"
    result = init(str(root))
    assert result.exit_code == 0, show(result)
    return root


def test_init_writes_the_repository_and_says_what_next(tmp_path: Path) -> None:
    result = init(str(tmp_path / "new"))
    assert result.exit_code == 0, show(result)
    written = sorted(
        p.relative_to(tmp_path / "new").as_posix()
        for p in (tmp_path / "new").rglob("*")
        if p.is_file()
    )
    assert written == [
        ".github/requirements.txt",
        ".github/workflows/apply.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/drift.yml",
        ".github/workflows/plan.yml",
        ".gitignore",
        "README.md",
        "environments/dev.yaml",
        "environments/local.yaml",
        "environments/prod.yaml",
        "environments/staging.yaml",
        "rules/windows/whoami_execution.yml",
    ]
    assert "wrote 12 files to" in result.stderr
    assert "watchmgr @ file://" in (tmp_path / "new/.github/requirements.txt").read_text()


def test_init_refuses_to_overwrite_without_force(made: Path) -> None:
    (made / "rules/windows/whoami_execution.yml").write_text("edited\n")
    again = init(str(made))
    assert again.exit_code == 1, show(again)
    assert again.stderr == (
        f"watchmgr: {made}/.github/requirements.txt: exists (and 11 more); init writes nothing "
        "over existing files (use --force to overwrite them)\n"
    )
    assert (made / "rules/windows/whoami_execution.yml").read_text() == "edited\n"
    forced = init(str(made), "--force")
    assert forced.exit_code == 0, show(forced)
    assert "title: Whoami Execution" in (made / "rules/windows/whoami_execution.yml").read_text()


def test_one_existing_file_is_enough_to_refuse_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    result = init(str(tmp_path))
    assert result.exit_code == 1 and "README.md: exists;" in result.stderr, show(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_init_into_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = init(str(tmp_path / "file"))
    assert result.exit_code == 1, show(result)
    assert (
        result.stderr
        == f"watchmgr: {tmp_path}/file: is a file; give a directory to make the repository in\n"
    )


def _readme_commands(root: Path) -> list[str]:
    readme = (root / "README.md").read_text()
    block = re.search(r"## Set up\n\n```sh\n(.*?)```", readme, re.S)
    assert block is not None, readme
    return block.group(1).strip().splitlines()


def test_the_readme_commands_work_in_the_new_repository_at_once(made: Path) -> None:
    install, *commands = _readme_commands(made)
    assert install == "python -m pip install -r .github/requirements.txt"
    assert commands == ["watchmgr apply --env local --yes"]
    for command in [
        "watchmgr validate",
        *commands,
        "watchmgr plan --env local --detailed-exitcode",
    ]:
        done = subprocess.run(
            [str(BIN / "watchmgr"), *command.split()[1:]],
            cwd=made,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert "No changes." in _run(made, "plan", "--env", "local")  # applied: nothing left


def _run(root: Path, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "watchmgr"), *args], cwd=root, capture_output=True, text=True, timeout=120
    )
    return done.stdout + done.stderr


def test_the_new_repository_lists_its_environments(made: Path) -> None:
    out = _run(made, "environments")
    assert "local    sandbox .watchmgr/local.json" in out
    assert "prod     elasticsearch https://es-prod.example.com:9200" in out


def test_its_plan_apply_and_drift_workflows_are_this_repositorys(made: Path) -> None:
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        assert (made / ".github/workflows" / name).read_text() == (WORKFLOWS / name).read_text()


def test_its_workflows_pass_actionlint_and_zizmor(made: Path) -> None:
    lint(made / ".github/workflows")


def test_its_ci_validates_the_rules(made: Path, tmp_path: Path) -> None:
    workflows = made / ".github/workflows"
    extra = set(command_lines(workflows)) - set(command_lines(WORKFLOWS))
    assert extra == {"watchmgr validate"}
    (validate,) = [s for s in watchmgr_steps(workflows) if s.workflow == "ci.yml"]
    done = run_step(step(validate.key, workflows), made, {}, {}, tmp_path)
    assert done.code == 0, done.show()
    assert "1 rule, 1 watch, 0 errors, 0 warnings" in done.stderr


@pytest.mark.parametrize(
    "command",
    [["init"], ["github", "comment"], ["github", "check-reviewed"], ["github", "drift"]],
    ids=" ".join,
)
def test_help_names_what_to_give_not_python_types(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert not re.search(r"<(str|int|float|bool|path|list\[\w+\]|int range)>", result.stdout), (
        result.stdout
    )
