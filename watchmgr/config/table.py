"""The watch settings, one row each: parsing, layering, `settings_dict` and ``config show``.

The rows are the fields of `watchmgr.settings.WatchSettings` that carry `written` metadata, in
field order: the field gives the key, the default and whether ``watch:`` accepts it, and names
its value's kind. `VALUE_KINDS` says per kind how a key of ``watch:`` (and of ``by_level.<level>``
and ``overrides``) is checked, how a layer's value lands on the value below it, and how it
prints. Adding a watch setting is one field there (of a kind listed here); everything else
(the keys each section accepts, patching, printing) follows from `rows()`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

from watchmgr import settings as watch_settings
from watchmgr.config.actions import parse_actions
from watchmgr.config.checks import (
    INDEX_NAME,
    Ctx,
    Key,
    boolean,
    choice,
    date_math,
    dotted,
    interval,
    mapping,
    text,
    texts,
    time_value,
)
from watchmgr.selection import LEVELS
from watchmgr.settings import WRITTEN, Action, IdScheme, WatchSettings, Written, action_json

ID_SCHEMES: tuple[str, ...] = get_args(IdScheme)
_ID_PREFIX = re.compile(r"^[A-Za-z0-9._:-]*$")
#: Row attribute meaning "a layer starts from the value below it".
_BELOW: Any = object()


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _replace(below: Any, value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class ValueKind:
    """A kind of setting value: its checker, how layers combine and how it prints."""

    #: (ctx, key, value as written) -> the value `WatchSettings` holds; errors at the key.
    parse: Callable[[Ctx, Key, Any], Any]
    #: the value as ``config show`` prints it.
    show: Callable[[Any], Any] = _plain
    #: (value below, this layer's value) -> the value after this layer.
    merge: Callable[[Any, Any], Any] = _replace
    #: how one layer's value prints (None: like `show`).
    show_layer: Callable[[Any], Any] | None = None
    #: what ``watch:`` starts from when it sets the key (`_BELOW`: the default).
    fresh: Any = _BELOW


@dataclass(frozen=True, slots=True)
class Setting:
    """One watch setting: a field of `WatchSettings` written in environment files, its kind."""

    #: the key in the file and the field of `WatchSettings`.
    name: str
    kind: ValueKind
    #: whether ``watch:`` and ``by_level`` accept it; False: only ``overrides`` do.
    in_watch: bool
    #: the seed's value: `WatchSettings`' default for the field.
    default: Any

    def shown(self, value: Any) -> Any:
        """One layer's value as ``config show`` prints it."""
        return (self.kind.show_layer or self.kind.show)(value)


def _id_prefix(ctx: Ctx, key: Key, raw: Any) -> str:
    if not isinstance(raw, str) or not _ID_PREFIX.match(raw):
        raise ctx.error(key, f"{dotted(key)} may only use letters, digits and . _ : -")
    return raw


def _field_name(ctx: Ctx, key: Key, raw: Any) -> str:
    name = text(ctx, key, raw)
    if any(c.isspace() for c in name):
        raise ctx.error(key, f"{dotted(key)} must be a field name without spaces")
    return name


def _dialect(ctx: Ctx, key: Key, raw: Any) -> str:
    from watchmgr.query import DIALECTS

    return choice(ctx, key, raw, tuple(DIALECTS))


def index_list(ctx: Ctx, key: Key, value: Any) -> tuple[str, ...]:
    """Index names or patterns: one as text or a list of them."""
    indices = texts(ctx, key, value, single=True)
    for i, index in enumerate(indices):
        if not INDEX_NAME.match(index):
            raise ctx.error(
                (*key, i) if isinstance(value, list) else key,
                f"{dotted(key)} {index!r} is not an index name or pattern (like winlogbeat-*)",
            )
    return indices


def _merge_actions(
    below: tuple[Action, ...], layer: tuple[tuple[str, Action | None], ...]
) -> tuple[Action, ...]:
    """Actions merged by name: the same name replaces, a new one is added, None removes."""
    actions = list(below)
    for name, action in layer:
        index = next((i for i, a in enumerate(actions) if a.name == name), None)
        if action is None:
            if index is not None:
                del actions[index]
        elif index is None:
            actions.append(action)
        else:
            actions[index] = action
    return tuple(actions)


