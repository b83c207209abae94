"""``config show``: an environment as watchmgr uses it, defaults filled in, as plain data.

Secrets appear as the variable that holds them and ``***`` (``(not set)`` when the variable is
unset); no secret value is ever read into the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from watchmgr.config.model import (
    ElasticsearchTarget,
    Environment,
    Override,
    SandboxTarget,
    shown_at,
)
from watchmgr.config.secrets import MASK
from watchmgr.config.table import patch_dict, settings_dict

NOT_SET = "(not set)"


def resolved_config(
    env: Environment, environ: Mapping[str, str], *, debug: bool = False
) -> dict[str, Any]:
    """The environment as watchmgr uses it, defaults filled in, for ``config show``.

    `environ` (the process environment the command line was given) only decides between
    ``***`` and ``(not set)``. With `debug`, ``origins`` maps each key to the file and line it
    is written at. Plain data in a stable order.
    """
    out: dict[str, Any] = {"environment": env.name, "files": list(env.sources)}
    if env.description is not None:
        out["description"] = env.description
    out["prune"] = env.prune
    out["respect_remote_active"] = env.respect_remote_active
    target = env.target
    if isinstance(target, SandboxTarget):
        out["sandbox"] = {"state": target.state}
    else:
        out["elasticsearch"] = _elasticsearch(target, environ)
    selection = env.rules
    out["rules"] = {
        "paths": list(selection.paths),
        "exclude": [g.pattern for g in selection.exclude],
        "min_level": selection.min_level,
        "status": list(selection.status),
        "tags": {"any": list(selection.tags_any), "all": list(selection.tags_all)},
        "logsource": {k: list(v) for k, v in selection.logsource},
    }
    out["mapping"] = _mapping(env)
    watch = settings_dict(env.watch)
    watch["by_level"] = {level: patch_dict(patch) for level, patch in env.by_level}
    out["watch"] = watch
    out["overrides"] = [_override(override, env) for override in env.overrides]
    out["warnings"] = [
        f"{shown_at(w.location, env.root)}: warning: {w.message}" for w in env.warnings
    ]
    if debug:
        out["origins"] = dict(env.origins)
    return out


def _elasticsearch(target: ElasticsearchTarget, environ: Mapping[str, str]) -> dict[str, Any]:
    es: dict[str, Any] = {}
    if target.hosts:
        es["hosts"] = list(target.hosts)
    if target.cloud_id is not None:
        es["cloud_id"] = target.cloud_id
    if target.auth is not None:
        auth: dict[str, Any] = {"method": target.auth.method}
        for key, name, _ in target.auth.variables:
            auth[key] = name
            auth[key.removesuffix("_env")] = MASK if environ.get(name) else NOT_SET
        es["auth"] = auth
    else:
        es["auth"] = None
    es["ca_certs"] = target.ca_certs
    if target.ca_certs_env is not None:
        es["ca_certs_env"] = target.ca_certs_env
    if target.ssl_assert_fingerprint is not None:
        es["ssl_assert_fingerprint"] = target.ssl_assert_fingerprint
    es["verify_certs"] = target.verify_certs
    es["request_timeout"] = target.request_timeout
    es["cluster_uuid"] = target.cluster_uuid
    return es


def _mapping(env: Environment) -> dict[str, Any]:
    return {
        "pipelines": list(env.pipelines),
        "placeholders": {k: list(v) for k, v in env.placeholders},
        "indices": {
            "default": list(env.indices.default),
            "by_logsource": [
                {**{k: v for k, v in route.match}, "indices": list(route.indices)}
                for route in env.indices.by_logsource
            ],
        },
        "keyword_suffix": env.watch.keyword_suffix,
    }


def _override(override: Override, env: Environment) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "match": {"id": override.rule_id}
        if override.rule_id
        else {"path": override.path.pattern if override.path else None},
    }
    if override.reason is not None:
        entry["reason"] = override.reason
    if override.skip:
        entry["skip"] = True
    entry.update(patch_dict(override.patch))
    entry["at"] = shown_at(override.location, env.root)
    return entry


def dump_yaml(data: Any) -> str:
    """Plain block YAML of `resolved_config` output, keys in the order given."""
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
