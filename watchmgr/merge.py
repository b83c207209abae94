"""Deep merge of plain YAML data: one definition for rule templates and environment files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def deep_merge(
    base: Any, override: Any, on_replace: Callable[[tuple[str, ...]], None] | None = None
) -> Any:
    """`override` merged into a copy of `base`: mappings merge key by key, anything else replaces.

    Keys keep `base`'s order, new keys follow. `on_replace(path)` is called where a mapping and
    a non-mapping meet (one replaces the other: usually a mistake worth a warning). Neither
    argument is changed; the result shares no mutable containers with them.
    """
    return _merge(base, override, (), on_replace)


def _merge(
    base: Any,
    override: Any,
    path: tuple[str, ...],
    on_replace: Callable[[tuple[str, ...]], None] | None,
) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = {key: copy_plain(value) for key, value in base.items()}
        for key, value in override.items():
            where = (*path, str(key))
            merged[key] = (
                _merge(merged[key], value, where, on_replace)
                if key in merged
                else copy_plain(value)
            )
        return merged
    if on_replace is not None and path and isinstance(base, dict) != isinstance(override, dict):
        on_replace(path)
    return copy_plain(override)


def copy_plain(value: Any) -> Any:
    """A deep copy of plain YAML data (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {key: copy_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_plain(item) for item in value]
    return value
