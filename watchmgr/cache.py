"""A cache of converted rule files, so unchanged rules are not parsed again.

An entry is keyed by everything its result depends on: the file's bytes and shown path, the
settings (a fingerprint the caller gives: the environment or the CLI options), watchmgr's own
conversion code and the versions of pySigma and its Elasticsearch pipelines. Any change to any
of these is a miss, never a stale hit. Entries are JSON files written atomically; one that
cannot be read is treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from watchmgr.errors import Diagnostic, SourceLocation
from watchmgr.watch import Watch

FORMAT = 1
#: The modules whose code decides what a rule file converts to.
_CODE = ("rules.py", "query.py", "watch.py", "settings.py", "merge.py", "errors.py", "convert.py")


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one rule file converts to (the unit of caching and of parallel work)."""

    path: str
    refs: tuple[tuple[str, str | None], ...]  # (path, Sigma id) of each rule
    #: (Sigma id, first line of the rule, line of its `id:`) of each rule that has an id
    rule_ids: tuple[tuple[str, int, int], ...]
    watches: tuple[Watch, ...]
    diagnostics: tuple[Diagnostic, ...]


@cache
def code_fingerprint() -> str:
    """A digest of watchmgr's conversion code and of the pySigma packages it uses."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    for package in ("pysigma", "pysigma-backend-elasticsearch", "pyyaml"):
        try:
            digest.update(f"{package} {metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent".encode())
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


def cache_for(root: Path, fingerprint: str) -> ConversionCache | None:
    """The repository's conversion cache (``.watchmgr/cache/``), unless WATCHMGR_NO_CACHE is set."""
    if os.environ.get("WATCHMGR_NO_CACHE"):
        return None
    return ConversionCache(root / ".watchmgr" / "cache" / "convert", fingerprint)
