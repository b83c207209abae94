"""The mapping of a sandbox index: the one it was created with, then dynamic mapping.

Dynamic mapping as Elasticsearch applies it with default settings: a string is ``text`` with a
``keyword`` sub-field (``ignore_above: 256``) unless date detection reads it as a ``date``
(``strict_date_optional_time`` or ``yyyy/MM/dd HH:mm:ss``); whole numbers are ``long``, others
``float``, booleans ``boolean``; an object's fields are mapped under its name, and a dotted key
(``"a.b"``) is the path ``a`` → ``b``. The first document that holds a field decides its type.
`field_mapping_answer` is ``GET <index>/_mapping/field/<fields>``'s body for one index.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
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
    _explicit(dict((explicit or {}).get("properties") or {}), "", fields)
    for doc in docs:
        _dynamic(doc, "", fields)
    return fields


def _explicit(properties: Mapping[str, Any], prefix: str, out: dict[str, dict[str, Any]]) -> None:
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            continue
        full = prefix + name
        if "properties" in spec:
            _explicit(spec["properties"], full + ".", out)
            continue
        out[full] = dict(spec)
        for sub, sub_spec in (spec.get("fields") or {}).items():
            out[f"{full}.{sub}"] = dict(sub_spec)


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