#: Each kind of setting value `WatchSettings` fields name (`watchmgr.settings.written`).
VALUE_KINDS: dict[str, ValueKind] = {
    "id scheme": ValueKind(lambda ctx, key, raw: choice(ctx, key, raw, ID_SCHEMES)),
    "id prefix": ValueKind(_id_prefix),
    "interval": ValueKind(interval),
    "date math": ValueKind(date_math),
    "field name": ValueKind(_field_name),
    "time value": ValueKind(time_value),
    "boolean": ValueKind(boolean),
    "dialect": ValueKind(_dialect),
    "indices": ValueKind(index_list),
    # Actions written under watch: replace the seed's e-mail action; a null entry drops an
    # action a base file or a lower layer defined. They print as the watch builder starts from
    # them: their keys are the file's.
    "actions": ValueKind(
        parse_actions,
        show=lambda actions: {a.name: action_json(a) for a in actions},
        merge=_merge_actions,
        show_layer=lambda layer: {n: action_json(a) if a is not None else None for n, a in layer},
        fresh=(),
    ),
}


def rows() -> tuple[Setting, ...]:
    """The table: every field of the settings with `written` metadata, in field order (the
    order ``config show`` prints them in).

    Read from the settings whenever it is used, never copied at import: a test may declare a
    field (and give the settings it declares it on as `watchmgr.settings.DEFAULT_SETTINGS`).
    Made once per defaults object: layering asks for a row per value of every rule's patch.
    """
    return _rows_of(watch_settings.DEFAULT_SETTINGS)


@functools.lru_cache(maxsize=4)
def _rows_of(defaults: WatchSettings) -> tuple[Setting, ...]:
    found: list[Setting] = []
    for field in dataclasses.fields(defaults):
        spec = field.metadata.get(WRITTEN)
        if isinstance(spec, Written):
            found.append(
                Setting(
                    field.name, VALUE_KINDS[spec.kind], spec.in_watch, getattr(defaults, field.name)
                )
            )
    return tuple(found)


def watch_rows() -> tuple[Setting, ...]:
    """The rows ``watch:`` and ``by_level`` accept (``overrides`` accept every row)."""
    return tuple(r for r in rows() if r.in_watch)


def row(name: str) -> Setting:
    """The row of setting `name` (a name a layer holds, so one the table has)."""
    return next(r for r in rows() if r.name == name)


def setting_names() -> tuple[str, ...]:
    """Every setting's key, in table order: what an override may set."""
    return tuple(r.name for r in rows())


def watch_keys() -> tuple[str, ...]:
    """The keys of ``watch.by_level.<level>``: the settings ``watch:`` accepts."""
    return tuple(r.name for r in watch_rows())


@dataclass(frozen=True, slots=True)
class SettingsPatch:
    """Watch settings given by one layer (``by_level.<level>`` or an override), in table order.

    Each value lands on the one below it as its kind says (`ValueKind.merge`): most replace it,
    actions merge by name.
    """

    values: tuple[tuple[str, Any], ...] = ()

    def apply(self, settings: WatchSettings) -> WatchSettings:
        changes = {
            name: row(name).kind.merge(getattr(settings, name), value)
            for name, value in self.values
        }
        return dataclasses.replace(settings, **changes) if changes else settings


def parse_patch(ctx: Ctx, key: Key, data: dict[str, Any]) -> SettingsPatch:
    """The settings of one layer (its keys already checked by the caller)."""
    return SettingsPatch(
        tuple(
            (r.name, r.kind.parse(ctx, (*key, r.name), data[r.name]))
            for r in rows()
            if r.name in data
        )
    )


def parse_watch(
    ctx: Ctx, value: Any
) -> tuple[WatchSettings, tuple[tuple[str, SettingsPatch], ...]]:
    """``watch:``: the environment's settings and its ``by_level`` layers."""
    key: Key = ("watch",)
    data = mapping(ctx, key, value, (*watch_keys(), "by_level"))
    patch = parse_patch(ctx, key, data)
    fresh = {
        r.name: r.kind.fresh for r in watch_rows() if r.name in data and r.kind.fresh is not _BELOW
    }
    settings = patch.apply(dataclasses.replace(watch_settings.DEFAULT_SETTINGS, **fresh))
    levels_data = mapping(ctx, (*key, "by_level"), data.get("by_level"), LEVELS)
    by_level = tuple(
        (level, _layer(ctx, (*key, "by_level", level), levels_data[level]))
        for level in LEVELS
        if level in levels_data
    )
    return settings, by_level


def _layer(ctx: Ctx, key: Key, value: Any) -> SettingsPatch:
    return parse_patch(ctx, key, mapping(ctx, key, value, watch_keys()))


def settings_dict(settings: WatchSettings) -> dict[str, Any]:
    """`settings` in the keys of an environment file (per-rule ``indices`` left out)."""
    return {r.name: r.kind.show(getattr(settings, r.name)) for r in watch_rows()}


def patch_dict(patch: SettingsPatch) -> dict[str, Any]:
    """One layer's settings as ``config show`` prints them."""
    return {name: row(name).shown(value) for name, value in patch.values}
