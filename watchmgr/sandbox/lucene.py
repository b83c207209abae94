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

An index created with explicit mappings (`mapping.IndexMapping`) has its fields searched as
their types say instead: a `keyword` or `wildcard` field is one exact term per value (the
whole value, case as written, none over its `ignore_above`), a `text` field its words, an
`ip` field an address (a CIDR term matches its network), numbers, booleans and dates their
values; a wildcard, prefix, regex or fuzzy term on an `ip`, number, boolean or date field
fails the search, as does a term that is not an address or a number where one must be.
Fields the mapping does not name are mapped dynamically, as above.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

from watchmgr.sandbox.analysis import analyze, lowercase, utf16_length
from watchmgr.sandbox.automaton import RegexError, regexp, wildcard
from watchmgr.sandbox.mapping import FieldType, IndexMapping
from watchmgr.sandbox.querystring import Node, QueryShardError, QueryStringError, parse_query_string

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


_DYNAMIC = IndexMapping(None)


class Document:
    """One document as the index holds it; terms are computed on first use.

    `mapping`: the index's explicit mappings (by default none: every field is dynamic).
    """

    def __init__(
        self,
        source: Mapping[str, Any],
        ignore_above: int = IGNORE_ABOVE,
        mapping: IndexMapping | None = None,
    ) -> None:
        doc_id = source.get("_id")
        self.fields = flatten({k: v for k, v in source.items() if k != "_id"})
        self.doc_id = None if doc_id is None else str(doc_id)
        self.ignore_above = ignore_above
        self.mapping = _DYNAMIC if mapping is None else mapping
        self._positions: dict[str, dict[str, list[int]]] = {}

    def names(self) -> set[str]:
        """Every searchable field: the mapped ones, then each dynamic leaf field and
        `.keyword` beside each dynamic string field."""
        names = self.mapping.names()
        for f, values in self.fields.items():
            if self.mapping.get(f) is None:
                names.add(f)
                if _has_string(values):
                    names.add(f + KEYWORD)
        return names

    def is_keyword(self, name: str) -> bool:
        """Whether the field holds whole values as exact terms (keyword, wildcard, `_id`)."""
        explicit = self.mapping.get(name)
        return _is_keyword(name) if explicit is None else explicit.kind == "keyword"

    def present(self, name: str) -> bool:
        """Whether the field has a value indexed (`_field_names`, what exists asks)."""
        explicit = self.mapping.get(name)
        if explicit is not None:
            if explicit.kind == "keyword":
                return bool(self.exact_terms(explicit))
            return bool(self.fields.get(explicit.source))
        if name in self.fields:
            return True
        if name.endswith(KEYWORD):
            return bool(self.keyword_terms(name[: -len(KEYWORD)]))
        return False

    def exact_terms(self, field: FieldType) -> list[str]:
        """An explicit non-text field's terms: each value whole, none over `ignore_above`."""
        terms = [term_text(v) for v in self.fields.get(field.source, ())]
        if field.kind != "keyword" or field.ignore_above is None:
            return terms
        return [t for t in terms if utf16_length(t) <= field.ignore_above]

    def positions(self, name: str) -> dict[str, list[int]]:
        """Token -> positions of the text field `name` (a mapped one reads its source)."""
        explicit = self.mapping.get(name)
        return self.text_positions(name if explicit is None else explicit.source)

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
        explicit = self.mapping.get(name)
        if explicit is not None:
            if explicit.kind == "text":
                return self.text_positions(explicit.source).keys()
            return self.exact_terms(explicit)
        if name.endswith(KEYWORD) and name[: -len(KEYWORD)] in self.fields:
            return self.keyword_terms(name[: -len(KEYWORD)])
        return self.text_positions(name).keys()


