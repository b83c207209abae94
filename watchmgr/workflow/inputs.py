"""What every flow starts from: the environment, the cluster it is opened on, the watch
settings the command line gives and how a conversion runs.

The edge (`watchmgr.cli`) passes a `Connect` (or a `Cluster` it opened), `Choices` and a
`Tuning`; nothing in the workflow reads options or the process environment itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchmgr.errors import Diagnostics

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.settings import WatchSettings


#: Opens the cluster of an environment for the length of a `with` block.
Connect = Callable[["Environment"], AbstractContextManager["Cluster"]]


@dataclass(frozen=True, slots=True)
class Choices:
    """Watch settings given on the command line; None leaves the environment's (or seed's)."""

    dialect: str | None = None
    id_scheme: str | None = None
    id_prefix: str | None = None

    def given(self) -> dict[str, Any]:
        """The settings given, by their `WatchSettings` field name."""
        fields = (("dialect", self.dialect), ("id_scheme", self.id_scheme))
        return {k: v for k, v in (*fields, ("id_prefix", self.id_prefix)) if v is not None}

    def over(self, settings: WatchSettings | None) -> WatchSettings | None:
        """`settings` with the given ones in their place (None stays None: rule not deployed)."""
        given = self.given()
        return replace(settings, **given) if settings is not None and given else settings


@dataclass(frozen=True, slots=True)
class Tuning:
    """How a conversion runs; it never changes what the conversion gives.

    The CLI makes it from its options and environment variables (`cli.options.tuning`).
    """

    cache: bool = True  # reuse files converted before (.watchmgr/cache/)
    jobs: int | None = None  # worker processes; None: one per core for large rule sets
    #: told (rule files done, in all) as the conversion goes: the edge's progress display
    progress: Callable[[int, int], None] | None = None


#: The tuning of a flow called without one: the cache on, worker processes as the rule set needs.
DEFAULT_TUNING = Tuning()


def environment(root: Path, name: str, report: Diagnostics) -> Environment:
    """The environment `name` under `root`, its warnings reported."""
    from watchmgr.config import load_environment

    env = load_environment(root, name)
    report.extend(env.warnings)
    return env


def endpoint(env: Environment) -> str | None:
    """The URL of `env`'s cluster as a program without the client would use it (the first host,
    or the Elastic Cloud endpoint of its cloud_id); None for a sandbox environment."""
    from watchmgr.cluster import cloud_endpoint
    from watchmgr.config import ElasticsearchTarget

    target = env.target
    if not isinstance(target, ElasticsearchTarget):
        return None
    if target.hosts:
        return target.hosts[0]
    return cloud_endpoint(target.cloud_id or "", target.location)
