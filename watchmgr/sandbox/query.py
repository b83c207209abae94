"""A small, pure evaluator of the ES query DSL, sort and search_after over JSON documents.

Field semantics follow dynamic mapping (watcher-api.md §1.4): a string is `text` (standard
analyzer: lower-cased word tokens) with an exact `.keyword` sub-field; `_id` is a keyword;
numbers and booleans compare by value. For `.watches` only `_id` and `metadata.*` are indexed,
which the caller expresses by passing a view of the document holding just those.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watchmgr.sandbox.analysis import analyze as _analyze
from watchmgr.sandbox.analysis import utf16_length
from watchmgr.sandbox.automaton import wildcard
from watchmgr.sandbox.errors import EsError
from watchmgr.sandbox.lucene import (
    IGNORE_ABOVE,
    Document,
    compile_query_string,
    flatten,
    term_text,
)
from watchmgr.sandbox.mapping import IndexMapping
from watchmgr.sandbox.querystring import QueryShardError, QueryStringError

Doc = dict[str, Any]


def analyze(text: str) -> list[str]:
    """The standard analyzer's tokens (see `analysis`)."""
    return list(_analyze(text))


def parsing_error(reason: str) -> EsError:
    return EsError(400, "parsing_exception", reason, metadata={"line": 1, "col": 1})


def _values(doc: Doc, field: str, mapping: IndexMapping | None = None) -> tuple[list[Any], bool]:
    """Values of `field` and whether they are exact (keyword / non-string) values.

    Dotted names are object paths, however the document spells them (§1.4); `.keyword`
    holds only strings of at most `ignore_above` characters. A field the index's `mapping`
    names is exact unless it is `text`, a keyword one without values over its `ignore_above`.
    """
    if field == "_id":
        return [doc.get("_id")], True
    fields = flatten({k: v for k, v in doc.items() if k != "_id"})
    explicit = None if mapping is None else mapping.get(field)
    if explicit is not None:
        values = fields.get(explicit.source, [])
        if explicit.kind == "text":
            return values, False
        if explicit.kind == "keyword":
            limit = explicit.ignore_above
            texts = [term_text(v) for v in values]
            return [t for t in texts if limit is None or utf16_length(t) <= limit], True
        return values, True
    if field.endswith(".keyword") and field not in fields:
        strings = [v for v in fields.get(field[: -len(".keyword")], ()) if isinstance(v, str)]
        return [v for v in strings if utf16_length(v) <= IGNORE_ABOVE], True
    leaves = fields.get(field, [])
    return leaves, not any(isinstance(v, str) for v in leaves)


def _term_matches(values: list[Any], exact: bool, wanted: Any) -> bool:
    for value in values:
        if isinstance(value, str):
            if exact and value == str(wanted):
                return True
            if not exact and str(wanted) in analyze(value):
                return True
        elif isinstance(value, bool) or isinstance(wanted, bool):
            if str(value).lower() == str(wanted).lower():
                return True
        elif isinstance(value, int | float):
            try:
                if float(value) == float(wanted):
                    return True
            except (TypeError, ValueError):
                continue
    return False


def _strings(values: list[Any], exact: bool) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.extend([value] if exact else analyze(value))
        else:
            out.append(str(value).lower() if isinstance(value, bool) else str(value))
    return out


def _field_and_value(spec: Any, query: str, value_key: str = "value") -> tuple[str, Any]:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise parsing_error(
            f"[{query}] query doesn't support multiple fields, found {list(spec or [])}"
        )
    field, value = next(iter(spec.items()))
    if isinstance(value, dict):
        if value_key not in value:
            raise parsing_error(f"[{query}] query does not support [{next(iter(value), '')}]")
        value = value[value_key]
    return field, value


def _compare(a: Any, b: Any) -> int:
    try:
        fa, fb = float(a), float(b)
        return (fa > fb) - (fa < fb)
    except (TypeError, ValueError):
        sa, sb = str(a), str(b)
        return (sa > sb) - (sa < sb)


def compile_query(query: Any, mapping: IndexMapping | None = None) -> Callable[[Doc], bool]:
    """Compile a query DSL object into a predicate; raises `EsError` like ES's parser.

    `mapping`: the explicit mappings of the index searched (its `query_string` clauses meet
    those fields as their types say; by default every field is dynamic).
    """
    if not isinstance(query, dict) or len(query) != 1:
        raise parsing_error("[_na] query malformed, must start with start_object")
    name, spec = next(iter(query.items()))
    builder = _BUILDERS.get(name)
    if builder is None:
        raise parsing_error(f"unknown query [{name}]")
    return builder(spec, mapping)


