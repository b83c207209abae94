"""Whether a watch's query fits the field mappings of the indices it searches (pure).

A query can be valid and still never match: a field no index has, a wildcard or regex on a
``text`` field (it meets the analyzed tokens, not the value), or a value longer than the
keyword field's ``ignore_above`` (longer values are not indexed). `check_watch` says so per
watch; `ignore_above_summary` says once per field where wildcards meet a keyword field that
drops long values, as dynamic mapping's ``.keyword`` (256 characters) does to command lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchmgr.errors import COMMAND, Diagnostic, SourceLocation
from watchmgr.ruletest import FieldUse

#: index -> field name -> its mapping (``{"type": ..., "ignore_above": ...}``).
Mappings = Mapping[str, Mapping[str, Mapping[str, Any]]]

_TEXT = frozenset({"text", "match_only_text"})
_PATTERN_KINDS = frozenset({"wildcard", "regex"})
_ADVICE = "map it as 'wildcard' (as ECS does for command lines) or raise its ignore_above"


@dataclass(frozen=True, slots=True)
class CheckedWatch:
    """One watch to check: where it comes from, the indices it searches, its query's fields."""

    id: str
    location: SourceLocation
    indices: tuple[str, ...]
    uses: tuple[FieldUse, ...]


def fields_to_read(watches: Iterable[CheckedWatch]) -> list[str]:
    """The field names to ask the cluster about: each field as the queries name it."""
    return sorted({u.field for w in watches for u in w.uses})


def no_index(watches: Sequence[CheckedWatch]) -> Diagnostic:
    """The one warning for watches whose indices (the same for all) match no index."""
    first, count = watches[0], len(watches)
    listed = ", ".join(first.indices)
    text = (
        f"{listed} match{'es' if len(first.indices) == 1 else ''} no index on the cluster, "
        f"so {count} watch{'es search' if count != 1 else ' searches'} nothing (the first: "
        f"{first.id!r}); check the environment's mapping.indices"
    )
    return Diagnostic(first.location, text, "warning")


def check_watch(watch: CheckedWatch, mappings: Mappings) -> list[Diagnostic]:
    """The warnings for one watch, given the mappings of the indices it searches (some)."""
    where, name = watch.location, watch.id
    found: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for use in watch.uses:
        kinds = {i: m[use.field] for i, m in sorted(mappings.items()) if use.field in m}
        problem = _problem(use, kinds, sorted(mappings))
        if problem is not None and (use.field, problem) not in seen:
            seen.add((use.field, problem))
            found.append(Diagnostic(where, f"watch {name!r}: {problem}", "warning"))
    return found


def _problem(
    use: FieldUse, kinds: Mapping[str, Mapping[str, Any]], indices: Sequence[str]
) -> str | None:
    if not kinds:
        return (
            f"field {use.field!r} is in none of its indices ({', '.join(indices)}): nothing "
            "matches it; check the field name and the environment's pipelines"
        )
    types = {str(m.get("type", "object")) for m in kinds.values()}
    if use.kind in _PATTERN_KINDS and types <= _TEXT:
        return (
            f"a {use.kind} on {use.field!r}, which is text in its indices: it matches single "
            "lower-cased words, not the value; search a keyword sub-field, or map the field "
            "as keyword or wildcard"
        )
    for index, mapping in kinds.items():
        limit = mapping.get("ignore_above")
        if isinstance(limit, int) and use.min_length > limit:
            return (
                f"{use.field!r} keeps values up to {limit} characters in {index} (ignore_above), "
                f"but the query's value has at least {use.min_length}: it can never match; "
                + _ADVICE
            )
    return None


def ignore_above_summary(
    checked: Iterable[tuple[CheckedWatch, Mappings]],
) -> list[Diagnostic]:
    """One warning per field that wildcards search on a keyword field with ``ignore_above``:
    events whose value is longer are in no keyword index, so no wildcard finds them."""
    watches: dict[tuple[str, int], list[str]] = {}
    for watch, mappings in checked:
        for use in watch.uses:
            if use.kind not in _PATTERN_KINDS:
                continue
            for mapping in mappings.values():
                limit = mapping.get(use.field, {}).get("ignore_above")
                if isinstance(limit, int):
                    watches.setdefault((use.field, limit), []).append(watch.id)
                    break
    found = []
    for (name, limit), ids in sorted(watches.items()):
        count = len(set(ids))
        text = (
            f"{count} watch{'es search' if count != 1 else ' searches'} {name!r} with wildcards or "
            f"regexes, but it keeps only values up to {limit} characters (ignore_above): "
            f"longer ones are never matched; {_ADVICE}"
        )
        found.append(Diagnostic(COMMAND, text, "warning"))
    return found