def _has_string(values: Iterable[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _is_keyword(name: str) -> bool:
    return name.endswith(KEYWORD) or name == "_id"


def _normalize(keyword: bool, text: str) -> str:
    """The field's analyzer's `normalize`: lower-case on text, identity on keyword."""
    return text if keyword else lowercase(text)


def _analyze_for(keyword: bool, text: str) -> tuple[str, ...]:
    return (text,) if keyword else analyze(text)


def simple_match(pattern: str, name: str) -> bool:
    """ES `Regex.simpleMatch`: `*` matches any run of characters in a field pattern."""
    return wildcard(pattern.replace("\\", "\\\\").replace("?", "\\?"))(name)


def _wildcard_normalized(keyword: bool, pattern: str) -> str:
    """Lucene's `analyzeWildcard`: normalize the runs between wildcards and escapes."""
    if keyword:
        return pattern
    pieces = re.split(r"(\\.|[?*]+)", pattern)
    return "".join(p if i % 2 else lowercase(p) for i, p in enumerate(pieces))


@lru_cache(maxsize=8192)
def _compiled_regex(name_is_keyword: bool, pattern: str) -> Callable[[str], bool]:
    return regexp(pattern if name_is_keyword else lowercase(pattern)).matches


def check_regex(pattern: str, field: str | None = None, mapping: IndexMapping = _DYNAMIC) -> None:
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
    explicit = mapping.get(field or "")
    one = _is_keyword(field or "") if explicit is None else explicit.kind == "keyword"
    for keyword in (one,) if single else (True, False):
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
    text: str,
    *,
    default_field: str = "*",
    default_and: bool = False,
    mapping: IndexMapping | None = None,
) -> QueryString:
    """Parse and check `text` (for an index with `mapping`, by default dynamic mapping only);
    raise `QueryStringError` where ES fails the search."""
    root = parse_query_string(text, default_and=default_and)
    _check(root, _DYNAMIC if mapping is None else mapping)
    return QueryString(root, default_field, default_and)


def _check(node: Node, mapping: IndexMapping) -> None:
    named = node.field is not None and "*" not in node.field
    explicit = mapping.get(node.field or "") if named else None
    if explicit is not None and explicit.kind not in ("keyword", "text"):
        _check_typed(node, explicit, node.field or "")
    if node.kind == "regex":
        check_regex(node.value, node.field, mapping)
    for _, clause in node.clauses:
        _check(clause, mapping)


#: the queries a field that is not a string field refuses, and the fields ES names as able
_STRING_ONLY = {
    "wildcard": ("wildcard", "keyword, text and wildcard"),
    "prefix": ("prefix", "keyword, text and wildcard"),
    "regex": ("regexp", "keyword and text"),
    "fuzzy": ("fuzzy", "keyword and text"),
}


def _check_typed(node: Node, field: FieldType, name: str) -> None:
    """ES fails a search whose term an `ip`, number, boolean or date field cannot read
    (`query_string` is not lenient for a field it names)."""
    if node.kind in _STRING_ONLY:
        query, able = _STRING_ONLY[node.kind]
        raise QueryShardError(
            f"Can only use {query} queries on {able} fields - not on [{name}] which is of "
            f"type [{field.type}]"
        )
    if node.kind not in ("term", "phrase"):
        return
    value = str(node.value)
    if field.kind == "ip" and _network(value) is None:
        raise QueryShardError(f"'{value}' is not an IP string literal.")
    if field.kind == "number" and _number(value) is None:
        raise QueryShardError(f'For input string: "{value}"')


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address (a network of one) or a CIDR block, as an `ip` field's term query reads it."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _ip_point(value: Any) -> int | None:
    """Where an address sorts in an `ip` field: IPv6, an IPv4 address as ``::ffff:a.b.c.d``."""
    address = _address(value)
    if address is None:
        return None
    return int(address) | (0xFFFF << 32) if address.version == 4 else int(address)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _typed_match(field: FieldType, node: Node, values: Iterable[Any]) -> bool:
    """A term, phrase or range on an `ip`, number, boolean or date field (the other kinds
    of term fail the search at `_check_typed`, or meet no such field under `*`)."""
    if node.kind == "range":
        low, high, include_low, include_high = node.value
        if field.kind == "number":
            numbers = (_number(v) for v in values)
            return any(_numeric_in(n, node.value) for n in numbers if n is not None)
        key: Callable[[Any], Any] = term_text
        if field.kind == "ip":
            key = _ip_point
            low = None if low is None else _ip_point(low)
            high = None if high is None else _ip_point(high)
        return any(
            (k := key(v)) is not None
            and (low is None or (k >= low if include_low else k > low))
            and (high is None or (k <= high if include_high else k < high))
            for v in values
        )
    if node.kind not in ("term", "phrase"):
        return False
    wanted = str(node.value)
    if field.kind == "ip":
        network = _network(wanted)
        return network is not None and any(
            (a := _address(v)) is not None and a.version == network.version and a in network
            for v in values
        )
    if field.kind == "number":
        number = _number(wanted)
        return number is not None and any(_number(v) == number for v in values)
    if field.kind in ("boolean", "date"):
        return any(term_text(v) == wanted for v in values)
    return False


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
        explicit = doc.mapping.get(name)
        if explicit is not None and explicit.kind not in ("keyword", "text"):
            return _typed_match(explicit, node, doc.fields.get(explicit.source, ()))
        keyword = doc.is_keyword(name)
        if kind in ("term", "phrase"):
            tokens = _analyze_for(keyword, node.value)
            if not tokens:
                return None
            if kind == "phrase" and len(tokens) > 1:
                return _phrase(doc.positions(name), tokens, int(node.option))
            terms = doc.terms(name)
            hits = [token in terms for token in tokens]
            return all(hits) if self.default_and else any(hits)
        terms = doc.terms(name)
        if kind == "prefix":
            prefix = _normalize(keyword, node.value)
            return any(term.startswith(prefix) for term in terms)
        if kind == "wildcard":
            matcher = wildcard(_wildcard_normalized(keyword, node.value))
            return any(matcher(term) for term in terms)
        if kind == "regex":
            matcher = _compiled_regex(keyword, node.value)
            return any(matcher(term) for term in terms)
        if kind == "fuzzy":
            wanted = _normalize(keyword, node.value)
            edits = _edits(node.option, len(wanted))
            return any(_within(term, wanted, edits) for term in terms)
        if kind == "range":
            return self.in_range(name, node.value)
        raise ValueError(f"unknown query_string leaf {kind!r}")

    def in_range(self, name: str, bounds: tuple[Any, Any, bool, bool]) -> bool:
        low, high, include_low, include_high = bounds
        explicit = self.doc.mapping.get(name)
        base = name[: -len(KEYWORD)] if name.endswith(KEYWORD) else name
        values = self.doc.fields.get(base, ()) if explicit is None else ()
        if values and not _has_string(values):  # a numeric field compares numbers
            return any(_numeric_in(v, bounds) for v in values if not isinstance(v, bool))
        keyword = self.doc.is_keyword(name)
        low = None if low is None else _normalize(keyword, low)
        high = None if high is None else _normalize(keyword, high)
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
