"""The environment model: a frozen `Environment`, its target and its layers of watch settings.

Everything here is pure: the methods of `Environment` read no file but the pipeline files a
fingerprint covers (`Environment.fingerprint`).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from watchmgr.config.table import SettingsPatch
from watchmgr.errors import Diagnostic, RuleError, SourceLocation
from watchmgr.rules import Rule, root_relative
from watchmgr.selection import Glob, IndexMapping, RuleSelection
from watchmgr.settings import DEFAULT_SETTINGS, WatchSettings

ENVIRONMENTS_DIR = "environments"
SUFFIX = ".yaml"
DEFAULT_SANDBOX_STATE = ".watchmgr/local.json"


@dataclass(frozen=True, slots=True)
class Auth:
    """How to authenticate: the method and the environment variables that hold the secret parts.

    `method` is ``api_key`` (`variables`: api_key_env), ``basic`` (username_env, password_env)
    or ``bearer`` (bearer_token_env). Only variable *names* live here.
    """

    method: str
    #: (config key, variable name, where the key is written), in the order the method needs.
    variables: tuple[tuple[str, str, SourceLocation], ...]


@dataclass(frozen=True, slots=True)
class ElasticsearchTarget:
    """``elasticsearch:``: a real cluster, by `hosts` or Elastic Cloud `cloud_id`."""

    hosts: tuple[str, ...] = ()
    cloud_id: str | None = None
    auth: Auth | None = None
    #: CA bundle, relative to the repository root as written.
    ca_certs: str | None = None
    #: the variable holding the CA bundle as PEM text (CI secrets hold text, not files).
    ca_certs_env: str | None = None
    #: SHA-256 fingerprint of the cluster's CA (or its certificate), hex, colons optional.
    ssl_assert_fingerprint: str | None = None
    verify_certs: bool = True
    #: seconds.
    request_timeout: float | None = None
    #: when set, the cluster must report this ``cluster_uuid`` (guards against a wrong URL).
    cluster_uuid: str | None = None
    location: SourceLocation | None = None
    ca_certs_location: SourceLocation | None = None

    def describe(self) -> str:
        where = (
            ", ".join(self.hosts) if self.hosts else f"Elastic Cloud {_cloud_name(self.cloud_id)}"
        )
        if self.auth is None:
            return f"elasticsearch {where} (no authentication)"
        names = ", ".join(f"${name}" for _, name, _ in self.auth.variables)
        return f"elasticsearch {where} ({self.auth.method.replace('_', ' ')} from {names})"


@dataclass(frozen=True, slots=True)
class SandboxTarget:
    """``sandbox:``: the embedded local Watcher API, keeping its watches in `state`."""

    #: state file, relative to the repository root as written.
    state: str = DEFAULT_SANDBOX_STATE
    location: SourceLocation | None = None

    def describe(self) -> str:
        return f"sandbox {self.state}"


Target = ElasticsearchTarget | SandboxTarget


@dataclass(frozen=True, slots=True)
class Override:
    """One ``overrides:`` entry: rules it matches (Sigma id or path glob) and what it changes."""

    location: SourceLocation
    rule_id: str | None = None
    path: Glob | None = None
    patch: SettingsPatch = field(default_factory=SettingsPatch)
    skip: bool = False
    #: for people only: why the override exists.
    reason: str | None = None

    def matches(self, rule_path: str, rule_id: str | None) -> bool:
        if self.rule_id is not None:
            return rule_id is not None and rule_id.lower() == self.rule_id
        return self.path is not None and self.path.matches(rule_path)


@dataclass(frozen=True, slots=True)
class Environment:
    """One environment, validated. Methods are pure; `prepare` never changes its argument."""

    name: str
    #: the environment's file, as shown in messages.
    path: str
    root: Path
    target: Target
    rules: RuleSelection = field(default_factory=RuleSelection)
    #: pySigma pipelines as written (installed names or repo-relative files), applied in order.
    pipelines: tuple[str, ...] = ()
    placeholders: tuple[tuple[str, tuple[str, ...]], ...] = ()
    indices: IndexMapping = field(default_factory=IndexMapping)
    watch: WatchSettings = DEFAULT_SETTINGS
    by_level: tuple[tuple[str, SettingsPatch], ...] = ()
    overrides: tuple[Override, ...] = ()
    description: str | None = None
    #: whether apply deletes owned watches whose rules are gone (``prune: false`` never deletes).
    prune: bool = True
    #: whether the cluster's active/inactive state wins over the files' (on-call may silence a
    #: watch without the next apply undoing it).
    respect_remote_active: bool = False
    #: the files merged into this environment, base first, relative to the root.
    sources: tuple[str, ...] = ()
    #: problems worth a line on every run (``verify_certs: false``, ...).
    warnings: tuple[Diagnostic, ...] = ()
    #: dotted key → where it is written, for ``config show --debug``.
    origins: tuple[tuple[str, str], ...] = ()
    #: the combined pySigma pipeline (None: nothing to apply). pySigma objects are mutable, so
    #: it is kept out of comparison and repr; `prepare` applies it to copies of rules only.
    pipeline: Any = field(default=None, repr=False, compare=False)

    def rule_paths(self) -> tuple[Path, ...]:
        """The directories and files to load rules from (``rules.paths`` under the root)."""
        return tuple(self.root / p for p in self.rules.paths)

    def selects(self, rule: Rule) -> bool:
        """Whether the environment deploys `rule`: ``rules:`` paths, exclude globs and filters.

        Globs see the root-relative path the rule carries from load time (`Rule.path`).
        """
        return self.rules.selects(rule.path, rule.raw)

    def settings_for(self, rule: Rule) -> WatchSettings | None:
        """The rule's watch settings, or None when the rule is not deployed here.

        Order: ``watch:``, then ``watch.by_level.<rule level>``, then the rule's own
        ``active:``, then ``indices`` from the logsource mapping, then every matching override
        in file order (later ones win).
        """
        if not self.selects(rule):
            return None
        settings = self.watch
        level = str(rule.raw.get("level") or "").lower()
        for name, patch in self.by_level:
            if name == level:
                settings = patch.apply(settings)
        if rule.active is not None:
            settings = dataclasses.replace(settings, active=rule.active)
        settings = dataclasses.replace(
            settings, indices=self.indices.indices_for(rule.raw), environment=self.name
        )
        for override in self.overrides:
            if override.matches(rule.path, rule.sigma_id):
                if override.skip:
                    return None
                settings = override.patch.apply(settings)
        return settings

    def prepare(self, rule: Rule) -> Rule:
        """A copy of `rule` with the environment's pipelines applied (`rule` itself is untouched).

        Raises `RuleError` (at the rule) when a pipeline fails on it. A rule the environment
        does not select is returned as it is: its pipelines' failures are not this
        environment's concern.
        """
        if self.pipeline is None or not self.selects(rule):
            return rule
        memo: dict[int, Any] = {}
        sigma_copy = copy.deepcopy(rule.sigma, memo)
        try:
            self.pipeline.apply(sigma_copy)
        except Exception as err:  # pySigma raises its own errors and, on odd input, plain ones
            raise RuleError(f"processing pipeline failed: {err}", rule.location) from err
        list_valued = frozenset(id(memo[i]) for i in rule.list_valued if i in memo)
        return dataclasses.replace(rule, sigma=sigma_copy, list_valued=list_valued)

    def prepare_rules(
        self, rules: Iterable[Rule]
    ) -> tuple[tuple[Rule, ...], tuple[Diagnostic, ...]]:
        """The selected rules, prepared; a rule a pipeline fails on becomes a diagnostic."""
        prepared: list[Rule] = []
        problems: list[Diagnostic] = []
        for rule in rules:
            if not self.selects(rule):
                continue
            try:
                prepared.append(self.prepare(rule))
            except RuleError as err:
                problems.append(Diagnostic(err.location or rule.location, err.message))
        return tuple(prepared), tuple(problems)

    def fingerprint(self) -> str:
        """A digest of everything in the environment that shapes its watches.

        For the conversion cache: the validated settings (the repr of this frozen object, which
        holds no secret values) and the bytes of the pipeline files in the repository.
        """
        digest = hashlib.sha256(repr(self).encode())
        for spec in self.pipelines:
            candidate = self.root / spec
            if candidate.is_file():
                digest.update(candidate.read_bytes())
        return digest.hexdigest()

    def unused_overrides(
        self, rules: Iterable[Rule | tuple[str, str | None]]
    ) -> tuple[Diagnostic, ...]:
        """Warnings for overrides that match none of `rules` (a typo in an id or glob).

        A rule may be given as (its root-relative path as loaded, its Sigma id).
        """
        seen = [(r.path, r.sigma_id) if isinstance(r, Rule) else r for r in rules]
        return tuple(
            Diagnostic(o.location, "this override matches no rule", "warning")
            for o in self.overrides
            if not any(o.matches(path, rule_id) for path, rule_id in seen)
        )


class EnvironmentInfo(NamedTuple):
    """One line of ``watchmgr environments``; `target` says where it deploys (or what is wrong)."""

    name: str
    path: str
    target: str


def _cloud_name(cloud_id: str | None) -> str:
    return (cloud_id or "").split(":", 1)[0] or "(unnamed)"


def shown_at(location: SourceLocation, root: Path) -> str:
    """`location` with its path relative to the repository root (stable across directories)."""
    return str(SourceLocation(root_relative(Path(location.path), root), location.line))
