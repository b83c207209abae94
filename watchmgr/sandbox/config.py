"""Frozen configuration of a sandbox: version, licence, security, faults, state file."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from pathlib import Path

#: Licence modes under which Watcher works (§1.9: minimum STANDARD, active licence).
WATCHER_LICENSES = frozenset({"standard", "gold", "platinum", "enterprise", "trial"})
LICENSES = WATCHER_LICENSES | {"basic"}


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key; `privileges` are cluster privileges (`manage_watcher`, `monitor_watcher`),
    `index_privileges` the ones its role descriptor gives on the indices `index_names` name
    (`read`, `view_index_metadata`, ...; the default, `all` on `*`, allows any index action).
    A request's index expression is covered when each of its comma-separated parts matches
    one of `index_names` (a wildcard part as written: ES would narrow it to the covered
    indices instead, which the sandbox does not model)."""

    id: str
    api_key: str
    privileges: frozenset[str] = frozenset({"manage_watcher"})
    name: str = "sandbox-key"
    username: str = "sandbox-user"
    index_privileges: frozenset[str] = frozenset({"all"})
    index_names: tuple[str, ...] = ("*",)

    @property
    def encoded(self) -> str:
        """The value a client sends as `Authorization: ApiKey <encoded>`."""
        return base64.b64encode(f"{self.id}:{self.api_key}".encode()).decode()


@dataclass(frozen=True, slots=True)
class User:
    """A native-realm user for basic auth."""

    username: str
    password: str
    privileges: frozenset[str] = frozenset({"manage_watcher"})
    roles: tuple[str, ...] = ("sandbox_role",)


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token (an OAuth2 access token or a service account token)."""

    value: str
    privileges: frozenset[str] = frozenset({"manage_watcher"})
    username: str = "sandbox-token-user"


@dataclass(frozen=True, slots=True)
class Security:
    """Enabled security: every request must authenticate with one of these credentials."""

    api_keys: tuple[ApiKey, ...] = ()
    users: tuple[User, ...] = ()
    tokens: tuple[Token, ...] = ()


@dataclass(frozen=True, slots=True)
class Faults:
    """Injected faults. Rates are probabilities per request; `fail_writes` are 1-based ordinals."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_429: float = 0.0
    rate_503: float = 0.0
    reset_rate: float = 0.0
    retry_after_s: int = 1
    fail_writes: frozenset[int] = frozenset()
    fail_status: int = 500
    #: Only requests whose path starts with this prefix get 429/503/reset/fail faults.
    path_prefix: str = "/_watcher"
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything a sandbox needs to start. Binds to loopback unless `host` says otherwise."""

    host: str = "127.0.0.1"
    port: int = 0
    es_version: str = "8.19.0"
    cluster_name: str = "watchmgr-sandbox"
    cluster_uuid: str = field(default_factory=lambda: uuid.uuid4().hex[:22])
    node_name: str = "sandbox-0"
    state_path: Path | None = None
    license: str = "trial"
    security: Security | None = None
    faults: Faults = Faults()
    primary_term: int = 1
    #: Schedule `timezone` support; None = from 9.0 on (watcher-api.md §2.2 S14, §9).
    schedule_timezone: bool | None = None
    #: Serve HTTPS with the certificates in this directory (made there on first use; tls.py).
    tls_dir: Path | None = None

    @property
    def major(self) -> int:
        return int(self.es_version.split(".")[0])

    @property
    def minor(self) -> int:
        return int(self.es_version.split(".")[1])

    def __post_init__(self) -> None:
        if self.license not in LICENSES:
            raise ValueError(f"unknown licence {self.license!r}; one of {sorted(LICENSES)}")
        if self.major not in (7, 8, 9, 10):
            raise ValueError(f"unsupported es_version {self.es_version!r}")
