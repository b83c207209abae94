"""A repository of its own per test (rules/ and environments/ in a temporary directory) and a
fresh sandbox: nothing here reads the project's own rules/ or environments/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plan.support import Repo, dev_repo
from watchmgr.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(es_version="9.1.0")) as sb:
        yield sb


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """Three rules and a `dev` environment on the sandbox; the working directory is its root."""
    monkeypatch.chdir(tmp_path)
    return dev_repo(tmp_path, sandbox, rules=3)
