"""The mapping of a sandbox index: the one it was created with, then dynamic mapping.

Dynamic mapping as Elasticsearch applies it with default settings: a string is ``text`` with a
``keyword`` sub-field (``ignore_above: 256``) unless date detection reads it as a ``date``
(``strict_date_optional_time`` or ``yyyy/MM/dd HH:mm:ss``); whole numbers are ``long``, others
``float``, booleans ``boolean``; an object's fields are mapped under its name, and a dotted key
(``"a.b"``) is the path ``a`` → ``b``. The first document that holds a field decides its type.
`field_mapping_answer` is ``GET <index>/_mapping/field/<fields>``'s body for one index.
One walk reads the explicit mapping (`_explicit_fields`) for that answer, for searches and for
`check_mapping`, which refuses at index creation what ES's mapping parser refuses.

`IndexMapping` is how a search meets the explicitly mapped fields (`lucene.py`): ``keyword``
and ``wildcard`` hold each whole value as one exact term (none longer than the field's
``ignore_above``, unbounded unless set), ``text`` its analyzed words, ``ip`` an address that a
CIDR term matches by network, numbers, booleans and dates their values.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: What dynamic mapping gives a string (ES's default dynamic template for strings).
STRING_MAPPING: dict[str, Any] = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
}
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$"
    r"|^\d{4}/\d{2}/\d{2}( \d{2}:\d{2}:\d{2})?$"
)


def leaf_fields(
    explicit: Mapping[str, Any] | None, docs: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Full field name -> its mapping, multi-fields (``a.keyword``) as fields of their own."""
    fields: dict[str, dict[str, Any]] = {}
    for full, spec, _source in _explicit_fields(explicit):
        fields[full] = spec
    for doc in docs:
        _dynamic(doc, "", fields)
    return fields


class MalformedMapping(ValueError):
    """A mapping ES's mapping parser refuses: its exception's type and message, which ES
    answers as the cause of ``mapper_parsing_exception: Failed to parse mapping: <message>``."""

    def __init__(self, reason: str, type_: str = "mapper_parsing_exception") -> None:
        super().__init__(reason)
        self.reason = reason
        self.type = type_


def _java(value: Any) -> tuple[str, str]:
    """How Java prints a JSON value ES read, and its class, for the messages that name them."""
    if isinstance(value, bool):
        return str(value).lower(), "class java.lang.Boolean"
    if isinstance(value, int):
        return str(value), "class java.lang.Integer"
    if isinstance(value, float):
        return str(value), "class java.lang.Double"
    if isinstance(value, list):
        return f"[{', '.join(_java(v)[0] for v in value)}]", "class java.util.ArrayList"
    return str(value), "class java.lang.String"


