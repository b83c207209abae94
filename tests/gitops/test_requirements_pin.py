"""The scaffold's ``.github/requirements.txt`` installs the watchmgr that ran ``watchmgr init``:
what PEP 610's ``direct_url.json`` says it was installed from (a git URL at its commit, an
archive), or its version when it came from a package index; a local directory is written too,
but with a warning, since CI cannot reach it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement as PipRequirement
from typer.testing import CliRunner

from tests.plan.support import show
from watchmgr import scaffold
from watchmgr.cli import app


@pytest.mark.parametrize(
    ("direct_url", "line", "portable"),
    [
        # pip install git+https://github.com/acme/watchmgr@main (pip records the commit it got)
        (
            {
                "url": "https://github.com/acme/watchmgr",
                "vcs_info": {"vcs": "git", "requested_revision": "main", "commit_id": "a" * 40},
            },
            f"watchmgr @ git+https://github.com/acme/watchmgr@{'a' * 40}",
            True,
        ),
        (
            {
                "url": "ssh://git@git.example.com/tools/mono.git",
                "vcs_info": {"vcs": "git", "commit_id": "b" * 40},
                "subdirectory": "watchmgr",
            },
            f"watchmgr @ git+ssh://git@git.example.com/tools/mono.git@{'b' * 40}"
            "#subdirectory=watchmgr",
            True,
        ),
        # pip install watchmgr (from PyPI or an internal index): no direct_url.json
        (None, "watchmgr==1.2.3", True),
        (
            {
                "url": "https://files.example.com/watchmgr-1.2.3-py3-none-any.whl",
                "archive_info": {},
            },
            "watchmgr @ https://files.example.com/watchmgr-1.2.3-py3-none-any.whl",
            True,
        ),
        # pip install -e . / pip install /src/watchmgr: only this machine has it
        ({"url": "file:///src/watchmgr", "dir_info": {"editable": True}}, None, False),
    ],
    ids=["git", "git subdirectory", "index", "archive", "local directory"],
)
def test_the_requirement_is_where_watchmgr_came_from(
    direct_url: dict[str, Any] | None, line: str | None, portable: bool
) -> None:
    made = scaffold.requirement(direct_url, "1.2.3")
    assert made.line == (line or "watchmgr @ file:///src/watchmgr")
    assert made.portable is portable
    assert PipRequirement(made.line).name == "watchmgr"  # pip reads it
    text = scaffold.files(made)[".github/requirements.txt"]
    assert text.endswith(f"\n{made.line}\n")
    assert all(ln.startswith("#") for ln in text.splitlines()[:-1]), text


def test_the_index_pin_says_where_an_internal_index_goes() -> None:
    text = scaffold.files(scaffold.requirement(None, "1.2.3"))[".github/requirements.txt"]
    assert "# installed from a package index: the same version." in text
    assert "--index-url" in text


@pytest.mark.parametrize(
    ("direct_url", "what"),
    [
        ({"url": "file:///src/watchmgr", "dir_info": {}}, "a directory"),
        ({"url": "file:///tmp/watchmgr-1.2.3.tar.gz", "archive_info": {}}, "an archive"),
    ],
)
def test_a_local_directory_or_archive_says_ci_cannot_install_it(
    direct_url: dict[str, object], what: str
) -> None:
    made = scaffold.requirement(direct_url, "1.2.3")
    assert not made.portable
    text = scaffold.files(made)[".github/requirements.txt"]
    assert f"# installed from {what} on the machine" in text
    assert "CI runners cannot\n# install it" in text
    assert "# watchmgr @ git+https://git.example.com/tools/watchmgr@v1.2.3\n" in text


def test_init_pins_how_the_running_watchmgr_was_installed(tmp_path: Path) -> None:
    # This checkout's venv installs it editable (`pip install -e`): a local directory.
    from importlib import metadata

    (recorded,) = [
        json.loads(text)
        for d in metadata.distributions(name="watchmgr")
        if (text := d.read_text("direct_url.json"))
    ]
    result = CliRunner().invoke(app, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, show(result)
    pin = (tmp_path / "new/.github/requirements.txt").read_text().splitlines()[-1]
    assert pin == f"watchmgr @ {recorded['url']}"
    assert result.stderr.endswith(
        f"{tmp_path}/new/.github/requirements.txt: warning: '{pin}' installs only on this "
        "machine; write where CI can get watchmgr (a git URL at a commit, an index version)\n"
    ), show(result)


def test_init_from_a_git_install_writes_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_git = {
        "url": "https://github.com/acme/watchmgr",
        "vcs_info": {"vcs": "git", "commit_id": "c" * 40},
    }
    monkeypatch.setattr(scaffold, "installed_from", lambda: scaffold.requirement(from_git))
    result = CliRunner().invoke(app, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, show(result)
    assert "warning" not in result.stderr
    assert (
        (tmp_path / "new/.github/requirements.txt")
        .read_text()
        .endswith(f"watchmgr @ git+https://github.com/acme/watchmgr@{'c' * 40}\n")
    )
