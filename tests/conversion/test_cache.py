"""The conversion cache: a hit gives exactly what converting gives; any change is a miss."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from watchmgr.cache import ConversionCache
from watchmgr.convert import Conversion, convert
from watchmgr.errors import SourceLocation
from watchmgr.settings import DEFAULT_SETTINGS

RULE = """\
title: Cached {n}
id: 3f8c2d1e-9b7a-4c6d-8e5f-4a3b2c1d0e{n:02d}
logsource:
    product: windows
detection:
    sel:
        Image|endswith: '\\\\x{n}.exe'
    condition: sel
"""


def _tree(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for n in range(3):
        (rules / f"r{n}.yml").write_text(RULE.format(n=n))
    (rules / "bad.yml").write_text("title: [unclosed\n")
    return rules


def _convert(rules: Path, cache: ConversionCache, **settings: Any) -> Conversion:
    chosen = dataclasses.replace(DEFAULT_SETTINGS, **settings)
    return convert([rules], lambda _r: chosen, cache=cache, base=rules.parent)


def test_a_cache_hit_is_what_converting_gives(tmp_path: Path) -> None:
    rules = _tree(tmp_path)
    cache = ConversionCache(tmp_path / "cache", "settings")
    cold = convert([rules], base=rules.parent)
    first = _convert(rules, cache)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 4  # the bad file too
    second = _convert(rules, cache)
    assert first == second == cold
    [error] = second.errors
    assert error.location == SourceLocation("rules/bad.yml", 2)
    assert error.message.startswith("malformed YAML")


def test_a_changed_file_or_setting_converts_again(tmp_path: Path) -> None:
    rules = _tree(tmp_path)
    cache = ConversionCache(tmp_path / "cache", "settings")
    _convert(rules, cache)
    (rules / "r1.yml").write_text(RULE.format(n=1).replace("x1.exe", "y1.exe"))
    changed = {w.id: w.body["metadata"]["query"] for w in _convert(rules, cache).watches}
    assert changed["Cached-1"] == "Image.keyword:*\\\\y1.exe"
    other = ConversionCache(tmp_path / "cache", "other settings")
    prefixed = _convert(rules, other, id_prefix="p-")
    assert {w.id for w in prefixed.watches} == {"p-Cached-0", "p-Cached-1", "p-Cached-2"}


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    rules = _tree(tmp_path)
    cache = ConversionCache(tmp_path / "cache", "settings")
    good = _convert(rules, cache)
    for entry in (tmp_path / "cache").rglob("*.json"):
        entry.write_text("{not json")
    assert _convert(rules, cache) == good
