"""A cache of converted rule files, so unchanged rules are not parsed again.

An entry is keyed by everything its result depends on: the file's bytes and shown path, the
settings (a fingerprint the caller gives: the environment or the CLI options), watchmgr's own
conversion code (every module the conversion and the environments import, found by reading
their imports, so a module split in two is still covered) and the versions of pySigma and its
Elasticsearch pipelines. Any change to any
of these is a miss, never a stale hit. Entries are JSON files written atomically; one that
cannot be read is treated as a miss.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from watchmgr.errors import Diagnostic, SourceLocation
from watchmgr.watch import Watch

FORMAT = 1
#: Where the code that decides what a rule file converts to starts: the conversion itself and
#: the environments, whose settings and pipelines it runs.
CONVERSION_ROOTS = ("watchmgr.convert", "watchmgr.config")


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one rule file converts to (the unit of caching and of parallel work)."""

    path: str
    refs: tuple[tuple[str, str | None], ...]  # (path, Sigma id) of each rule
    #: (Sigma id, first line of the rule, line of its `id:`) of each rule that has an id
    rule_ids: tuple[tuple[str, int, int], ...]
    watches: tuple[Watch, ...]
    diagnostics: tuple[Diagnostic, ...]


def conversion_sources(
    package: Path = Path(__file__).parent, roots: tuple[str, ...] = CONVERSION_ROOTS
) -> tuple[Path, ...]:
    """The source files of the `watchmgr` package at `package` that the conversion runs.

    The modules `roots` import, directly or through others (imports inside functions too), and
    every module of a subpackage among them. Sorted, so the order does not depend on the walk.
    """
    found: set[Path] = set()
    todo = list(roots)
    while todo:
        path = _source_of(package, todo.pop())
        if path is None or path in found:
            continue
        inside = path.parent
        members = [path]
        if inside != package:  # a subpackage: all of it, imported by name or not
            members = sorted(inside.rglob("*.py"))
        for member in members:
            if member not in found:
                found.add(member)
                todo.extend(_imports(package, member))
    return tuple(sorted(found))


def _source_of(package: Path, module: str) -> Path | None:
    """The file of `watchmgr` module `module` (None: not a module of the package)."""
    parts = module.split(".")
    if parts[0] != "watchmgr":
        return None
    base = package.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(package: Path, path: Path) -> Iterator[str]:
    """The absolute names the module at `path` imports (``from X import y``: X and X.y)."""
    relative = path.relative_to(package.parent).with_suffix("").parts
    here = list(relative[:-1])  # the package the module is in (or is, for an __init__)
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            anchor = here[: len(here) - node.level + 1] if node.level else []
            base = ".".join([*anchor, node.module] if node.module else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


@cache
def code_fingerprint() -> str:
    """`fingerprint_of` this installation of watchmgr, memoized: code cannot change while the
    process runs."""
    return fingerprint_of(Path(__file__).parent)


def fingerprint_of(package: Path) -> str:
    """A digest of the conversion code of the watchmgr package at `package` and of the pySigma
    packages it uses."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for path in conversion_sources(package):
        digest.update(f"\0{path.relative_to(package).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    for name in ("pysigma", "pysigma-backend-elasticsearch", "pyyaml"):
        try:
            digest.update(f"{name} {metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} absent".encode())
    return digest.hexdigest()


class ConversionCache:
    """Converted files under `directory`, for one set of settings (`fingerprint`)."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = directory
        self._salt = hashlib.sha256(f"{code_fingerprint()}\0{fingerprint}".encode()).digest()

    def key(self, shown: str, data: bytes) -> str:
        digest = hashlib.sha256(self._salt)
        digest.update(shown.encode())
        digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> FileResult | None:
        try:
            return _load(json.loads(self._path(key).read_bytes()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: FileResult) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(_dump(result), out, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _dump(result: FileResult) -> dict[str, Any]:
    return {
        "path": result.path,
        "refs": result.refs,
        "rule_ids": result.rule_ids,
        "watches": [[w.id, w.source, w.line, w.body, w.active] for w in result.watches],
        "diagnostics": [
            [d.location.path, d.location.line, d.message, d.severity] for d in result.diagnostics
        ],
    }


def _load(data: dict[str, Any]) -> FileResult:
    return FileResult(
        path=data["path"],
        refs=tuple((path, rule_id) for path, rule_id in data["refs"]),
        rule_ids=tuple((rule_id, line, id_line) for rule_id, line, id_line in data["rule_ids"]),
        watches=tuple(
            Watch(id=i, source=s, line=line, body=body, active=active)
            for i, s, line, body, active in data["watches"]
        ),
        diagnostics=tuple(
            Diagnostic(SourceLocation(path, line), message, severity)
            for path, line, message, severity in data["diagnostics"]
        ),
    )


def cache_for(root: Path, fingerprint: str) -> ConversionCache:
    """The repository's conversion cache (``.watchmgr/cache/``) for settings `fingerprint`."""
    return ConversionCache(root / ".watchmgr" / "cache" / "convert", fingerprint)
