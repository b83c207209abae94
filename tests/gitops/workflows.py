"""Reading the GitOps workflows and running their `watchmgr` steps as a runner would.

A step's script runs as GitHub runs it (``bash --noprofile --norc -eo pipefail``), with the
workflow's, the job's and the step's `env:`, in which each ``${{ expression }}`` is replaced by
the value a test gives for it (an expression no test gave is an error, so a new one cannot slip
through untested), and with the variables Actions sets (``GITHUB_STEP_SUMMARY``, ...). A step's
``if:`` is looked up the same way. `watchmgr` on the PATH is the one under test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass(frozen=True)
class Step:
    workflow: str
    job: str
    name: str
    run: str
    env: Mapping[str, str]  # workflow's, job's and step's, unevaluated
    condition: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.workflow, self.job, self.name)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def steps(directory: Path = WORKFLOWS) -> Iterator[Step]:
    """Every step of every workflow under `directory` that runs a script."""
    for path in sorted(directory.glob("*.yml")):
        workflow = load(path)
        for job_id, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                if "run" not in step:
                    continue
                env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                yield Step(
                    path.name,
                    job_id,
                    step.get("name", step["run"].splitlines()[0]),
                    step["run"],
                    {k: str(v) for k, v in env.items()},
                    step.get("if"),
                )


def watchmgr_steps(directory: Path = WORKFLOWS) -> list[Step]:
    return [s for s in steps(directory) if re.search(r"(^|[\s/])watchmgr\s", s.run)]


def command_lines(directory: Path = WORKFLOWS) -> list[str]:
    """Every line of a script that runs watchmgr, as written."""
    return [
        line.strip()
        for step in watchmgr_steps(directory)
        for line in step.run.splitlines()
        if re.search(r"(^|[\s/])watchmgr\s", line)
    ]


def step(key: tuple[str, str, str], directory: Path = WORKFLOWS) -> Step:
    found = [s for s in steps(directory) if s.key == key]
    assert len(found) == 1, f"no single step {key} in {directory}"
    return found[0]


@dataclass(frozen=True)
class Ran:
    code: int | None  # None: skipped by its `if:`
    stdout: str
    stderr: str
    summary: str

    def show(self) -> str:
        return (
            f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}\n"
            f"--- summary\n{self.summary}"
        )


def _evaluate(text: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in values, f"the test gives no value for ${{{{ {expression} }}}}"
        return values[expression]

    return _EXPRESSION.sub(value, text)


def run_step(
    found: Step,
    cwd: Path,
    values: Mapping[str, str],
    environ: Mapping[str, str],
    workdir: Path,
) -> Ran:
    """Run `found`'s script in `cwd`; `values` of its expressions, `environ` the runner's."""
    if found.condition is not None:
        condition = _EXPRESSION.sub(lambda m: m.group(1), found.condition).strip()
        assert condition in values, f"the test gives no value for if: {condition}"
        if values[condition] != "true":
            return Ran(None, "", "", "")
    summary = workdir / "summary.md"
    summary.write_text("", encoding="utf-8")
    script = workdir / "step.sh"
    script.write_text(found.run, encoding="utf-8")
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(workdir),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(workdir / "output"),
        "GITHUB_ACTIONS": "true",
        "WATCHMGR_NO_CACHE": "1",
        **environ,
        **{k: _evaluate(v, values) for k, v in found.env.items()},
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Ran(done.returncode, done.stdout, done.stderr, summary.read_text(encoding="utf-8"))
