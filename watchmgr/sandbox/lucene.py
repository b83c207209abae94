"""What a `query_string` matches, as Elasticsearch's dynamic mapping and Lucene decide it.

A document is indexed as ES's dynamic mapping does (watcher-api.md §1.4): objects flatten
to dotted names (`{"a": {"b": 1}}` and `{"a.b": 1}` are the same field `a.b`), lists give
several values, a string is `text` (the standard analyzer, positions for phrases; values of
a list 100 positions apart) with an exact `.keyword` sub-field that holds only values of at
most `ignore_above` (256) characters; numbers and booleans are one exact term each.

A query is parsed by `querystring.parse_query_string` and judged as Lucene's classic parser
and ES build it: field names with `*` (and the default field `*`) expand to the index's
fields; text terms and phrases are analyzed, and one that analyzes to no token is no clause
at all; wildcards, prefixes and regexes are normalised per field (lower-cased on text, as
written on `.keyword`, escaped characters untouched) and matched term by term; `F:*` and
`_exists_:F` are exists queries; a purely negative group matches everything else; a regex
longer than 1,000 characters, one Lucene's `RegExp` refuses and one over 10,000 determinized
states fail the search, as ES fails it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

from watchmgr.sandbox.analysis import analyze, lowercase, utf16_length
from watchmgr.sandbox.automaton import RegexError, regexp, wildcard
from watchmgr.sandbox.querystring import Node, QueryStringError, parse_query_string

IGNORE_ABOVE = 256
MAX_REGEX_LENGTH = 1000
POSITION_INCREMENT_GAP = 100  # between the values of a list, as ES's text fields have it
KEYWORD = ".keyword"


def flatten(
    source: Any, prefix: str = "", out: dict[str, list[Any]] | None = None
) -> dict[str, list[Any]]:
    """Dotted field name -> its leaf values (None dropped), as dynamic mapping sees them."""
    out = {} if out is None else out
    if isinstance(source, Mapping):
        for key, value in source.items():
            flatten(value, f"{prefix}{key}.", out)
    elif isinstance(source, list):
        for item in source:
            flatten(item, prefix, out)
    elif source is not None and prefix:
        out.setdefault(prefix[:-1], []).append(source)
    return out


def term_text(value: Any) -> str:
    """The indexed form of a leaf: booleans as `true`/`false`, integral floats without `.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Document:
    """One document as the index holds it; terms are computed on first use."""

    def __init__(self, source: Mapping[str, Any], ignore_above: int = IGNORE_ABOVE) -> None:
        doc_id = source.get("_id")
        self.fields = flatten({k: v for k, v in source.items() if k != "_id"})
        self.doc_id = None if doc_id is None else str(doc_id)
        self.ignore_above = ignore_above
        self._positions: dict[str, dict[str, list[int]]] = {}

    def names(self) -> set[str]:
        """Every searchable field: each leaf field, and `.keyword` beside each string field."""
        names = set(self.fields)
        names.update(f + KEYWORD for f, values in self.fields.items() if _has_string(values))
        return names

    def present(self, name: str) -> bool:
        """Whether the field has a value indexed (`_field_names`, what exists asks)."""
        if name in self.fields:
            return True
        if name.endswith(KEYWORD):
            return bool(self.keyword_terms(name[: -len(KEYWORD)]))
        return False

    def keyword_terms(self, field: str) -> list[str]:
        return [
            v
            for v in self.fields.get(field, ())
            if isinstance(v, str) and utf16_length(v) <= self.ignore_above
        ]

    def text_positions(self, field: str) -> dict[str, list[int]]:
        """Token -> positions in the text field (non-strings are one exact term each)."""
        cached = self._positions.get(field)
        if cached is None:
            cached = {}
            position = -1
            for n, value in enumerate(self.fields.get(field, ())):
                if n:
                    position += POSITION_INCREMENT_GAP
                tokens = analyze(value) if isinstance(value, str) else (term_text(value),)
                for token in tokens:
                    position += 1
                    cached.setdefault(token, []).append(position)
            self._positions[field] = cached
        return cached

    def terms(self, name: str) -> Collection[str]:
        """The indexed terms of a field name (`X.keyword` is X's keyword sub-field)."""
        if name == "_id":
            return [] if self.doc_id is None else [self.doc_id]
        if name.endswith(KEYWORD) and name[: -len(KEYWORD)] in self.fields:
            return self.keyword_terms(name[: -len(KEYWORD)])
        return self.text_positions(name).keys()


def _has_string(values: Iterable[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _is_keyword(name: str) -> bool:
    return name.endswith(KEYWORD) or name == "_id"


def _normalize(name: str, text: str) -> str:
    """The field's analyzer's `normalize`: lower-case on text, identity on keyword."""
    return text if _is_keyword(name) else lowercase(text)


def _analyze_for(name: str, text: str) -> tuple[str, ...]:
    return (text,) if _is_keyword(name) else analyze(text)


def simple_match(pattern: str, name: str) -> bool:
    """ES `Regex.simpleMatch`: `*` matches any run of characters in a field pattern."""
    return wildcard(pattern.replace("\\", "\\\\").replace("?", "\\?"))(name)


def _wildcard_normalized(name: str, pattern: str) -> str:
    """Lucene's `analyzeWildcard`: normalize the runs between wildcards and escapes."""
    if _is_keyword(name):
        return pattern
    pieces = re.split(r"(\\.|[?*]+)", pattern)
    return "".join(p if i % 2 else lowercase(p) for i, p in enumerate(pieces))


@lru_cache(maxsize=8192)
def _compiled_regex(name_is_keyword: bool, pattern: str) -> Callable[[str], bool]:
    return regexp(pattern if name_is_keyword else lowercase(pattern)).matches


def check_regex(pattern: str, field: str | None = None) -> None:
    """Raise `QueryStringError` where ES fails a search for this regex (length, syntax, size).

    The pattern is built as each field it may meet normalizes it: `field`'s only, when it
    names one field.
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        raise QueryStringError(
            f"The length of regex [{len(pattern)}] used in the [query_string] has exceeded "
            f"the allowed maximum of [{MAX_REGEX_LENGTH}]. This maximum can be set by changing "
            "the [index.max_regex_length] index level setting."
        )
    single = field is not None and field != "*" and "*" not in field
    for keyword in (_is_keyword(field or ""),) if single else (True, False):
        try:
            _compiled_regex(keyword, pattern)
        except RegexError as err:
            raise QueryStringError(str(err)) from err


@dataclass(frozen=True)
class QueryString:
    """A parsed `query_string`, ready to judge documents of one index."""

    root: Node
    default_field: str = "*"
    default_and: bool = False

    def matches(self, doc: Document, index_fields: Collection[str] | None = None) -> bool:
        """Whether `doc` matches; `index_fields` are the index's field names (default: doc's)."""
        fields = doc.names() if index_fields is None else index_fields
        judge = _Judge(doc, fields, self.default_field, self.default_and)
        return bool(self.root.evaluate(judge.leaf))


def compile_query_string(
    text: str, *, default_field: str = "*", default_and: bool = False
) -> QueryString:
    """Parse and check `text`; raise `QueryStringError` where ES fails the search."""
    root = parse_query_string(text, default_and=default_and)
    _check(root)
    return QueryString(root, default_field, default_and)


def _check(node: Node) -> None:
    if node.kind == "regex":
        check_regex(node.value, node.field)
    for _, clause in node.clauses:
        _check(clause)


class _Judge:
    """One document's answers to the leaves of one query."""

    def __init__(
        self, doc: Document, fields: Collection[str], default_field: str, default_and: bool
    ) -> None:
        self.doc = doc
        self.fields = fields
        self.default_field = default_field
        self.default_and = default_and

    def expand(self, field: str | None) -> list[str]:
        name = self.default_field if field is None else field
        if name == "*":
            return sorted(self.fields)
        if "*" in name:
            return sorted(f for f in self.fields if simple_match(name, f))
        return [name]

    def leaf(self, node: Node) -> bool | None:
        if node.kind == "match_all":
            return True
        if node.kind == "exists":
            return self.exists(node.field or "")
        verdicts = [self.on_field(name, node) for name in self.expand(node.field)]
        if not verdicts:
            return False  # no field matched the pattern: ES's match_none
        present = [v for v in verdicts if v is not None]
        return any(present) if present else None

    def exists(self, pattern: str) -> bool:
        if "*" in pattern:
            names = [f for f in self.fields if simple_match(pattern, f)]
        elif pattern in self.fields:
            names = [pattern]
        else:  # an object: any field under it
            names = [f for f in self.fields if f.startswith(pattern + ".")]
        return any(self.doc.present(name) for name in names)

    def on_field(self, name: str, node: Node) -> bool | None:
        kind, doc = node.kind, self.doc
        if kind in ("term", "phrase"):
            tokens = _analyze_for(name, node.value)
            if not tokens:
                return None
            if kind == "phrase" and len(tokens) > 1:
                return _phrase(doc.text_positions(name), tokens, int(node.option))
            terms = doc.terms(name)
            hits = [token in terms for token in tokens]
            return all(hits) if self.default_and else any(hits)
        terms = doc.terms(name)
        if kind == "prefix":
            prefix = _normalize(name, node.value)
            return any(term.startswith(prefix) for term in terms)
        if kind == "wildcard":
            matcher = wildcard(_wildcard_normalized(name, node.value))
            return any(matcher(term) for term in terms)
        if kind == "regex":
            matcher = _compiled_regex(_is_keyword(name), node.value)
            return any(matcher(term) for term in terms)
        if kind == "fuzzy":
            wanted = _normalize(name, node.value)
            edits = _edits(node.option, len(wanted))
            return any(_within(term, wanted, edits) for term in terms)
        if kind == "range":
            return self.in_range(name, node.value)
        raise ValueError(f"unknown query_string leaf {kind!r}")

    def in_range(self, name: str, bounds: tuple[Any, Any, bool, bool]) -> bool:
        low, high, include_low, include_high = bounds
        base = name[: -len(KEYWORD)] if name.endswith(KEYWORD) else name
        values = self.doc.fields.get(base, ())
        if values and not _has_string(values):  # a numeric field compares numbers
            return any(_numeric_in(v, bounds) for v in values if not isinstance(v, bool))
        low = None if low is None else _normalize(name, low)
        high = None if high is None else _normalize(name, high)
        return any(
            (low is None or (term >= low if include_low else term > low))
            and (high is None or (term <= high if include_high else term < high))
            for term in self.doc.terms(name)
        )


def _numeric_in(value: Any, bounds: tuple[Any, Any, bool, bool]) -> bool:
    low, high, include_low, include_high = bounds
    try:
        lo = None if low is None else float(low)
        hi = None if high is None else float(high)
    except ValueError:
        return False
    return (lo is None or (value >= lo if include_low else value > lo)) and (
        hi is None or (value <= hi if include_high else value < hi)
    )


def _phrase(positions: Mapping[str, list[int]], tokens: tuple[str, ...], slop: int) -> bool:
    """Lucene's phrase match: consecutive positions, or within `slop` moves for a sloppy one."""
    lists = [positions.get(token) for token in tokens]
    if any(not p for p in lists):
        return False
    if slop == 0:
        first = lists[0] or []
        others = [set(p or ()) for p in lists[1:]]
        return any(all(start + k + 1 in others[k] for k in range(len(others))) for start in first)
    offsets = [[p - k for p in (plist or [])] for k, plist in enumerate(lists)]
    for choice in product(*offsets):
        chosen = [o + k for k, o in enumerate(choice)]
        if len(set(chosen)) == len(chosen) and max(choice) - min(choice) <= slop:
            return True
    return False


def _edits(similarity: float, length: int) -> int:
    """Lucene's `FuzzyQuery.floatToEdits` (at most 2 edits)."""
    if similarity >= 1:
        return int(min(similarity, 2))
    if similarity == 0:
        return 0
    return min(int((1 - similarity) * length), 2)


def _within(term: str, wanted: str, edits: int) -> bool:
    """Damerau-Levenshtein (adjacent transpositions) distance at most `edits`."""
    if abs(len(term) - len(wanted)) > edits:
        return False
    previous2: list[int] = []
    previous = list(range(len(wanted) + 1))
    for i, a in enumerate(term, 1):
        row = [i] + [0] * len(wanted)
        for j, b in enumerate(wanted, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == wanted[j - 2] and term[i - 2] == b:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > edits:
            return False
        previous2, previous = previous, row
    return previous[-1] <= edits
