"""The watch settings, one row each: parsing, layering, `settings_dict` and ``config show``.

A row (`Setting`) says how a key of ``watch:`` (and of ``by_level.<level>`` and ``overrides``)
is checked, how a layer's value lands on the value below it, and how it prints. Its default is
the field's default in `watchmgr.settings.WatchSettings`, the dataclass the watch builder reads
(the core cannot read this package). Adding a watch setting is a field there and a row here;
everything else (the keys each section accepts, patching, printing) follows from `SETTINGS`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

from watchmgr.config.actions import action_dict, parse_actions
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
from watchmgr.settings import DEFAULT_SETTINGS, Action, IdScheme, WatchSettings

ID_SCHEMES: tuple[str, ...] = get_args(IdScheme)
_ID_PREFIX = re.compile(r"^[A-Za-z0-9._:-]*$")
#: Row attribute meaning "a layer starts from the value below it".
_BELOW: Any = object()


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _replace(below: Any, value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Setting:
    """One watch setting: its key, its checker, how layers combine and how it prints."""

    #: the key in the file and the field of `WatchSettings`.
    name: str
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
    #: whether ``watch:`` and ``by_level`` accept it; False: only ``overrides`` do.
    in_watch: bool = True

    @property
    def default(self) -> Any:
        """The seed's value: `WatchSettings`' default for the field."""
        return getattr(DEFAULT_SETTINGS, self.name)

    def shown(self, value: Any) -> Any:
        """One layer's value as ``config show`` prints it."""
        return (self.show_layer or self.show)(value)


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


#: The table, in the order ``config show`` prints the settings.
SETTINGS: tuple[Setting, ...] = (
    Setting("id_scheme", lambda ctx, key, raw: choice(ctx, key, raw, ID_SCHEMES)),
    Setting("id_prefix", _id_prefix),
    Setting("interval", interval),
    Setting("range", date_math),
    Setting("timestamp_field", _field_name),
    Setting("throttle_period", time_value),
    Setting("active", boolean),
    Setting("dialect", _dialect),
    # Per rule: from mapping.indices by logsource; an override may name them outright.
    Setting("indices", index_list, in_watch=False),
    # Actions written under watch: replace the seed's e-mail action; a null entry drops an
    # action a base file or a lower layer defined.
    Setting(
        "actions",
        parse_actions,
        show=lambda actions: {a.name: action_dict(a) for a in actions},
        merge=_merge_actions,
        show_layer=lambda layer: {n: action_dict(a) if a is not None else None for n, a in layer},
        fresh=(),
    ),
)


# The table is read when it is used, never copied at import: a test may register a row.


def watch_rows() -> tuple[Setting, ...]:
    """The rows ``watch:`` and ``by_level`` accept (``overrides`` accept every row)."""
    return tuple(r for r in SETTINGS if r.in_watch)


def row(name: str) -> Setting:
    """The row of setting `name` (a name a layer holds, so one the table has)."""
    return next(r for r in SETTINGS if r.name == name)


def setting_names() -> tuple[str, ...]:
    """Every setting's key, in table order: what an override may set."""
    return tuple(r.name for r in SETTINGS)


def watch_keys() -> tuple[str, ...]:
    """The keys of ``watch.by_level.<level>``: the settings ``watch:`` accepts."""
    return tuple(r.name for r in watch_rows())


@dataclass(frozen=True, slots=True)
class SettingsPatch:
    """Watch settings given by one layer (``by_level.<level>`` or an override), in table order.

    Each value lands on the one below it as its row says (`Setting.merge`): most replace it,
    actions merge by name.
    """

    values: tuple[tuple[str, Any], ...] = ()

    def apply(self, settings: WatchSettings) -> WatchSettings:
        changes = {
            name: row(name).merge(getattr(settings, name), value) for name, value in self.values
        }
        return dataclasses.replace(settings, **changes) if changes else settings


def parse_patch(ctx: Ctx, key: Key, data: dict[str, Any]) -> SettingsPatch:
    """The settings of one layer (its keys already checked by the caller)."""
    return SettingsPatch(
        tuple(
            (r.name, r.parse(ctx, (*key, r.name), data[r.name])) for r in SETTINGS if r.name in data
        )
    )


def parse_watch(
    ctx: Ctx, value: Any
) -> tuple[WatchSettings, tuple[tuple[str, SettingsPatch], ...]]:
    """``watch:``: the environment's settings and its ``by_level`` layers."""
    key: Key = ("watch",)
    data = mapping(ctx, key, value, (*watch_keys(), "by_level"))
    patch = parse_patch(ctx, key, data)
    fresh = {r.name: r.fresh for r in watch_rows() if r.name in data and r.fresh is not _BELOW}
    settings = patch.apply(dataclasses.replace(DEFAULT_SETTINGS, **fresh))
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
    return {r.name: r.show(getattr(settings, r.name)) for r in watch_rows()}


def patch_dict(patch: SettingsPatch) -> dict[str, Any]:
    """One layer's settings as ``config show`` prints them."""
    return {name: row(name).shown(value) for name, value in patch.values}
