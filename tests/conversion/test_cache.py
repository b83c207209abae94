"""The conversion cache: a hit gives exactly what converting gives; any change is a miss."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import watchmgr
from watchmgr.cache import ConversionCache, conversion_sources, fingerprint_of
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
    _convert(rules, cache, dialect="sigmac")
    (rules / "r1.yml").write_text(RULE.format(n=1).replace("x1.exe", "y1.exe"))
    converted = _convert(rules, cache, dialect="sigmac")
    changed = {w.id: w.body["metadata"]["query"] for w in converted.watches}
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


# ------------------------------------------------------------------------------ the code key

PACKAGE = Path(watchmgr.__file__).resolve().parent


def _names(sources: tuple[Path, ...], package: Path) -> set[str]:
    return {path.relative_to(package).as_posix() for path in sources}


def test_the_code_key_covers_every_module_the_conversion_runs_and_nothing_else() -> None:
    found = _names(conversion_sources(PACKAGE), PACKAGE)
    once_listed_by_hand = {
        "rules.py",
        "query/__init__.py",
        "query/sigma.py",
        "query/lucene.py",
        "watch.py",
        "settings.py",
        "merge.py",
        "errors.py",
        "convert.py",
    }
    assert once_listed_by_hand | {"selection.py"} <= found
    assert not {name for name in found if name.startswith(("cli/", "output/", "sandbox/"))}
    assert not found & {"cluster.py", "apply.py", "plan.py", "normalize.py"}
    assert not {name for name in found if name.startswith("workflow/")}


def _copy(tmp_path: Path) -> Path:
    package = tmp_path / "watchmgr"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "sandbox"))
    return package


def test_a_module_added_to_the_query_package_changes_the_key(tmp_path: Path) -> None:
    package = _copy(tmp_path)
    before = fingerprint_of(package)
    # Every module of a subpackage counts, imported by name or not.
    (package / "query" / "flavour.py").write_text("FLAVOUR = 'pcre'\n")
    added = fingerprint_of(package)
    assert added != before
    assert "query/flavour.py" in _names(conversion_sources(package), package)
    (package / "query" / "flavour.py").write_text("FLAVOUR = 'lucene'\n")
    assert fingerprint_of(package) != added


def test_a_module_the_conversion_imports_through_another_changes_the_key(tmp_path: Path) -> None:
    package = _copy(tmp_path)
    (package / "flavour.py").write_text("FLAVOUR = 'pcre'\n")
    unused = fingerprint_of(package)
    watch = package / "watch.py"
    watch.write_text(
        watch.read_text()
        + "\n\ndef _flavour() -> str:\n    from .flavour import FLAVOUR\n\n    return FLAVOUR\n"
    )
    imported = fingerprint_of(package)
    assert imported != unused
    (package / "flavour.py").write_text("FLAVOUR = 'lucene'\n")
    assert fingerprint_of(package) != imported


def test_code_the_conversion_never_runs_does_not_change_the_key(tmp_path: Path) -> None:
    package = _copy(tmp_path)
    before = fingerprint_of(package)
    (package / "unrelated.py").write_text("X = 1\n")
    (package / "cli" / "extra.py").write_text("Y = 2\n")
    assert fingerprint_of(package) == before
