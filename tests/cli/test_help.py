"""Every command's ``--help`` reads alike: option values are named by metavars (``PORT``,
``FILE``), never by Python types (``<str>``, ``<list[int]>``, ``<Path>``) or click's
``TEXT``/``INTEGER``, and every option has a sentence of help."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from watchmgr.cli import app


def commands() -> list[tuple[str, ...]]:
    """The path of every command and group, from the app itself (a new command is checked too)."""
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


#: A value named by its type: Typer's `<str>`, `<int range>`, `<list[int]>`, `<path>`, or click's
#: `TEXT`, `INTEGER`. (Help text may say `<id>.json` or `<ENV>`: those are not types.)
PYTHON_TYPES = re.compile(
    r"<(?:str|int|float|bool|path|Path|uuid|choice|(?:int|float) range|"
    r"(?:list|tuple|dict|set)\[[^>]*\])>|\b(?:TEXT|INTEGER|FLOAT|BOOLEAN|FILENAME)\b"
)


def test_the_commands_are_all_found() -> None:
    found = {" ".join(path) for path in commands()}
    assert {"sandbox", "render", "github comment", "config show", "init"} <= found


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "watchmgr")
def test_help_names_values_by_metavar_not_by_type(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    typed = PYTHON_TYPES.findall(result.output)
    assert not typed, f"watchmgr {' '.join(path)} --help shows types {typed}:\n{result.output}"


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "watchmgr")
def test_every_option_has_help(path: tuple[str, ...]) -> None:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    bare = [
        p.name
        for p in command.params
        if isinstance(p, TyperOption) and not p.hidden and not (p.help or "").strip()
    ]
    assert not bare, f"watchmgr {' '.join(path)}: options without help: {bare}"
