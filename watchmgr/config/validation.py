"""Validation: the merged data of an environment's files → a frozen `Environment`.

`build` checks each section with its own parser (the target in `target`, the watch settings
in `table`, actions in `actions`, pipelines in `pipelines`); every error is a `ConfigError` at
the line of the offending key or value, in the file it came from.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from watchmgr.config.checks import (
    Ctx,
    Key,
    Locations,
    boolean,
    choice,
    dotted,
    kind,
    mapping,
    text,
    texts,
)
from watchmgr.config.model import Environment, Override, Target, shown_at
from watchmgr.config.pipelines import combined_pipeline
from watchmgr.config.table import (
    SettingsPatch,
    index_list,
    parse_patch,
    parse_watch,
    setting_names,
)
from watchmgr.config.target import parse_elasticsearch, parse_sandbox
from watchmgr.errors import ConfigError, Diagnostic, SourceLocation
from watchmgr.rules import root_relative
from watchmgr.selection import (
    DEFAULT_RULE_PATHS,
    LEVELS,
    LOGSOURCE_KEYS,
    STATUSES,
    Glob,
    IndexMapping,
    IndexRoute,
    RuleSelection,
    is_valid_glob,
)

TOP_KEYS = (
    "extends",
    "description",
    "prune",
    "respect_remote_active",
    "elasticsearch",
    "sandbox",
    "rules",
    "mapping",
    "watch",
    "overrides",
)
RULES_KEYS = ("paths", "exclude", "min_level", "status", "tags", "logsource")
TAGS_KEYS = ("any", "all")
MAPPING_KEYS = ("pipelines", "placeholders", "indices", "keyword_suffix")
INDICES_KEYS = ("default", "by_logsource")
ROUTE_KEYS = (*LOGSOURCE_KEYS, "indices")
MATCH_KEYS = ("id", "path")
_PLACEHOLDER = re.compile(r"^[A-Za-z0-9_.-]+$")


class MissingTarget(ConfigError):
    """Neither ``elasticsearch`` nor ``sandbox`` is set: a base file, or a mistake.

    `list_environments` tells the two apart: a base file is one that other files extend.
    """


def override_keys() -> tuple[str, ...]:
    """The keys of an ``overrides:`` entry: how it matches, then every watch setting."""
    return ("match", "reason", "skip", *setting_names())


def build(
    name: str,
    shown: str,
    root: Path,
    data: dict[str, Any],
    locations: Locations,
    sources: list[Path],
) -> Environment:
    """The environment `name` from its files' merged `data` (`shown`: its file, in messages)."""
    ctx = Ctx(locations, SourceLocation(shown, 1))
    data = mapping(ctx, (), data, TOP_KEYS)
    warnings: list[Diagnostic] = []
    description = (
        text(ctx, ("description",), data["description"]) if "description" in data else None
    )
    target = _target(ctx, data, warnings)
    rules = _rules(ctx, data.get("rules"))
    pipelines, placeholders, indices = _mapping_section(ctx, data.get("mapping"))
    pipeline = combined_pipeline(ctx, root, pipelines, placeholders)
    watch, by_level = parse_watch(ctx, data.get("watch"))
    # _mapping_section has checked that mapping is a mapping (or absent).
    suffix = (data.get("mapping") or {}).get("keyword_suffix")
    if suffix is not None:
        watch = dataclasses.replace(watch, keyword_suffix=_keyword_suffix(ctx, suffix))
    overrides = _overrides(ctx, data.get("overrides"))
    prune = boolean(ctx, ("prune",), data["prune"]) if "prune" in data else True
    respect = (
        boolean(ctx, ("respect_remote_active",), data["respect_remote_active"])
        if "respect_remote_active" in data
        else False
    )
    origins = tuple(
        sorted((dotted(key), shown_at(where, root)) for key, where in locations.items())
    )
    return Environment(
        name=name,
        path=shown,
        root=root,
        target=target,
        rules=rules,
        pipelines=pipelines,
        placeholders=placeholders,
        indices=indices,
        watch=watch,
        by_level=by_level,
        overrides=overrides,
        description=description,
        prune=prune,
        respect_remote_active=respect,
        sources=tuple(root_relative(p, root) for p in sources),
        warnings=tuple(warnings),
        origins=origins,
        pipeline=pipeline,
    )


