"""Key order of a Java `HashMap<String, Object>` (watcher-api.md §2.9, T9).

ES parses free-form maps (`metadata`, `simple` payloads, `alternative_input`) into HashMaps, so
they come back in bucket order, not insertion order. Emulating that order keeps clients honest:
anything that compares these maps as ordered sequences breaks here as it would against ES.
"""

from __future__ import annotations

from typing import Any


def java_string_hash(text: str) -> int:
    """`String.hashCode()` over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _bucket(key: str, capacity: int) -> int:
    h = java_string_hash(key) & 0xFFFFFFFF
    return (h ^ (h >> 16)) & (capacity - 1)


def _capacity(size: int) -> int:
    # Default capacity 16, load factor 0.75, doubling on overflow.
    capacity = 16
    while size > capacity * 0.75:
        capacity *= 2
    return capacity


def hashmap_order(value: Any) -> Any:
    """Reorder every dict in `value` (recursively) as a Java HashMap would iterate it."""
    if isinstance(value, dict):
        capacity = _capacity(len(value))
        keys = sorted(enumerate(value), key=lambda item: (_bucket(str(item[1]), capacity), item[0]))
        return {k: hashmap_order(value[k]) for _, k in keys}
    if isinstance(value, list):
        return [hashmap_order(v) for v in value]
    return value
