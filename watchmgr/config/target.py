"""Where an environment deploys: ``elasticsearch:`` (a cluster) or ``sandbox:`` (the local one).

``elasticsearch:`` is checked in steps, one concern each: where the cluster is (`hosts` or
`cloud_id`), how to authenticate (one method, its variables named), how to trust its
certificate (one way), and the plain values (`VALUES`: a table of key → checker).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchmgr.config.checks import Ctx, Key, boolean, env_name, kind, mapping, text, url
from watchmgr.config.model import DEFAULT_SANDBOX_STATE, Auth, ElasticsearchTarget, SandboxTarget
from watchmgr.errors import Diagnostic

ES_KEYS = (
    "hosts",
    "cloud_id",
    "api_key_env",
    "username_env",
    "password_env",
    "bearer_token_env",
    "ca_certs",
    "ca_certs_env",
    "ssl_assert_fingerprint",
    "verify_certs",
    "request_timeout",
    "cluster_uuid",
)
#: Authentication method → the ``elasticsearch:`` keys naming its variables, in `Auth` order.
AUTH_METHODS = {
    "api_key": ("api_key_env",),
    "basic": ("username_env", "password_env"),
    "bearer": ("bearer_token_env",),
}
#: The ways to trust the cluster's certificate; at most one may be given.
TRUST_KEYS = ("ca_certs", "ca_certs_env", "ssl_assert_fingerprint")
SANDBOX_KEYS = ("state",)
_KEY: Key = ("elasticsearch",)
_UUID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
_FINGERPRINT = re.compile(r"^(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})$")


def _fingerprint(ctx: Ctx, key: Key, raw: Any) -> str:
    fingerprint = text(ctx, key, raw).strip()
    if not _FINGERPRINT.match(fingerprint):
        raise ctx.error(
            key,
            "elasticsearch.ssl_assert_fingerprint must be a SHA-256 fingerprint: 64 hex "
            "digits, colon-separated or not, as Elasticsearch prints at its first start",
        )
    return fingerprint


def _timeout(ctx: Ctx, key: Key, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        raise ctx.error(
            key,
            "elasticsearch.request_timeout must be a positive number of seconds, "
            f"not {raw if kind(raw) == 'a number' else kind(raw)}",
        )
    return float(raw)


def _uuid(ctx: Ctx, key: Key, raw: Any) -> str:
    uuid = text(ctx, key, raw)
    if not _UUID.match(uuid):
        raise ctx.error(
            key,
            "elasticsearch.cluster_uuid must be the cluster_uuid that GET / reports "
            "(like 6kOlq8SxRKSEw5C4wEVE6Q)",
        )
    return uuid


#: The single-valued keys: key → (checker, value when absent). Keys of `ElasticsearchTarget`.
VALUES: dict[str, tuple[Callable[[Ctx, Key, Any], Any], Any]] = {
    "ca_certs": (text, None),
    "ca_certs_env": (env_name, None),
    "ssl_assert_fingerprint": (_fingerprint, None),
    "verify_certs": (boolean, True),
    "request_timeout": (_timeout, None),
    "cluster_uuid": (_uuid, None),
}


def parse_elasticsearch(ctx: Ctx, value: Any, warnings: list[Diagnostic]) -> ElasticsearchTarget:
    """``elasticsearch:``; problems worth a warning on every run go to `warnings`."""
    data = mapping(ctx, _KEY, value, ES_KEYS)
    hosts, cloud_id = _hosts(ctx, data), _cloud_id(ctx, data)
    auth = _auth(ctx, data)
    trust = [k for k in TRUST_KEYS if k in data]
    values = {
        name: check(ctx, (*_KEY, name), data[name]) if name in data else absent
        for name, (check, absent) in VALUES.items()
    }
    if len(trust) > 1:
        raise ctx.error(
            (*_KEY, trust[1]),
            f"elasticsearch has both {trust[0]} and {trust[1]}: give the CA as a file (ca_certs), "
            "as PEM text in a variable (ca_certs_env) or by its fingerprint "
            "(ssl_assert_fingerprint), one of them",
        )
    if not values["verify_certs"]:
        warnings.append(
            Diagnostic(
                ctx.at((*_KEY, "verify_certs")),
                "verify_certs is false: the cluster's TLS certificate is not checked, so anyone "
                "on the network path can read the credentials (set ca_certs instead)",
                "warning",
            )
        )
    if auth is not None and any(h.startswith("http://") for h in hosts):
        warnings.append(
            Diagnostic(
                ctx.at((*_KEY, "hosts")),
                "credentials are sent over plain http:// (use https://)",
                "warning",
            )
        )
    return ElasticsearchTarget(
        hosts=hosts,
        cloud_id=cloud_id,
        auth=auth,
        location=ctx.at(_KEY),
        ca_certs_location=ctx.at((*_KEY, trust[0])) if trust else None,
        **values,
    )


def _hosts(ctx: Ctx, data: dict[str, Any]) -> tuple[str, ...]:
    if ("hosts" in data) == ("cloud_id" in data):
        raise ctx.error(
            _KEY, "elasticsearch needs exactly one of 'hosts' (a list of URLs) and 'cloud_id'"
        )
    if "hosts" not in data:
        return ()
    raw_hosts = data["hosts"]
    if not isinstance(raw_hosts, list) or not raw_hosts:
        got = "an empty list" if isinstance(raw_hosts, list) else kind(raw_hosts)
        raise ctx.error(
            (*_KEY, "hosts"),
            f"elasticsearch.hosts must be a list of URLs like https://es.example.com:9200, "
            f"not {got}",
        )
    return tuple(url(ctx, (*_KEY, "hosts", i), h) for i, h in enumerate(raw_hosts))


def _cloud_id(ctx: Ctx, data: dict[str, Any]) -> str | None:
    if "cloud_id" not in data:
        return None
    cloud_id = text(ctx, (*_KEY, "cloud_id"), data["cloud_id"])
    if ":" not in cloud_id:
        raise ctx.error(
            (*_KEY, "cloud_id"), "elasticsearch.cloud_id must look like 'name:base64data'"
        )
    if not _cloud_host(cloud_id):
        raise ctx.error(
            (*_KEY, "cloud_id"),
            # The client's words, so the problem reads the same at validate and at connect.
            "elasticsearch.cloud_id: Cloud ID is not properly formatted (after 'name:' comes "
            "the base64 of host$es-id$kibana-id; copy it from the deployment's page in Elastic "
            "Cloud)",
        )
    return cloud_id


def _cloud_host(cloud_id: str) -> str | None:
    """The host an Elastic Cloud id encodes, None when the client could not read one from it.

    The client's reading (elastic_transport's ``parse_cloud_id``): base64 of ASCII text
    ``host[:port]$es-id$kibana-id`` after the name; only the host is required.
    """
    try:
        decoded = binascii.a2b_base64(cloud_id.partition(":")[2].encode("ascii"))
        host, _, port = decoded.decode("ascii").split("$")[0].rpartition(":")
        if host and not port.isdigit():
            return None
        return (host or port) or None
    except (ValueError, UnicodeError):
        return None


def _auth(ctx: Ctx, data: dict[str, Any]) -> Auth | None:
    """The one authentication method the keys name, with its variables, or None."""
    methods = [m for m, keys in AUTH_METHODS.items() if any(k in data for k in keys)]
    if len(methods) > 1:
        raise ctx.error(
            _KEY,
            "elasticsearch has more than one authentication method: use api_key_env, or "
            "username_env + password_env, or bearer_token_env",
        )
    if not methods:
        return None
    needed = AUTH_METHODS[methods[0]]
    for k in needed:
        if k not in data:
            other = next(n for n in needed if n != k)
            raise ctx.error((*_KEY, other), f"elasticsearch.{other} needs {k} as well")
    return Auth(
        methods[0],
        tuple((k, env_name(ctx, (*_KEY, k), data[k]), ctx.at((*_KEY, k))) for k in needed),
    )


def parse_sandbox(ctx: Ctx, value: Any) -> SandboxTarget:
    """``sandbox:``: the state file, inside the repository."""
    key: Key = ("sandbox",)
    data = mapping(ctx, key, value, SANDBOX_KEYS)
    state = text(ctx, (*key, "state"), data["state"]) if "state" in data else DEFAULT_SANDBOX_STATE
    if Path(state).is_absolute() or ".." in Path(state).parts:
        raise ctx.error((*key, "state"), "sandbox.state must be a path inside the repository")
    return SandboxTarget(state=state, location=ctx.at(key))