def _target(ctx: Ctx, data: dict[str, Any], warnings: list[Diagnostic]) -> Target:
    has_es, has_sandbox = "elasticsearch" in data, "sandbox" in data
    if has_es and has_sandbox:
        raise ctx.error(
            ("sandbox",),
            "both 'elasticsearch' and 'sandbox' are set: an environment has one target "
            "(remove one of them)",
        )
    if not has_es and not has_sandbox:
        raise MissingTarget(
            "neither 'elasticsearch' nor 'sandbox' is set: say where the watches go "
            "(elasticsearch: {hosts: [...]} or sandbox: {state: .watchmgr/local.json})",
            ctx.fallback,
        )
    if has_es:
        return parse_elasticsearch(ctx, data["elasticsearch"], warnings)
    return parse_sandbox(ctx, data["sandbox"])


def _rules(ctx: Ctx, value: Any) -> RuleSelection:
    key: Key = ("rules",)
    data = mapping(ctx, key, value, RULES_KEYS)
    paths = _rule_paths(ctx, key, data)
    exclude: list[Glob] = []
    for i, pattern in enumerate(texts(ctx, (*key, "exclude"), data.get("exclude", []))):
        if not is_valid_glob(pattern):
            raise ctx.error((*key, "exclude", i), f"rules.exclude {pattern!r} is not a valid glob")
        exclude.append(Glob(pattern))
    min_level = (
        choice(ctx, (*key, "min_level"), data["min_level"], LEVELS) if "min_level" in data else None
    )
    status: tuple[str, ...] = ()
    if "status" in data:
        status = tuple(
            choice(ctx, (*key, "status", i), s, STATUSES)
            for i, s in enumerate(texts(ctx, (*key, "status"), data["status"], single=True))
        )
    tags = mapping(ctx, (*key, "tags"), data.get("tags"), TAGS_KEYS)
    tags_any = _lowered(ctx, (*key, "tags", "any"), tags.get("any", []))
    tags_all = _lowered(ctx, (*key, "tags", "all"), tags.get("all", []))
    logsource_data = mapping(ctx, (*key, "logsource"), data.get("logsource"), LOGSOURCE_KEYS)
    return RuleSelection(
        paths=paths,
        exclude=tuple(exclude),
        min_level=min_level,
        status=status,
        tags_any=tags_any,
        tags_all=tags_all,
        logsource=tuple(
            (k, _lowered(ctx, (*key, "logsource", k), logsource_data[k]))
            for k in LOGSOURCE_KEYS
            if k in logsource_data
        ),
    )


def _lowered(ctx: Ctx, key: Key, value: Any) -> tuple[str, ...]:
    return tuple(t.lower() for t in texts(ctx, key, value, single=True))


def _rule_paths(ctx: Ctx, key: Key, data: dict[str, Any]) -> tuple[str, ...]:
    if "paths" not in data:
        return DEFAULT_RULE_PATHS
    paths = texts(ctx, (*key, "paths"), data["paths"])
    for i, p in enumerate(paths):
        if Path(p).is_absolute() or ".." in Path(p).parts:
            raise ctx.error(
                (*key, "paths", i),
                f"rules.paths entry {p!r} must be inside the repository (relative to its root)",
            )
    if not paths:
        raise ctx.error((*key, "paths"), "rules.paths is empty: no rule would be deployed")
    return paths


def _mapping_section(
    ctx: Ctx, value: Any
) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...], IndexMapping]:
    key: Key = ("mapping",)
    data = mapping(ctx, key, value, MAPPING_KEYS)
    pipelines = texts(ctx, (*key, "pipelines"), data.get("pipelines", []))
    placeholders = _placeholders(ctx, (*key, "placeholders"), data.get("placeholders") or {})
    return pipelines, placeholders, _indices(ctx, (*key, "indices"), data.get("indices"))


