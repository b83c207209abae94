"""Converting in worker processes gives what converting in one gives; a worker that fails or
dies fails the conversion instead of leaving it waiting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

from watchmgr.convert import CHUNK, convert
from watchmgr.rules import Rule
from watchmgr.settings import DEFAULT_SETTINGS, WatchSettings

RULE = """\
title: Parallel {n}
id: 5a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c{n:02d}
logsource:
    product: windows
detection:
    sel:
        Image|endswith: '\\\\p{n}.exe'
    condition: sel
"""


def _tree(tmp_path: Path, count: int) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for n in range(count):
        (rules / f"r{n:02d}.yml").write_text(RULE.format(n=n))
    (rules / "r99.yml").write_text(RULE.format(n=1))  # a duplicate id, across chunks
    return rules


def test_workers_give_what_one_process_gives(tmp_path: Path) -> None:
    rules = _tree(tmp_path, 2 * CHUNK + 3)  # three chunks, the last one short
    one = convert([rules], jobs=1, base=tmp_path)
    two = convert([rules], jobs=2, base=tmp_path)
    assert two == one
    assert len(one.watches) == 2 * CHUNK + 3
    [duplicate] = one.errors
    assert duplicate.location.path == "rules/r99.yml"


def _fails(rule: Rule) -> WatchSettings:
    raise ValueError(f"no settings for {rule.title}")


def _dies(rule: Rule) -> NoReturn:
    os._exit(3)


def test_a_worker_that_fails_fails_the_conversion(tmp_path: Path) -> None:
    rules = _tree(tmp_path, CHUNK + 1)
    with pytest.raises(RuntimeError, match="ValueError: no settings for Parallel"):
        convert([rules], _fails, jobs=2, base=tmp_path)


def test_a_worker_that_dies_fails_the_conversion_instead_of_hanging(tmp_path: Path) -> None:
    rules = _tree(tmp_path, CHUNK + 1)
    with pytest.raises(RuntimeError, match=r"ended early \(exit codes \[3\]\)"):
        convert([rules], _dies, jobs=2, base=tmp_path)


def test_one_process_when_asked_even_for_many_files(tmp_path: Path) -> None:
    rules = _tree(tmp_path, 3)
    pid = os.getpid()

    def here(rule: Rule) -> WatchSettings:
        assert os.getpid() == pid
        return DEFAULT_SETTINGS

    assert len(convert([rules], here, jobs=1, base=tmp_path).watches) == 3