def _explicit_fields(
    explicit: Mapping[str, Any] | None,
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Each explicitly mapped field as (full name, its mapping, the document path it indexes);
    a multi-field (``a.keyword``) is a field of its own whose path is its parent's.

    Raises `MalformedMapping` where ES's mapping parser refuses the mapping (an empty list
    stands for an empty object there, as ES reads it)."""
    yield from _walk((explicit or {}).get("properties") or {}, "")


def _walk(properties: Any, prefix: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    if not isinstance(properties, dict):
        raise MalformedMapping("properties must be a map type", "parse_exception")
    for name, spec in properties.items():
        full = prefix + name
        if spec == []:
            continue
        if not isinstance(spec, dict):
            # ES names the class of the field's *name* here, so it always says String
            raise MalformedMapping(
                f"Expected map for property [fields] on field [{name}] "
                "but got a class java.lang.String"
            )
        if "properties" in spec:
            yield from _walk(spec["properties"] or {}, full + ".")
            continue
        yield full, dict(spec), full
        subs = spec.get("fields") or {}
        if not isinstance(subs, dict):
            shown, java_class = _java(subs)
            raise MalformedMapping(
                f"expected map for property [fields] on field [{shown}] or [fields] "
                f"but got a {java_class}"
            )
        for sub, sub_spec in subs.items():
            if "." in sub:
                raise MalformedMapping(
                    f"Field name [{sub}] which is a multi field of [{full}] cannot contain '.'"
                )
            if not isinstance(sub_spec, dict):
                raise MalformedMapping(
                    f"illegal field [{sub}], only fields can be specified inside fields"
                )
            yield f"{full}.{sub}", dict(sub_spec), full


def check_mapping(explicit: Mapping[str, Any]) -> None:
    """Raise `MalformedMapping` if ES would refuse `explicit` at index creation."""
    for _ in _explicit_fields(explicit):
        pass


def _dynamic(doc: Mapping[str, Any], prefix: str, out: dict[str, dict[str, Any]]) -> None:
    for key, value in doc.items():
        full = prefix + key
        if isinstance(value, dict):
            _dynamic(value, full + ".", out)
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                _dynamic(item, full + ".", out)
                continue
            if item is None or full in out:
                continue
            spec = _infer(item)
            out[full] = spec
            for sub, sub_spec in (spec.get("fields") or {}).items():
                out[f"{full}.{sub}"] = dict(sub_spec)


def _infer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, str) and _DATE.match(value):
        return {"type": "date"}
    return {
        "type": "text",
        "fields": {k: dict(v) for k, v in STRING_MAPPING["fields"].items()},
    }


def field_mapping_answer(
    fields: Mapping[str, dict[str, Any]], patterns: Iterable[str]
) -> dict[str, Any]:
    """The ``mappings`` of one index in the get-field-mapping answer: each field a pattern
    names (``*`` allowed), as ``{full_name, mapping: {its last name: its mapping}}``."""
    wanted = [p for p in patterns if p]
    answer: dict[str, Any] = {}
    for full in sorted(fields):
        if any(fnmatch.fnmatchcase(full, p) for p in wanted):
            leaf = full.rsplit(".", 1)[-1]
            answer[full] = {"full_name": full, "mapping": {leaf: fields[full]}}
    return answer


#: How a query meets a field, by its mapping type (the types a query_string reads as strings
#: are keyword-like; those ES parses the query's value for are typed).
_KINDS = {
    "keyword": "keyword",
    "constant_keyword": "keyword",
    "wildcard": "keyword",
    "text": "text",
    "match_only_text": "text",
    "ip": "ip",
    "boolean": "boolean",
    "date": "date",
    "date_nanos": "date",
    **dict.fromkeys(
        (
            "long",
            "integer",
            "short",
            "byte",
            "double",
            "float",
            "half_float",
            "scaled_float",
            "unsigned_long",
        ),
        "number",
    ),
}


@dataclass(frozen=True, slots=True)
class FieldType:
    """One explicitly mapped field, as a search meets it."""

    #: keyword, text, ip, number, boolean, date, or other (matches nothing)
    kind: str
    #: the mapping's type name, as ES names it in errors
    type: str
    #: the document path whose values it indexes (a multi-field's parent)
    source: str
    #: keyword and wildcard: longer values (UTF-16 units) are not indexed; None: no bound
    ignore_above: int | None = None


class IndexMapping:
    """The fields an index was created with; fields it does not name are mapped dynamically."""

    def __init__(self, explicit: Mapping[str, Any] | None) -> None:
        self._fields: dict[str, FieldType] = {
            full: _field_type(spec, source) for full, spec, source in _explicit_fields(explicit)
        }

    def __bool__(self) -> bool:
        return bool(self._fields)

    def get(self, name: str) -> FieldType | None:
        """The explicit mapping of the field `name` (None: not mapped explicitly)."""
        return self._fields.get(name)

    def names(self) -> set[str]:
        return set(self._fields)


def _field_type(spec: Mapping[str, Any], source: str) -> FieldType:
    type_name = str(spec.get("type", "object"))
    limit = spec.get("ignore_above")
    ignore_above = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    return FieldType(_KINDS.get(type_name, "other"), type_name, source, ignore_above)