def _q_match_all(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    return lambda doc: True


def _q_match_none(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    return lambda doc: False


def _q_term(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    field, wanted = _field_and_value(spec, "term")

    def match(doc: Doc) -> bool:
        values, exact = _values(doc, field, mapping)
        return _term_matches(values, exact, wanted)

    return match


def _q_terms(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    if not isinstance(spec, dict):
        raise parsing_error("[terms] query malformed")
    fields = [(f, v) for f, v in spec.items() if f != "boost"]
    if len(fields) != 1 or not isinstance(fields[0][1], list):
        raise parsing_error("[terms] query does not support multiple fields")
    field, wanted = fields[0]

    def match(doc: Doc) -> bool:
        values, exact = _values(doc, field, mapping)
        return any(_term_matches(values, exact, w) for w in wanted)

    return match


def _q_prefix(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    field, prefix = _field_and_value(spec, "prefix")

    def match(doc: Doc) -> bool:
        values, exact = _values(doc, field, mapping)
        return any(s.startswith(str(prefix)) for s in _strings(values, exact))

    return match


def _q_wildcard(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    field, pattern = _field_and_value(spec, "wildcard")
    if isinstance(pattern, dict):
        pattern = pattern.get("wildcard")

    def match(doc: Doc) -> bool:
        values, exact = _values(doc, field, mapping)
        matcher = wildcard(str(pattern))
        return any(matcher(s) for s in _strings(values, exact))

    return match


def _q_exists(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    if not isinstance(spec, dict) or "field" not in spec:
        raise parsing_error("[exists] must be provided with a [field]")
    field = str(spec["field"])
    return lambda doc: bool(_values(doc, field, mapping)[0])


def _q_ids(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    wanted = set(map(str, (spec or {}).get("values", [])))
    return lambda doc: str(doc.get("_id")) in wanted


def _q_range(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise parsing_error("[range] query doesn't support multiple fields")
    field, bounds = next(iter(spec.items()))
    if not isinstance(bounds, dict):
        raise parsing_error("[range] query malformed, no start_object after query name")
    checks: dict[str, Callable[[int], bool]] = {
        "gt": lambda c: c > 0,
        "gte": lambda c: c >= 0,
        "lt": lambda c: c < 0,
        "lte": lambda c: c <= 0,
    }
    active = [(checks[k], v) for k, v in bounds.items() if k in checks]

    def match(doc: Doc) -> bool:
        values, _ = _values(doc, field, mapping)
        return any(all(check(_compare(v, bound)) for check, bound in active) for v in values)

    return match


def _q_match(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    field, text = _field_and_value(spec, "match", "query")
    operator = "or"
    if isinstance(spec[field], dict):
        operator = str(spec[field].get("operator", "or")).lower()
    words = analyze(str(text))

    def match(doc: Doc) -> bool:
        values, exact = _values(doc, field, mapping)
        if exact:
            return _term_matches(values, True, text)
        tokens = set(_strings(values, False))
        hits = [w in tokens for w in words]
        return all(hits) if operator == "and" else any(hits)

    return match


def _q_bool(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    if not isinstance(spec, dict):
        raise parsing_error("[bool] query malformed")

    def clauses(key: str) -> list[Callable[[Doc], bool]]:
        value = spec.get(key, [])
        items = value if isinstance(value, list) else [value]
        return [compile_query(item, mapping) for item in items]

    for key in spec:
        if key not in (
            "must",
            "filter",
            "should",
            "must_not",
            "minimum_should_match",
            "boost",
            "_name",
        ):
            raise parsing_error(f"[bool] query does not support [{key}]")
    # A conjunction: filters first, as they are usually cheap (ids, terms, ranges) and ES also
    # narrows by them before scoring; the matched set is the same in any order.
    must = clauses("filter") + clauses("must")
    should = clauses("should")
    must_not = clauses("must_not")
    minimum = spec.get("minimum_should_match", 1 if should and not must else 0)
    minimum = int(str(minimum).rstrip("%")) if not isinstance(minimum, int) else minimum

    def match(doc: Doc) -> bool:
        if not all(c(doc) for c in must) or any(c(doc) for c in must_not):
            return False
        return sum(1 for c in should if c(doc)) >= minimum

    return match


def _q_query_string(spec: Any, mapping: IndexMapping | None) -> Callable[[Doc], bool]:
    if not isinstance(spec, dict) or "query" not in spec:
        raise parsing_error("[query_string] must be provided with a [query]")
    text = str(spec["query"])
    try:
        query = compile_query_string(
            text,
            default_field=str(spec.get("default_field", "*")),
            default_and=str(spec.get("default_operator", "or")).lower() == "and",
            mapping=mapping,
        )
    except QueryStringError as err:
        raise query_shard_error(text, err) from err
    return lambda doc: query.matches(Document(doc, mapping=mapping))


def query_shard_error(text: str, err: QueryStringError) -> EsError:
    """ES's answer to a query_string it cannot parse, or that a field cannot run (a shard
    failure, then a 400)."""
    if isinstance(err, QueryShardError):
        reason, cause = f"failed to create query: {err}", None
    else:
        reason = f"Failed to parse query [{text}]"
        cause = EsError(400, "parse_exception", f"Cannot parse '{text}': {err}", foreign=True)
    inner = EsError(
        400,
        "query_shard_exception",
        reason,
        metadata={"index_uuid": "_na_", "index": "_na_"},
        caused_by=cause,
    )
    return EsError(
        400,
        "search_phase_execution_exception",
        "all shards failed",
        metadata={"phase": "query", "grouped": True, "failed_shards": []},
        caused_by=inner,
    )


_BUILDERS: dict[str, Callable[[Any, IndexMapping | None], Callable[[Doc], bool]]] = {
    "match_all": _q_match_all,
    "match_none": _q_match_none,
    "term": _q_term,
    "terms": _q_terms,
    "prefix": _q_prefix,
    "wildcard": _q_wildcard,
    "exists": _q_exists,
    "ids": _q_ids,
    "range": _q_range,
    "match": _q_match,
    "bool": _q_bool,
    "query_string": _q_query_string,
}


# ---------------------------------------------------------------------------- sorting


def parse_sort(sort: Any) -> list[tuple[str, bool]]:
    """`[{field: {order}}]` / `[{field: "desc"}]` -> [(field, descending)] (§1.4)."""
    if sort is None:
        return []
    items = sort if isinstance(sort, list) else [sort]
    out: list[tuple[str, bool]] = []
    for item in items:
        if isinstance(item, str):
            out.append((item, False))
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise parsing_error(
                "malformed sort format, within the sort array, an object, or an "
                "actual string are allowed"
            )
        field, spec = next(iter(item.items()))
        order = spec.get("order", "asc") if isinstance(spec, dict) else spec
        if str(order).lower() not in ("asc", "desc"):
            raise EsError(400, "illegal_argument_exception", f"Unknown SortOrder [{order}]")
        out.append((field, str(order).lower() == "desc"))
    return out


def check_sortable(doc: Doc, field: str, index: str) -> None:
    values, exact = _values(doc, field)
    if values and not exact:
        raise EsError(
            400,
            "illegal_argument_exception",
            f"Fielddata is disabled on [{field}] in [{index}]. Text fields are not optimised for "
            "operations that require per-document field data like aggregations and sorting, so "
            "these operations are disabled by default. Please use a keyword field instead.",
        )


class _Key:
    """One sort value; missing values sort last in both directions, as ES does by default."""

    __slots__ = ("descending", "value")

    def __init__(self, value: Any, descending: bool) -> None:
        self.value = value
        self.descending = descending

    def __lt__(self, other: _Key) -> bool:
        if self.value is None or other.value is None:
            return self.value is not None and other.value is None
        cmp = _compare(self.value, other.value)
        return cmp > 0 if self.descending else cmp < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and _compare(self.value, other.value) == 0


def sort_value(doc: Doc, field: str) -> Any:
    values, _ = _values(doc, field)
    if not values:
        return None
    return min(values, key=lambda v: (isinstance(v, str), v))


def _typed(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, float(value))
    return (1, str(value))


def sort_docs(
    docs: list[tuple[Doc, Any]], sort: list[tuple[str, bool]], index: str
) -> list[tuple[Doc, Any]]:
    """Stable sort (index order breaks ties); `docs` pairs each view with a payload.

    Missing values sort last in both directions, as ES does by default.
    """
    for field, _desc in sort:
        for view, _ in docs:
            check_sortable(view, field, index)
    ordered = list(docs)
    for field, desc in reversed(sort):  # stable multi-key sort: least significant key first
        keyed = [(sort_value(d[0], field), d) for d in ordered]
        present = [(v, d) for v, d in keyed if v is not None]
        present.sort(key=lambda item: _typed(item[0]), reverse=desc)
        ordered = [d for _, d in present] + [d for v, d in keyed if v is None]
    return ordered


def after(view: Doc, sort: list[tuple[str, bool]], search_after: list[Any]) -> bool:
    """True if `view` sorts strictly after the `search_after` values."""
    for (field, desc), bound in zip(sort, search_after, strict=False):
        a, b = _Key(sort_value(view, field), desc), _Key(bound, desc)
        if a < b:
            return False
        if b < a:
            return True
    return False
