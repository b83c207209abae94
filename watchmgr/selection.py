"""Which rules an environment deploys, and which indices a rule's watch searches (pure).

Paths are compared as POSIX text relative to the repository root. Globs:

* ``*`` and ``?`` stay within one directory, ``[...]`` is a character class;
* ``**`` as a whole segment crosses directories (``rules/**/deprecated/*.yml``);
* a glob without ``/`` matches the file name in any directory (``*_test.yml``);
* a glob ending in ``/`` matches everything below that directory (``rules/windows/legacy/``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

#: Sigma levels, lowest first: ``min_level: high`` selects high and critical.
LEVELS = ("informational", "low", "medium", "high", "critical")
#: Sigma statuses (the Sigma specification, section "Status").
STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")
LOGSOURCE_KEYS = ("product", "category", "service")
DEFAULT_RULE_PATHS = ("rules/",)


@dataclass(frozen=True, slots=True)
class Glob:
    """A path glob as written, with its compiled form."""

    pattern: str

    def matches(self, path: str) -> bool:
        return _compile(self.pattern).matches(path)


#: A whole path segment ``**``: zero or more directories (one or more at the end of a glob).
_ANY_DEPTH = None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A glob as a list of per-segment matchers, matched segment by segment.

    One regular expression for the whole path would need an optional group per ``**/``, and
    a glob with many of them backtracks exponentially on a deep path that almost matches.
    Matched per segment instead, the work is at most (segments of the glob) × (segments of the
    path). Each segment's own pattern comes from the standard library's `fnmatch`, whose
    translation of ``*`` does not backtrack catastrophically either.
    """

    parts: tuple[re.Pattern[str] | None, ...]

    def matches(self, path: str) -> bool:
        names = path.split("/")
        reachable = {0}  # how many path segments the glob parts so far can consume
        for index, part in enumerate(self.parts):
            if part is _ANY_DEPTH:
                fewest = min(reachable) + (1 if index == len(self.parts) - 1 else 0)
                reachable = set(range(fewest, len(names) + 1))
            else:
                reachable = {
                    n + 1 for n in reachable if n < len(names) and part.fullmatch(names[n])
                }
            if not reachable:
                return False
        return len(names) in reachable


_CACHE: dict[str, _Compiled] = {}


def _compile(pattern: str) -> _Compiled:
    compiled = _CACHE.get(pattern)
    if compiled is None:
        compiled = _CACHE[pattern] = compile_glob(pattern)
    return compiled


def compile_glob(pattern: str) -> _Compiled:
    """The matcher of a path glob, as described at the top of this module.

    ``**`` as a whole segment crosses directories; elsewhere in a segment (``a**b``) it is a
    ``*``, as in gitignore. Consecutive ``**`` segments are one.
    """
    text = pattern.removeprefix("./")
    if text.endswith("/"):
        text += "**"
    if "/" not in text:
        text = "**/" + text
    parts: list[re.Pattern[str] | None] = []
    for segment in text.split("/"):
        if segment == "**":
            if not parts or parts[-1] is not _ANY_DEPTH:
                parts.append(_ANY_DEPTH)
        else:
            _check_classes(segment)
            parts.append(re.compile(fnmatch.translate(segment)))
    return _Compiled(tuple(parts))


def _check_classes(segment: str) -> None:
    """Raise `re.error` for a ``[...]`` class that cannot match anything as written (a range
    like ``[z-a]``): fnmatch would quietly make it match nothing, hiding the typo."""
    start = segment.find("[")
    while start != -1:
        end = segment.find("]", start + 2)
        if end == -1:
            return  # an unclosed `[` is a literal, as in fnmatch
        body = segment[start + 1 : end].removeprefix("!")
        re.compile("[" + body.replace("\\", "\\\\") + "]")
        start = segment.find("[", end + 1)


def is_valid_glob(pattern: str) -> bool:
    try:
        _compile(pattern)  # cached: the environment's globs are then matched without recompiling
    except re.error:
        return False
    return bool(pattern.strip())


def under(path: str, directory: str) -> bool:
    """Whether root-relative `path` is `directory` itself or lies below it."""
    clean = directory.removeprefix("./").rstrip("/")
    if clean in ("", "."):
        return not path.startswith("../") and not path.startswith("/")
    return path == clean or path.startswith(clean + "/")


def _logsource(raw: dict[str, Any]) -> dict[str, Any]:
    logsource = raw.get("logsource")
    return logsource if isinstance(logsource, dict) else {}


def _lower_strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value.lower(),)
    if isinstance(value, list):
        return tuple(str(v).lower() for v in value if v is not None)
    return ()


@dataclass(frozen=True, slots=True)
class RuleSelection:
    """``rules:`` of an environment. Every given filter must pass; string comparisons ignore case.

    A rule without a level fails a `min_level` filter; one without a status fails a `status`
    filter; logsource filters compare the rule's ``logsource`` field of the same name.
    """

    paths: tuple[str, ...] = DEFAULT_RULE_PATHS
    exclude: tuple[Glob, ...] = ()
    min_level: str | None = None
    status: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    #: (logsource key, accepted values); a rule passes when its value is one of them.
    logsource: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def selects(self, path: str, raw: dict[str, Any]) -> bool:
        """Whether the rule at root-relative `path` with metadata `raw` is selected."""
        if not any(under(path, directory) for directory in self.paths):
            return False
        if any(glob.matches(path) for glob in self.exclude):
            return False
        if self.min_level is not None:
            level = str(raw.get("level") or "").lower()
            if level not in LEVELS or LEVELS.index(level) < LEVELS.index(self.min_level):
                return False
        if self.status and str(raw.get("status") or "").lower() not in self.status:
            return False
        tags = set(_lower_strings(raw.get("tags")))
        if self.tags_any and not tags.intersection(self.tags_any):
            return False
        if self.tags_all and not tags.issuperset(self.tags_all):
            return False
        source = _logsource(raw)
        for key, accepted in self.logsource:
            if str(source.get(key) or "").lower() not in accepted:
                return False
        return True


@dataclass(frozen=True, slots=True)
class IndexRoute:
    """One ``mapping.indices.by_logsource`` entry: the logsource fields it names, its indices."""

    match: tuple[tuple[str, str], ...]
    indices: tuple[str, ...]
    line: int | None = None

    def matches(self, logsource: dict[str, Any]) -> bool:
        return all(str(logsource.get(k) or "").lower() == v for k, v in self.match)


@dataclass(frozen=True, slots=True)
class IndexMapping:
    """``mapping.indices``: logsource → the indices a watch searches.

    The most specific matching entry wins (the one naming the most of product, category and
    service); among equally specific entries the first listed wins. No match: `default`.
    """

    default: tuple[str, ...] = ()
    by_logsource: tuple[IndexRoute, ...] = ()

    def indices_for(self, raw: dict[str, Any]) -> tuple[str, ...]:
        source = _logsource(raw)
        best: IndexRoute | None = None
        for route in self.by_logsource:
            if route.matches(source) and (best is None or len(route.match) > len(best.match)):
                best = route
        return best.indices if best is not None else self.default
