"""Helpers for the plan/apply tests: a repository in a temporary directory, the CLI, a sandbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from watchmgr.cli import app
from watchmgr.cluster import connect_url
from watchmgr.sandbox import Sandbox


def rule_yaml(title: str, rule_id: str | None = None, image: str = "x.exe", **extra: str) -> str:
    rule_id = rule_id or str(uuid.uuid5(uuid.NAMESPACE_URL, title))
    lines = [
        f"title: {title}",
        f"id: {rule_id}",
        "status: stable",
        "level: high",
        "logsource:",
        "    category: process_creation",
        "    product: windows",
        "detection:",
        "    selection:",
        f"        Image|endswith: '\\{image}'",
        "    condition: selection",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Repo:
    """A watchmgr repository: environments/ and rules/ under `root`."""

    root: Path

    def rule(self, name: str, text: str) -> Path:
        path = self.root / "rules" / f"{name}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def rules(self, count: int, prefix: str = "Rule") -> None:
        for i in range(count):
            self.rule(f"r{i:04}", rule_yaml(f"{prefix} {i:04}"))

    def remove(self, name: str) -> None:
        (self.root / "rules" / f"{name}.yml").unlink()

    def environment(self, name: str, text: str) -> None:
        path = self.root / "environments" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def cluster_env(self, name: str, sandbox: Sandbox, extra: str = "") -> None:
        self.environment(
            name,
            f"elasticsearch:\n  hosts: [{sandbox.url}]\nrules:\n  paths: [rules/]\n{extra}",
        )

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        runner = CliRunner()
        return runner.invoke(app, [*args, "--root", str(self.root)], input=input, env=env)


def es_client(sandbox: Sandbox) -> Any:
    """An official client for test set-up that any emulated major accepts (watchmgr's own)."""
    return connect_url(sandbox.url, "tests").client


def show(result: Result) -> str:
    """The whole output of a CLI run, for assertion messages."""
    return f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def successful_writes(sandbox: Sandbox) -> list[Any]:
    return [e for e in sandbox.writes() if e.status < 300]


def dev_repo(root: Path, sandbox: Sandbox, rules: int) -> Repo:
    """A repository in `root` with `rules` rules and a `dev` environment on `sandbox`."""
    repo = Repo(root)
    repo.rules(rules)
    repo.cluster_env("dev", sandbox)
    return repo
