"""``watchmgr init`` and then the new repository's README, on a machine that has only Python:
a fresh venv, watchmgr installed from this checkout (from a git repository of it at a commit,
or by name from an index), ``watchmgr init`` with that watchmgr, then the README's two commands
as written. The requirements line init writes is what the README's first command installs, so
these are also both paths of `scaffold.requirement` end to end.

pip is used as the project's own set-up uses it (its configured index and find-links), nothing
else; the build needs no network beyond that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.gitops.workflows import REPO

pytestmark = pytest.mark.slow


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout + done.stderr


def this_checkout_as_a_git_repository(target: Path, env: dict[str, str]) -> str:
    """The checkout's files as they are now (committed or not, ignored ones left out) in a
    new git repository at `target`, committed; its commit."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "-c",
        "init.defaultBranch=main",
    ]
    run([*git, "init", "-q"], target, env)
    run([*git, "add", "-A"], target, env)
    run([*git, "commit", "-q", "-m", "watchmgr as checked out"], target, env)
    return run(["git", "rev-parse", "HEAD"], target, env).strip()


def readme_commands(root: Path) -> list[str]:
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Set up\n\n```sh\n(.*?)```", readme, re.S)
    assert block is not None, readme
    return block.group(1).strip().splitlines()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("origin", ["git", "index"])
def test_init_then_the_readme_on_a_fresh_venv(tmp_path: Path, origin: str) -> None:
    """`git`: installed from a git URL at a commit, which init pins. `index`: installed by name
    from a package index (here a folder of wheels that pip finds, as an internal index), so
    init pins the version and the README's install finds it where the first came from."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    source = tmp_path / "watchmgr-src"
    source.mkdir()
    commit = this_checkout_as_a_git_repository(source, env)
    pip = [str(venv / "bin/python"), "-m", "pip"]

    run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    # As the Makefile does: the pip a venv comes with may predate `name @ git+file:///...`.
    run([*pip, "install", "--quiet", "--upgrade", "pip"], tmp_path, env)
    if origin == "git":
        pin = f"watchmgr @ git+{source.as_uri()}@{commit}"
        run([*pip, "install", "--quiet", pin], tmp_path, env)
    else:
        wheels = tmp_path / "wheels"
        run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)], tmp_path, env)
        env["PIP_FIND_LINKS"] = " ".join(filter(None, [env.get("PIP_FIND_LINKS"), str(wheels)]))
        pin = f"watchmgr=={metadata.version('watchmgr')}"
        run([*pip, "install", "--quiet", "watchmgr"], tmp_path, env)

    said = run([str(venv / "bin/watchmgr"), "init", "detections"], tmp_path, env)
    repo = tmp_path / "detections"
    assert "wrote 12 files to detections" in said
    assert "warning" not in said, said  # CI can install either pin
    requirements = (repo / ".github/requirements.txt").read_text(encoding="utf-8")
    assert requirements.splitlines()[-1] == pin

    install, deploy = readme_commands(repo)
    assert install == "python -m pip install -r .github/requirements.txt"
    run(["sh", "-c", install], repo, env)
    assert deploy == "watchmgr apply --env local --yes"
    applied = run(["sh", "-c", deploy], repo, env)
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in applied, applied
    assert "Apply local: 1 done, 0 not done." in applied, applied
    again = run(["sh", "-c", "watchmgr plan --env local --detailed-exitcode"], repo, env)
    assert "No changes." in again, again
