"""Helpers for the environment tests: write a repository into tmp_path, load rules inline."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from watchmgr.config import Environment, load_environment
from watchmgr.errors import ConfigError
from watchmgr.rules import Rule, load_paths, load_text

REPO = Path(__file__).resolve().parents[2]
#: The environments this repository ships, and the file they extend.
SHIPPED = ("dev", "local", "prod", "staging")


def shipped_environments(root: Path) -> Path:
    """A repository at `root` holding only the shipped environment files (and base.yaml), so
    that a team adding its own environments/*.yaml breaks no test about the shipped ones."""
    (root / "environments").mkdir(parents=True, exist_ok=True)
    for name in (*SHIPPED, "base"):
        source = REPO / "environments" / f"{name}.yaml"
        (root / "environments" / source.name).write_bytes(source.read_bytes())
    return root


RULE = """\
title: Suspicious Whoami Execution
id: 8de1cbe8-d6f5-496d-8237-5f44a721c7a0
status: stable
level: high
description: whoami run with /all or /priv
tags: [attack.discovery, attack.t1033]
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\\\whoami.exe'
        CommandLine|contains:
            - '/all'
            - '/priv'
    condition: selection
"""


def write(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path → text, dedented) under `root`; return `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def env_from(root: Path, text: str, name: str = "test", **more: str) -> Environment:
    """Load environment `name` whose file is `text` (plus other files in `more`)."""
    files = {f"environments/{name}.yaml": text}
    files.update({k.replace("__", "/"): v for k, v in more.items()})
    return load_environment(write(root, files), name)


def config_error(root: Path, text: str, name: str = "test", **more: str) -> str:
    """The one-line message of the ConfigError that loading `text` raises."""
    with pytest.raises(ConfigError) as caught:
        env_from(root, text, name, **more)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def rule(text: str = RULE, path: str = "rules/windows/proc_whoami.yml", **changes: object) -> Rule:
    """One rule from inline YAML; `changes` replace top-level keys (None removes one)."""
    import yaml

    if changes:
        data = yaml.safe_load(text)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        text = yaml.safe_dump(data, sort_keys=False)
    rules, diagnostics = load_text(text.encode(), path)
    assert rules and not [d for d in diagnostics if d.severity == "error"], diagnostics
    return rules[0]


def rule_file(root: Path, path: str, text: str = RULE) -> Rule:
    """The rule of file `path` under `root`, written there and loaded as the CLI loads it."""
    write(root, {path: text})
    (loaded,) = load_paths([root / path], root).rules
    return loaded
