"""Secrets and connection parameters: the one place that reads the variables a file names.

An environment file names the *variables* that hold its secrets; their values are read here,
from the mapping the caller passes (the command line passes ``os.environ``: nothing here reads
the process environment by itself), and come back wrapped in `Secret`, which never prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchmgr.config.model import ElasticsearchTarget, Environment, SandboxTarget
from watchmgr.errors import ConfigError

if TYPE_CHECKING:
    import ssl

MASK = "***"


class Secret:
    """A secret value that shows as ``***`` everywhere; `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class ConnectionParams:
    """Everything needed to build an ``elasticsearch.Elasticsearch`` client; secrets wrapped."""

    hosts: tuple[str, ...] = ()
    cloud_id: str | None = None
    api_key: Secret | None = None
    basic_auth: tuple[Secret, Secret] | None = None
    bearer_auth: Secret | None = None
    ca_certs: str | None = None
    #: PEM text of the CA bundle (from the variable `ca_certs_env` names).
    ca_data: str | None = None
    ssl_assert_fingerprint: str | None = None
    verify_certs: bool = True
    request_timeout: float | None = None
    cluster_uuid: str | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Elasticsearch(**kwargs)`` (elasticsearch-py 8/9 names).

        The result holds the secrets in clear: pass it to the client, never log it.
        """
        kwargs: dict[str, Any] = {}
        if self.hosts:
            kwargs["hosts"] = list(self.hosts)
        if self.cloud_id is not None:
            kwargs["cloud_id"] = self.cloud_id
        if self.api_key is not None:
            # Kibana shows the base64 'encoded' form; the API also answers id and api_key,
            # which people join as 'id:key'. The encoded form has no ':', so both are accepted.
            key = self.api_key.reveal()
            ident, colon, secret = key.partition(":")
            kwargs["api_key"] = (ident, secret) if colon else key
        if self.basic_auth is not None:
            kwargs["basic_auth"] = (self.basic_auth[0].reveal(), self.basic_auth[1].reveal())
        if self.bearer_auth is not None:
            kwargs["bearer_auth"] = self.bearer_auth.reveal()
        if self.ca_certs is not None:
            kwargs["ca_certs"] = self.ca_certs
        if self.ca_data is not None:
            kwargs["ssl_context"] = _ssl_context(self.ca_data)
        if self.ssl_assert_fingerprint is not None:
            kwargs["ssl_assert_fingerprint"] = self.ssl_assert_fingerprint
        if self.ca_data is None:
            kwargs["verify_certs"] = self.verify_certs
        if self.request_timeout is not None:
            kwargs["request_timeout"] = self.request_timeout
        return kwargs


def _ssl_context(pem: str) -> ssl.SSLContext:
    """A verifying TLS context that trusts the CA bundle in `pem` (and nothing else)."""
    import ssl

    context = ssl.create_default_context(cadata=pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connection_params(env: Environment, environ: Mapping[str, str]) -> ConnectionParams:
    """The client parameters of an Elasticsearch environment, secrets read from `environ`.

    `environ` is the process environment the command line was given. A variable that is unset
    or empty is a `ConfigError` naming it, at the line that names it; so is a missing
    ``ca_certs`` file.
    """
    target = env.target
    if not isinstance(target, ElasticsearchTarget):
        raise ConfigError(
            f"environment {env.name!r} deploys to the sandbox, not to Elasticsearch",
            target.location,
        )
    secrets = _secrets(target, environ)
    basic = None
    if "username_env" in secrets:
        basic = (secrets["username_env"], secrets["password_env"])
    return ConnectionParams(
        hosts=target.hosts,
        cloud_id=target.cloud_id,
        api_key=secrets.get("api_key_env"),
        basic_auth=basic,
        bearer_auth=secrets.get("bearer_token_env"),
        ca_certs=_ca_file(env, target),
        ca_data=_ca_text(target, environ),
        ssl_assert_fingerprint=target.ssl_assert_fingerprint,
        verify_certs=target.verify_certs,
        request_timeout=target.request_timeout,
        cluster_uuid=target.cluster_uuid,
    )


def _secrets(target: ElasticsearchTarget, environ: Mapping[str, str]) -> dict[str, Secret]:
    """The authentication method's secrets by config key; an unset variable is an error."""
    secrets: dict[str, Secret] = {}
    for key, name, where in target.auth.variables if target.auth is not None else ():
        value = environ.get(name)
        if not value:
            state = "is empty" if value == "" else "is not set"
            raise ConfigError(
                f"environment variable {name} {state} ({key} names it; export it before "
                "running watchmgr)",
                where,
            )
        secrets[key] = Secret(value)
    return secrets


def _ca_file(env: Environment, target: ElasticsearchTarget) -> str | None:
    if target.ca_certs is None:
        return None
    ca_path = env.root / target.ca_certs
    if not ca_path.is_file():
        raise ConfigError(
            f"ca_certs file {target.ca_certs!r} does not exist (paths are relative to the "
            "repository root)",
            target.ca_certs_location,
        )
    return str(ca_path)


def _ca_text(target: ElasticsearchTarget, environ: Mapping[str, str]) -> str | None:
    """The PEM text of the variable ``ca_certs_env`` names, checked to load."""
    if target.ca_certs_env is None:
        return None
    ca_data = environ.get(target.ca_certs_env, "")
    if "-----BEGIN CERTIFICATE-----" not in ca_data:
        state = "holds no PEM certificate" if ca_data else "is not set or empty"
        raise ConfigError(
            f"environment variable {target.ca_certs_env} {state} (ca_certs_env names it; "
            "export the CA certificate's PEM text, -----BEGIN CERTIFICATE----- included)",
            target.ca_certs_location,
        )
    import ssl

    try:
        _ssl_context(ca_data)
    except ssl.SSLError as err:
        raise ConfigError(
            f"environment variable {target.ca_certs_env} holds a CA certificate that does "
            f"not load ({err.reason or err}); export the PEM text of the cluster's CA",
            target.ca_certs_location,
        ) from err
    return ca_data


def sandbox_state_path(env: Environment) -> Path:
    """The sandbox's state file under the repository root."""
    if not isinstance(env.target, SandboxTarget):
        raise ConfigError(f"environment {env.name!r} deploys to Elasticsearch, not to the sandbox")
    return env.root / env.target.state