def _placeholders(ctx: Ctx, key: Key, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ctx.error(
            key, f"mapping.placeholders must be a mapping of name to values, not {kind(value)}"
        )
    placeholders: list[tuple[str, tuple[str, ...]]] = []
    for name, values in value.items():
        where: Key = (*key, name)
        if not _PLACEHOLDER.match(str(name)):
            raise ctx.error(where, f"placeholder name {name!r} may only use letters, digits, _ . -")
        items = values if isinstance(values, list) else [values]
        if not items or any(isinstance(v, (bool, dict, list)) or v is None for v in items):
            raise ctx.error(
                where,
                f"placeholder {name!r} needs a list of values (text or numbers)"
                if items
                else f"placeholder {name!r} has no values",
            )
        placeholders.append((str(name), tuple(str(v) for v in items)))
    return tuple(placeholders)


def _indices(ctx: Ctx, key: Key, value: Any) -> IndexMapping:
    data = mapping(ctx, key, value, INDICES_KEYS)
    default = index_list(ctx, (*key, "default"), data["default"]) if "default" in data else ()
    raw_routes = data.get("by_logsource", [])
    if not isinstance(raw_routes, list):
        raise ctx.error(
            (*key, "by_logsource"),
            f"mapping.indices.by_logsource must be a list, not {kind(raw_routes)}",
        )
    routes = tuple(
        _route(ctx, (*key, "by_logsource", i), entry) for i, entry in enumerate(raw_routes)
    )
    return IndexMapping(default, routes)


def _route(ctx: Ctx, where: Key, entry: Any) -> IndexRoute:
    route = mapping(ctx, where, entry, ROUTE_KEYS)
    match = tuple(
        (k, text(ctx, (*where, k), route[k]).lower()) for k in LOGSOURCE_KEYS if k in route
    )
    if not match:
        raise ctx.error(where, "a by_logsource entry must name product, category or service")
    if "indices" not in route:
        raise ctx.error(where, "a by_logsource entry needs 'indices'")
    return IndexRoute(
        match, index_list(ctx, (*where, "indices"), route["indices"]), ctx.at(where).line
    )


def _keyword_suffix(ctx: Ctx, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"(\.[A-Za-z0-9_@-]+)*", value):
        raise ctx.error(
            ("mapping", "keyword_suffix"),
            f"mapping.keyword_suffix must be '' or a sub-field like '.keyword', not {value!r}",
        )
    return value


def _overrides(ctx: Ctx, value: Any) -> tuple[Override, ...]:
    key: Key = ("overrides",)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ctx.error(key, f"overrides must be a list, not {kind(value)}")
    return tuple(_override(ctx, (*key, i), entry) for i, entry in enumerate(value))


def _override(ctx: Ctx, where: Key, entry: Any) -> Override:
    data = mapping(ctx, where, entry, override_keys())
    match = mapping(ctx, (*where, "match"), data.get("match"), MATCH_KEYS)
    if len(match) != 1:
        raise ctx.error(
            (*where, "match") if "match" in data else where,
            "an override needs 'match' with exactly one of id (a Sigma rule id) or path (a glob)",
        )
    rule_id = path = None
    if "id" in match:
        rule_id = text(ctx, (*where, "match", "id"), str(match["id"])).lower()
    else:
        pattern = text(ctx, (*where, "match", "path"), match["path"])
        if not is_valid_glob(pattern):
            raise ctx.error((*where, "match", "path"), f"{pattern!r} is not a valid glob")
        path = Glob(pattern)
    patch: SettingsPatch = parse_patch(ctx, where, data)
    return Override(
        location=ctx.at(where),
        rule_id=rule_id,
        path=path,
        patch=patch,
        skip=boolean(ctx, (*where, "skip"), data["skip"]) if "skip" in data else False,
        reason=text(ctx, (*where, "reason"), data["reason"]) if "reason" in data else None,
    )
