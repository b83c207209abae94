"""Environment files: YAML with the line of every key, ``extends`` chains, the directory.

The module that reads environment files (pipeline files are read by `pipelines`).
Every problem is a `ConfigError` at ``path:line``. Environment files are plain YAML: tags are
refused, keys are text, a key appears once per mapping, and aliases may not expand the file
beyond `yamlbound.MAX_EXPANDED_VALUES` values (an alias bomb would otherwise hang every command).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from watchmgr import yamlbound
from watchmgr.config.checks import Key, Locations, kind
from watchmgr.config.model import ENVIRONMENTS_DIR, SUFFIX, Environment, EnvironmentInfo
from watchmgr.config.validation import MissingTarget, build
from watchmgr.errors import ConfigError, SourceLocation
from watchmgr.merge import deep_merge
from watchmgr.rules import display_path


class _Loader(yaml.SafeLoader):
    """The safe loader: plain YAML only (a ``!!python/...`` tag is refused)."""


def _read_yaml(path: Path, shown: str) -> tuple[Any, Locations]:
    """The data of one YAML file and the location of every mapping key and list item in it."""
    here = SourceLocation(shown, 1)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError("not UTF-8 text", here) from err
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", here) from err
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            yamlbound.check(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        raise _yaml_error(err, shown) from err
    except yamlbound.AliasBomb as bomb:
        raise ConfigError(bomb.message, SourceLocation(shown, bomb.line)) from bomb
    except RecursionError as err:  # PyYAML composes nested values recursively
        line = loader.get_mark().line + 1
        raise ConfigError(
            "values nested too deeply for YAML to read: environment files are a few levels deep",
            SourceLocation(shown, line),
        ) from err
    finally:
        loader.dispose()
    locations: Locations = {}
    if node is not None:
        _walk(node, (), shown, locations)
    return data, locations


def _yaml_error(err: yaml.YAMLError, shown: str) -> ConfigError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    # Only `problem` is used: str(err) quotes the offending text, which may be a secret.
    problem = getattr(err, "problem", None) or type(err).__name__
    if "could not determine a constructor for the tag" in problem:
        tag = problem.rsplit("tag", 1)[-1].strip(" '")
        return ConfigError(
            f"YAML tag {tag!r} is not allowed: environment files are plain YAML",
            SourceLocation(shown, line),
        )
    return ConfigError(f"malformed YAML: {problem}", SourceLocation(shown, line))


def _walk(node: yaml.Node, key: Key, shown: str, out: Locations) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            name = key_node.value
            line = key_node.start_mark.line + 1
            own = node.start_mark.index <= key_node.start_mark.index < node.end_mark.index
            if own and name in seen:
                raise ConfigError(
                    f"duplicate key {name!r} (first at line {seen[name]})",
                    SourceLocation(shown, line),
                )
            if own:
                seen[name] = line
            if key_node.tag != "tag:yaml.org,2002:str":
                raise ConfigError(
                    f"key {name!r} is not text (quote it: YAML reads it as "
                    f"{key_node.tag.rsplit(':', 1)[-1]})",
                    SourceLocation(shown, line),
                )
            out[(*key, name)] = SourceLocation(shown, line)
            _walk(value_node, (*key, name), shown, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*key, index)] = SourceLocation(shown, item.start_mark.line + 1)
            _walk(item, (*key, index), shown, out)


def _merge_locations(base: Locations, child: Locations, child_data: Any) -> Locations:
    """Locations after `deep_merge(base, child)`: base entries the child replaced are dropped."""

    def replaced(key: Key) -> bool:
        value = child_data
        for part in key[:-1]:
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
            if not isinstance(value, dict):
                return True
        return False

    merged = {k: v for k, v in base.items() if not replaced(k)}
    merged.update(child)
    return merged


def _environment_files(root: Path) -> dict[str, Path]:
    directory = root / ENVIRONMENTS_DIR
    if not directory.is_dir():
        return {}
    return {p.name[: -len(SUFFIX)]: p for p in sorted(directory.glob(f"*{SUFFIX}")) if p.is_file()}


@dataclass(slots=True)
class _Merged:
    data: dict[str, Any]
    locations: Locations
    sources: list[Path]


def _load_chain(path: Path, chain: tuple[Path, ...], via: SourceLocation | None) -> _Merged:
    """The file at `path` with every file it extends merged under it (base first)."""
    shown = display_path(path)
    if not path.is_file():
        raise ConfigError(f"extends {path.name!r}, which does not exist", via)
    data, locations = _read_yaml(path, shown)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the file must be a mapping of keys (extends, elasticsearch, rules, ...), "
            f"not {kind(data)}",
            SourceLocation(shown, 1),
        )
    extends = data.pop("extends", None)
    extends_at = locations.pop(("extends",), SourceLocation(shown, 1))
    if extends is None:
        return _Merged(data, locations, [path])
    if not isinstance(extends, str) or not extends.strip():
        raise ConfigError(
            f"extends must name one file (like base.yaml), not {kind(extends)}", extends_at
        )
    target = path.parent / extends
    resolved = [p.resolve() for p in (*chain, path)]
    if target.resolve() in resolved:
        names = [display_path(p) for p in (*chain, path)]
        start = resolved.index(target.resolve())
        cycle = " -> ".join([*names[start:], display_path(target)])
        raise ConfigError(f"extends cycle: {cycle}", extends_at)
    base = _load_chain(target, (*chain, path), extends_at)
    merged = deep_merge(base.data, data)
    return _Merged(merged, _merge_locations(base.locations, locations, data), [*base.sources, path])


def load_environment(root: Path, name: str) -> Environment:
    """Load and validate ``<root>/environments/<name>.yaml`` and the files it extends."""
    files = _environment_files(root)
    path = files.get(name)
    if path is None:
        known = [info.name for info in list_environments(root)]
        existing = ", ".join(known) or "none"
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if not (root / ENVIRONMENTS_DIR).is_dir():
            where = "this folder" if root == Path(".") else str(root)
            hint = (
                f"; {where} has no {ENVIRONMENTS_DIR}/ folder: run watchmgr from the repository "
                "root or pass --root"
            )
        raise ConfigError(
            f"unknown environment {name!r}: there is no "
            f"{ENVIRONMENTS_DIR}/{name}{SUFFIX} (environments: {existing}{hint})"
        )
    return _load(name, path, root)


def _load(name: str, path: Path, root: Path) -> Environment:
    merged = _load_chain(path, (), None)
    return build(name, display_path(path), root, merged.data, merged.locations, merged.sources)


def list_environments(root: Path) -> list[EnvironmentInfo]:
    """Every environment under ``<root>/environments/``, sorted by name, with its target.

    A file that others extend and that has no target itself (``base.yaml``: its validation
    fails with `MissingTarget`) is not an environment and is left out. A file that fails to
    load is listed with its error.
    """
    files = _environment_files(root)
    extended: set[Path] = set()
    for path in files.values():
        try:
            text = path.read_text(encoding="utf-8-sig")
            data = yaml.load(text, Loader=_Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("extends"), str):
            extended.add((path.parent / data["extends"]).resolve())
    result: list[EnvironmentInfo] = []
    for name, path in files.items():
        shown = display_path(path)
        try:
            env = _load(name, path, root)
        except MissingTarget as err:
            if path.resolve() not in extended:
                result.append(EnvironmentInfo(name, shown, f"invalid: {err}"))
            continue
        except ConfigError as err:
            result.append(EnvironmentInfo(name, shown, f"invalid: {err}"))
            continue
        result.append(EnvironmentInfo(name, shown, env.target.describe()))
    return result
