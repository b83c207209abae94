"""``environments/<name>.yaml`` → a frozen `Environment`; secrets resolved from env vars on request.

One file per environment holds everything that differs between environments: the target
(an Elasticsearch cluster or the embedded sandbox), which rules are deployed, the pySigma
pipelines and index mapping, and the watch settings. ``extends: base.yaml`` merges a shared base
under the file (`watchmgr.merge.deep_merge`: mappings merge key by key, the child wins, lists
and scalars replace). A key set to ``null`` means "not set here": the default applies.

Validation is strict and every error is one line, ``path:line: message``, naming the line of
the offending key or value (in the file it came from, base or child). The file names the
*variables* that hold secrets (``api_key_env: WATCHMGR_PROD_API_KEY``); a secret written into
the file is refused, and no secret value reaches an error, a repr or `resolved_config`:
secrets are only read by `connection_params`, and come back wrapped in `Secret`.

Reading files happens in `load_environment` / `list_environments` only; the methods of
`Environment` are pure.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, get_args

import yaml

from watchmgr.errors import ConfigError, Diagnostic, RuleError, SourceLocation
from watchmgr.merge import deep_merge
from watchmgr.rules import Rule, display_path
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
    relative_path,
)
from watchmgr.settings import (
    DEFAULT_SETTINGS,
    Action,
    EmailAction,
    IdScheme,
    IndexAction,
    LoggingAction,
    WatchSettings,
    WebhookAction,
)

if TYPE_CHECKING:
    import ssl

ENVIRONMENTS_DIR = "environments"
SUFFIX = ".yaml"
DEFAULT_SANDBOX_STATE = ".watchmgr/local.json"
MASK = "***"
NOT_SET = "(not set)"

# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


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
class SettingsPatch:
    """Watch settings given by one layer (``by_level.<level>`` or an override).

    `values` replace fields of `WatchSettings`. `actions` are merged by name: an action of the
    same name is replaced as a whole, a new name is added, None removes the action.
    """

    values: tuple[tuple[str, Any], ...] = ()
    actions: tuple[tuple[str, Action | None], ...] = ()

    def apply(self, settings: WatchSettings) -> WatchSettings:
        result = dataclasses.replace(settings, **dict(self.values)) if self.values else settings
        if not self.actions:
            return result
        actions = list(result.actions)
        for name, action in self.actions:
            index = next((i for i, a in enumerate(actions) if a.name == name), None)
            if action is None:
                if index is not None:
                    del actions[index]
            elif index is None:
                actions.append(action)
            else:
                actions[index] = action
        return dataclasses.replace(result, actions=tuple(actions))


@dataclass(frozen=True, slots=True)
class Override:
    """One ``overrides:`` entry: rules it matches (Sigma id or path glob) and what it changes."""

    location: SourceLocation
    rule_id: str | None = None
    path: Glob | None = None
    patch: SettingsPatch = SettingsPatch()
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

    def relative(self, rule: Rule) -> str:
        """The rule's path relative to the repository root (POSIX), as globs see it."""
        return self._relative(rule.path)

    def _relative(self, path: str) -> str:
        return relative_path(path, (self.root, self.root.resolve()))

    def selects(self, rule: Rule) -> bool:
        """Whether the environment deploys `rule`: ``rules:`` paths, exclude globs and filters."""
        return self.rules.selects(self.relative(rule), rule.raw)

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
        path = self.relative(rule)
        for override in self.overrides:
            if override.matches(path, rule.sigma_id):
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

        A rule may be given as (its path as loaded, its Sigma id).
        """
        seen = [
            (self.relative(r), r.sigma_id) if isinstance(r, Rule) else (self._relative(r[0]), r[1])
            for r in rules
        ]
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


# ---------------------------------------------------------------------------------------------
# Secrets and connection parameters
# ---------------------------------------------------------------------------------------------


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


def connection_params(
    env: Environment, environ: Mapping[str, str] | None = None
) -> ConnectionParams:
    """The client parameters of an Elasticsearch environment, secrets read from `environ`.

    `environ` defaults to `os.environ`. A variable that is unset or empty is a `ConfigError`
    naming it, at the line that names it; so is a missing ``ca_certs`` file.
    """
    target = env.target
    if not isinstance(target, ElasticsearchTarget):
        raise ConfigError(
            f"environment {env.name!r} deploys to the sandbox, not to Elasticsearch",
            target.location,
        )
    source = os.environ if environ is None else environ
    secrets: dict[str, Secret] = {}
    if target.auth is not None:
        for key, name, where in target.auth.variables:
            value = source.get(name)
            if not value:
                state = "is empty" if value == "" else "is not set"
                raise ConfigError(
                    f"environment variable {name} {state} ({key} names it; export it before "
                    "running watchmgr)",
                    where,
                )
            secrets[key] = Secret(value)
    ca_certs = None
    if target.ca_certs is not None:
        ca_path = env.root / target.ca_certs
        if not ca_path.is_file():
            raise ConfigError(
                f"ca_certs file {target.ca_certs!r} does not exist (paths are relative to the "
                "repository root)",
                target.ca_certs_location,
            )
        ca_certs = str(ca_path)
    ca_data = None
    if target.ca_certs_env is not None:
        ca_data = source.get(target.ca_certs_env, "")
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
    basic = None
    if "username_env" in secrets:
        basic = (secrets["username_env"], secrets["password_env"])
    return ConnectionParams(
        hosts=target.hosts,
        cloud_id=target.cloud_id,
        api_key=secrets.get("api_key_env"),
        basic_auth=basic,
        bearer_auth=secrets.get("bearer_token_env"),
        ca_certs=ca_certs,
        ca_data=ca_data,
        ssl_assert_fingerprint=target.ssl_assert_fingerprint,
        verify_certs=target.verify_certs,
        request_timeout=target.request_timeout,
        cluster_uuid=target.cluster_uuid,
    )


def sandbox_state_path(env: Environment) -> Path:
    """The sandbox's state file under the repository root."""
    if not isinstance(env.target, SandboxTarget):
        raise ConfigError(f"environment {env.name!r} deploys to Elasticsearch, not to the sandbox")
    return env.root / env.target.state


# ---------------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------------

Key = tuple[str | int, ...]
Locations = dict[Key, SourceLocation]


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
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        raise _yaml_error(err, shown) from err
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


# ---------------------------------------------------------------------------------------------
# Files, extends and the environment directory
# ---------------------------------------------------------------------------------------------


def _environment_files(root: Path) -> dict[str, Path]:
    directory = root / ENVIRONMENTS_DIR
    if not directory.is_dir():
        return {}
    return {p.name[: -len(SUFFIX)]: p for p in sorted(directory.glob(f"*{SUFFIX}")) if p.is_file()}


def _root_relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


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
            f"not {_kind(data)}",
            SourceLocation(shown, 1),
        )
    extends = data.pop("extends", None)
    extends_at = locations.pop(("extends",), SourceLocation(shown, 1))
    if extends is None:
        return _Merged(data, locations, [path])
    if not isinstance(extends, str) or not extends.strip():
        raise ConfigError(
            f"extends must name one file (like base.yaml), not {_kind(extends)}", extends_at
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
        raise ConfigError(
            f"unknown environment {name!r}: there is no "
            f"{ENVIRONMENTS_DIR}/{name}{SUFFIX} (environments: {existing}{hint})"
        )
    return _load(name, path, root)


def _load(name: str, path: Path, root: Path) -> Environment:
    return _build(name, path, root, _load_chain(path, (), None))


def list_environments(root: Path) -> list[EnvironmentInfo]:
    """Every environment under ``<root>/environments/``, sorted by name, with its target.

    A file that others extend and that has no target itself (``base.yaml``) is not an
    environment and is left out. A file that fails to load is listed with its error.
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
        except ConfigError as err:
            if (
                path.resolve() in extended
                and "neither 'elasticsearch' nor 'sandbox'" in err.message
            ):
                continue
            result.append(EnvironmentInfo(name, shown, f"invalid: {err}"))
            continue
        result.append(EnvironmentInfo(name, shown, env.target.describe()))
    return result


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

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
SANDBOX_KEYS = ("state",)
RULES_KEYS = ("paths", "exclude", "min_level", "status", "tags", "logsource")
TAGS_KEYS = ("any", "all")
MAPPING_KEYS = ("pipelines", "placeholders", "indices", "keyword_suffix")
INDICES_KEYS = ("default", "by_logsource")
ROUTE_KEYS = (*LOGSOURCE_KEYS, "indices")
SETTINGS_KEYS = (
    "id_scheme",
    "id_prefix",
    "interval",
    "range",
    "timestamp_field",
    "throttle_period",
    "active",
    "dialect",
    "actions",
)
WATCH_KEYS = (*SETTINGS_KEYS, "by_level")
OVERRIDE_KEYS = ("match", "reason", "skip", "indices", *SETTINGS_KEYS)
MATCH_KEYS = ("id", "path")
ACTION_TYPES = ("email", "webhook", "index", "logging")
EMAIL_KEYS = ("to", "cc", "bcc", "subject", "body", "attachments", "profile", "from")
WEBHOOK_KEYS = ("url", "method", "headers", "body")
INDEX_KEYS = ("index",)
LOGGING_KEYS = ("text", "level")
#: Watcher's email profiles and logging levels, webhook methods (watcher-api.md, actions).
EMAIL_PROFILES = ("standard", "gmail", "outlook")
LOG_LEVELS = ("error", "warn", "info", "debug", "trace")
HTTP_METHODS = ("head", "get", "post", "put", "delete")
ID_SCHEMES: tuple[str, ...] = get_args(IdScheme)

#: Key names that would hold a secret. `*_env` keys name variables and are fine.
_SECRET_KEY = re.compile(
    r"password|passwd|passphrase|^pass$|secret|token|api_?key|private_?key|credential"
    r"|(?:^|_)auth(?:orization)?(?:$|_)",
    re.I,
)
#: Values that are secrets whatever key they sit under (scheme prefixes, well-known formats).
_SECRET_VALUE = re.compile(
    r"^(?:(?:Bearer|ApiKey|Basic)\s+\S{8,}"
    r"|eyJ[\w-]{8,}\.[\w-]{8,}\.?[\w-]*"  # a JWT
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|xox[abposr]-[\w-]{10,}"  # Slack tokens
    r"|AKIA[0-9A-Z]{16}"  # AWS access key ids
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",
    re.S,
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_URL = re.compile(r"^(https?)://([^/?#\s]+)(/[^\s?#]*)?(\?[^\s#]*)?$")
_SECRET_QUERY = re.compile(r"(?:^|[?&])[^=&]*(?:token|key|secret|pass|sig|auth)[^=&]*=", re.I)
_SECRET_HEADER = re.compile(r"authorization|token|secret|api[-_]?key|cookie|pass", re.I)
_INTERVAL = re.compile(r"^([0-9]+)(s|m|h|d|w)$")
_TIME_VALUE = re.compile(r"^(0|[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w))$", re.I)
_DATE_MATH = re.compile(r"^now(?:[+-][0-9]+[yMwdhHms])*(?:/[yMwdhHms])?$")
_ID_PREFIX = re.compile(r"^[A-Za-z0-9._:-]*$")
_INDEX = re.compile(r"^-?[^\s,\"\\/|?<>#:]+$")
_EMAIL = re.compile(r"^(?:[^<>@\s][^<>@]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$")
_PLACEHOLDER = re.compile(r"^[A-Za-z0-9_.-]+$")
_UUID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
_FINGERPRINT = re.compile(r"^(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})$")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Ctx:
    """Where each key of the merged data is written, and error constructors that use it."""

    def __init__(self, locations: Locations, fallback: SourceLocation) -> None:
        self.locations = locations
        self.fallback = fallback

    def at(self, key: Key) -> SourceLocation:
        for end in range(len(key), 0, -1):
            found = self.locations.get(key[:end])
            if found is not None:
                return found
        return self.fallback

    def error(self, key: Key, message: str) -> ConfigError:
        return ConfigError(message, self.at(key))


def _dotted(key: Key) -> str:
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the file"


def _mapping(ctx: _Ctx, key: Key, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """`value` as a mapping whose keys are all in `allowed` (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ctx.error(key, f"{_dotted(key)} must be a mapping, not {_kind(value)}")
    for name in value:
        if name in allowed:
            continue
        where = f" in {_dotted(key)}" if key else ""
        if _SECRET_KEY.search(str(name)) and not str(name).endswith("_env"):
            raise ctx.error(
                (*key, name),
                f"{_dotted((*key, name))} would put a secret in the file: keep it in an "
                "environment variable and name the variable (e.g. "
                f"'{_secret_env_key(str(name))}: WATCHMGR_PROD_SECRET')",
            )
        close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(allowed)}"
        raise ctx.error((*key, name), f"unknown key {name!r}{where} ({hint})")
    return {k: v for k, v in value.items() if v is not None}


def _secret_env_key(name: str) -> str:
    lowered = name.lower()
    if "pass" in lowered:
        return "password_env"
    if "token" in lowered or "bearer" in lowered:
        return "bearer_token_env"
    return "api_key_env"


def _text(ctx: _Ctx, key: Key, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        got = "empty text" if isinstance(value, str) else _kind(value)
        raise ctx.error(key, f"{_dotted(key)} must be non-empty text, not {got}")
    if _SECRET_VALUE.match(value.strip()):
        raise ctx.error(
            key,
            f"{_dotted(key)} holds what looks like a secret: keep secrets out of the file "
            "(environment files are committed and shown by 'config show')",
        )
    return value


def _texts(ctx: _Ctx, key: Key, value: Any, *, single: bool = False) -> tuple[str, ...]:
    """A list of non-empty strings; with `single`, one string is taken as a list of one."""
    if single and isinstance(value, str):
        return (_text(ctx, key, value),)
    if not isinstance(value, list):
        wanted = "text or a list of text" if single else "a list"
        raise ctx.error(key, f"{_dotted(key)} must be {wanted}, not {_kind(value)}")
    return tuple(_text(ctx, (*key, i), item) for i, item in enumerate(value))


def _bool(ctx: _Ctx, key: Key, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ctx.error(key, f"{_dotted(key)} must be true or false, not {_kind(value)}")
    return value


def _choice(ctx: _Ctx, key: Key, value: Any, choices: tuple[str, ...]) -> str:
    text = _text(ctx, key, value)
    if text.lower() in choices:
        return text.lower()
    close = difflib.get_close_matches(text.lower(), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ctx.error(key, f"{_dotted(key)} {text!r} is not one of {', '.join(choices)}{hint}")


def _interval(ctx: _Ctx, key: Key, value: Any) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    match = _INTERVAL.match(text) if text is not None else None
    if match is None or int(match.group(1)) == 0:
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ctx.error(
            key,
            f"{_dotted(key)} {shown} is not a Watcher interval: a whole number and one of the "
            "units s, m, h, d, w (like 30m; at least 1s)",
        )
    return match.group(0)


def _time_value(ctx: _Ctx, key: Key, value: Any) -> str:
    return _matching(
        ctx,
        key,
        value,
        _TIME_VALUE,
        "is not a duration: a number and one of the units ms, s, m, h, d, w (like 1h)",
    )


def _date_math(ctx: _Ctx, key: Key, value: Any) -> str:
    return _matching(
        ctx,
        key,
        value,
        _DATE_MATH,
        "is not Elasticsearch date math like 'now-30m/m' "
        "(now, minus a whole number and a unit y M w d h m s, optional /unit rounding)",
    )


def _matching(ctx: _Ctx, key: Key, value: Any, pattern: re.Pattern[str], problem: str) -> str:
    """`value` if it is text that `pattern` matches, else an error saying it `problem`."""
    if not isinstance(value, str) or not pattern.match(value):
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ctx.error(key, f"{_dotted(key)} {shown} {problem}")
    return value


def _url(ctx: _Ctx, key: Key, value: Any) -> str:
    text = _text(ctx, key, value)
    match = _URL.match(text)
    if match is None:
        raise ctx.error(key, f"{_dotted(key)} must be an http:// or https:// URL")
    if "@" in match.group(2):
        raise ctx.error(
            key,
            f"{_dotted(key)} has credentials in the URL: keep secrets out of the file "
            "(use api_key_env, username_env + password_env or bearer_token_env)",
        )
    if match.group(4) and _SECRET_QUERY.search(match.group(4)):
        raise ctx.error(key, f"{_dotted(key)} carries what looks like a secret in its query string")
    return text


def _env_name(ctx: _Ctx, key: Key, value: Any) -> str:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        # Never echo the value: it may be the secret itself, pasted in by mistake.
        raise ctx.error(
            key,
            f"{_dotted(key)} must name an environment variable (upper case, digits and _, "
            f"like WATCHMGR_PROD_API_KEY), not hold the secret itself",
        )
    return value


def _build(name: str, path: Path, root: Path, merged: _Merged) -> Environment:
    shown = display_path(path)
    ctx = _Ctx(merged.locations, SourceLocation(shown, 1))
    data = _mapping(ctx, (), merged.data, TOP_KEYS)
    warnings: list[Diagnostic] = []

    description = (
        _text(ctx, ("description",), data["description"]) if "description" in data else None
    )
    has_es, has_sandbox = "elasticsearch" in data, "sandbox" in data
    if has_es and has_sandbox:
        raise ctx.error(
            ("sandbox",),
            "both 'elasticsearch' and 'sandbox' are set: an environment has one target "
            "(remove one of them)",
        )
    if not has_es and not has_sandbox:
        raise ConfigError(
            "neither 'elasticsearch' nor 'sandbox' is set: say where the watches go "
            "(elasticsearch: {hosts: [...]} or sandbox: {state: .watchmgr/local.json})",
            SourceLocation(shown, 1),
        )
    target: Target
    if has_es:
        target = _elasticsearch(ctx, data["elasticsearch"], warnings)
    else:
        target = _sandbox(ctx, data["sandbox"])

    rules = _rules(ctx, data.get("rules"))
    pipelines, placeholders, indices = _mapping_section(ctx, data.get("mapping"))
    pipeline = _pipeline(ctx, root, pipelines, placeholders)
    watch, by_level = _watch(ctx, data.get("watch"))
    # _mapping_section has checked that mapping is a mapping (or absent).
    suffix = (data.get("mapping") or {}).get("keyword_suffix")
    if suffix is not None:
        watch = dataclasses.replace(watch, keyword_suffix=_keyword_suffix(ctx, suffix))
    overrides = _overrides(ctx, data.get("overrides"))
    prune = _bool(ctx, ("prune",), data["prune"]) if "prune" in data else True
    respect = (
        _bool(ctx, ("respect_remote_active",), data["respect_remote_active"])
        if "respect_remote_active" in data
        else False
    )

    origins = tuple(
        sorted((_dotted(key), _shown(location, root)) for key, location in merged.locations.items())
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
        sources=tuple(_root_relative(p, root) for p in merged.sources),
        warnings=tuple(warnings),
        origins=origins,
        pipeline=pipeline,
    )


def _elasticsearch(ctx: _Ctx, value: Any, warnings: list[Diagnostic]) -> ElasticsearchTarget:
    key: Key = ("elasticsearch",)
    data = _mapping(ctx, key, value, ES_KEYS)
    if ("hosts" in data) == ("cloud_id" in data):
        raise ctx.error(
            key,
            "elasticsearch needs exactly one of 'hosts' (a list of URLs) and 'cloud_id'",
        )
    hosts: tuple[str, ...] = ()
    if "hosts" in data:
        raw_hosts = data["hosts"]
        if not isinstance(raw_hosts, list) or not raw_hosts:
            got = "an empty list" if isinstance(raw_hosts, list) else _kind(raw_hosts)
            raise ctx.error(
                (*key, "hosts"),
                f"elasticsearch.hosts must be a list of URLs like https://es.example.com:9200, "
                f"not {got}",
            )
        hosts = tuple(_url(ctx, (*key, "hosts", i), h) for i, h in enumerate(raw_hosts))
    cloud_id = _text(ctx, (*key, "cloud_id"), data["cloud_id"]) if "cloud_id" in data else None
    if cloud_id is not None and ":" not in cloud_id:
        raise ctx.error(
            (*key, "cloud_id"), "elasticsearch.cloud_id must look like 'name:base64data'"
        )

    methods = [m for m, keys in AUTH_METHODS.items() if any(k in data for k in keys)]
    if len(methods) > 1:
        raise ctx.error(
            key,
            "elasticsearch has more than one authentication method: use api_key_env, or "
            "username_env + password_env, or bearer_token_env",
        )
    auth = None
    if methods:
        needed = AUTH_METHODS[methods[0]]
        for k in needed:
            if k not in data:
                other = next(n for n in needed if n != k)
                raise ctx.error((*key, other), f"elasticsearch.{other} needs {k} as well")
        auth = Auth(
            methods[0],
            tuple((k, _env_name(ctx, (*key, k), data[k]), ctx.at((*key, k))) for k in needed),
        )

    ca_certs = _text(ctx, (*key, "ca_certs"), data["ca_certs"]) if "ca_certs" in data else None
    trust = [k for k in ("ca_certs", "ca_certs_env", "ssl_assert_fingerprint") if k in data]
    if len(trust) > 1:
        raise ctx.error(
            (*key, trust[1]),
            f"elasticsearch has both {trust[0]} and {trust[1]}: give the CA as a file (ca_certs), "
            "as PEM text in a variable (ca_certs_env) or by its fingerprint "
            "(ssl_assert_fingerprint), one of them",
        )
    ca_env = (
        _env_name(ctx, (*key, "ca_certs_env"), data["ca_certs_env"])
        if "ca_certs_env" in data
        else None
    )
    fingerprint = None
    if "ssl_assert_fingerprint" in data:
        fingerprint = _text(
            ctx, (*key, "ssl_assert_fingerprint"), data["ssl_assert_fingerprint"]
        ).strip()
        if not _FINGERPRINT.match(fingerprint):
            raise ctx.error(
                (*key, "ssl_assert_fingerprint"),
                "elasticsearch.ssl_assert_fingerprint must be a SHA-256 fingerprint: 64 hex "
                "digits, colon-separated or not, as Elasticsearch prints at its first start",
            )
    verify = (
        _bool(ctx, (*key, "verify_certs"), data["verify_certs"]) if "verify_certs" in data else True
    )
    if not verify:
        warnings.append(
            Diagnostic(
                ctx.at((*key, "verify_certs")),
                "verify_certs is false: the cluster's TLS certificate is not checked, so anyone "
                "on the network path can read the credentials (set ca_certs instead)",
                "warning",
            )
        )
    if auth is not None and any(h.startswith("http://") for h in hosts):
        warnings.append(
            Diagnostic(
                ctx.at((*key, "hosts")),
                "credentials are sent over plain http:// (use https://)",
                "warning",
            )
        )
    timeout = None
    if "request_timeout" in data:
        raw = data["request_timeout"]
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
            raise ctx.error(
                (*key, "request_timeout"),
                "elasticsearch.request_timeout must be a positive number of seconds, "
                f"not {raw if _kind(raw) == 'a number' else _kind(raw)}",
            )
        timeout = float(raw)
    uuid = None
    if "cluster_uuid" in data:
        uuid = _text(ctx, (*key, "cluster_uuid"), data["cluster_uuid"])
        if not _UUID.match(uuid):
            raise ctx.error(
                (*key, "cluster_uuid"),
                "elasticsearch.cluster_uuid must be the cluster_uuid that GET / reports "
                "(like 6kOlq8SxRKSEw5C4wEVE6Q)",
            )
    return ElasticsearchTarget(
        hosts=hosts,
        cloud_id=cloud_id,
        auth=auth,
        ca_certs=ca_certs,
        ca_certs_env=ca_env,
        ssl_assert_fingerprint=fingerprint,
        verify_certs=verify,
        request_timeout=timeout,
        cluster_uuid=uuid,
        location=ctx.at(key),
        ca_certs_location=ctx.at((*key, trust[0])) if trust else None,
    )


def _sandbox(ctx: _Ctx, value: Any) -> SandboxTarget:
    key: Key = ("sandbox",)
    data = _mapping(ctx, key, value, SANDBOX_KEYS)
    state = _text(ctx, (*key, "state"), data["state"]) if "state" in data else DEFAULT_SANDBOX_STATE
    if Path(state).is_absolute() or ".." in Path(state).parts:
        raise ctx.error((*key, "state"), "sandbox.state must be a path inside the repository")
    return SandboxTarget(state=state, location=ctx.at(key))


def _rules(ctx: _Ctx, value: Any) -> RuleSelection:
    key: Key = ("rules",)
    data = _mapping(ctx, key, value, RULES_KEYS)
    paths: tuple[str, ...] = DEFAULT_RULE_PATHS
    if "paths" in data:
        paths = _texts(ctx, (*key, "paths"), data["paths"])
        for i, p in enumerate(paths):
            if Path(p).is_absolute() or ".." in Path(p).parts:
                raise ctx.error(
                    (*key, "paths", i),
                    f"rules.paths entry {p!r} must be inside the repository (relative to its root)",
                )
        if not paths:
            raise ctx.error((*key, "paths"), "rules.paths is empty: no rule would be deployed")
    exclude: list[Glob] = []
    for i, pattern in enumerate(_texts(ctx, (*key, "exclude"), data.get("exclude", []))):
        if not is_valid_glob(pattern):
            raise ctx.error((*key, "exclude", i), f"rules.exclude {pattern!r} is not a valid glob")
        exclude.append(Glob(pattern))
    min_level = (
        _choice(ctx, (*key, "min_level"), data["min_level"], LEVELS)
        if "min_level" in data
        else None
    )
    status: tuple[str, ...] = ()
    if "status" in data:
        status = tuple(
            _choice(ctx, (*key, "status", i), s, STATUSES)
            for i, s in enumerate(_texts(ctx, (*key, "status"), data["status"], single=True))
        )
    tags = _mapping(ctx, (*key, "tags"), data.get("tags"), TAGS_KEYS)
    tags_any = tuple(
        t.lower() for t in _texts(ctx, (*key, "tags", "any"), tags.get("any", []), single=True)
    )
    tags_all = tuple(
        t.lower() for t in _texts(ctx, (*key, "tags", "all"), tags.get("all", []), single=True)
    )
    logsource_data = _mapping(ctx, (*key, "logsource"), data.get("logsource"), LOGSOURCE_KEYS)
    logsource = tuple(
        (
            k,
            tuple(
                v.lower()
                for v in _texts(ctx, (*key, "logsource", k), logsource_data[k], single=True)
            ),
        )
        for k in LOGSOURCE_KEYS
        if k in logsource_data
    )
    return RuleSelection(
        paths=paths,
        exclude=tuple(exclude),
        min_level=min_level,
        status=status,
        tags_any=tags_any,
        tags_all=tags_all,
        logsource=logsource,
    )


def _index_list(ctx: _Ctx, key: Key, value: Any) -> tuple[str, ...]:
    indices = _texts(ctx, key, value, single=True)
    for i, index in enumerate(indices):
        if not _INDEX.match(index):
            raise ctx.error(
                (*key, i) if isinstance(value, list) else key,
                f"{_dotted(key)} {index!r} is not an index name or pattern (like winlogbeat-*)",
            )
    return indices


def _mapping_section(
    ctx: _Ctx, value: Any
) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...], IndexMapping]:
    key: Key = ("mapping",)
    data = _mapping(ctx, key, value, MAPPING_KEYS)
    pipelines = _texts(ctx, (*key, "pipelines"), data.get("pipelines", []))
    placeholders: list[tuple[str, tuple[str, ...]]] = []
    raw_placeholders = data.get("placeholders") or {}
    if not isinstance(raw_placeholders, dict):
        raise ctx.error(
            (*key, "placeholders"),
            "mapping.placeholders must be a mapping of name to values, "
            f"not {_kind(raw_placeholders)}",
        )
    for name, values in raw_placeholders.items():
        where: Key = (*key, "placeholders", name)
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

    indices_key: Key = (*key, "indices")
    indices_data = _mapping(ctx, indices_key, data.get("indices"), INDICES_KEYS)
    default = (
        _index_list(ctx, (*indices_key, "default"), indices_data["default"])
        if "default" in indices_data
        else ()
    )
    routes: list[IndexRoute] = []
    raw_routes = indices_data.get("by_logsource", [])
    if not isinstance(raw_routes, list):
        raise ctx.error(
            (*indices_key, "by_logsource"),
            f"mapping.indices.by_logsource must be a list, not {_kind(raw_routes)}",
        )
    for i, entry in enumerate(raw_routes):
        where = (*indices_key, "by_logsource", i)
        route = _mapping(ctx, where, entry, ROUTE_KEYS)
        match = tuple(
            (k, _text(ctx, (*where, k), route[k]).lower()) for k in LOGSOURCE_KEYS if k in route
        )
        if not match:
            raise ctx.error(where, "a by_logsource entry must name product, category or service")
        if "indices" not in route:
            raise ctx.error(where, "a by_logsource entry needs 'indices'")
        routes.append(
            IndexRoute(
                match, _index_list(ctx, (*where, "indices"), route["indices"]), ctx.at(where).line
            )
        )
    return pipelines, tuple(placeholders), IndexMapping(default, tuple(routes))


def _keyword_suffix(ctx: _Ctx, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"(\.[A-Za-z0-9_@-]+)*", value):
        raise ctx.error(
            ("mapping", "keyword_suffix"),
            f"mapping.keyword_suffix must be '' or a sub-field like '.keyword', not {value!r}",
        )
    return value


def _pipeline(
    ctx: _Ctx,
    root: Path,
    specs: tuple[str, ...],
    placeholders: tuple[tuple[str, tuple[str, ...]], ...],
) -> Any:
    """The pySigma pipeline: placeholders first, then `specs` in the order written."""
    if not specs and not placeholders:
        return None
    from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
    from sigma.processing.transformations import ValueListPlaceholderTransformation

    parts: list[Any] = []
    if placeholders:
        names = [n for n, _ in placeholders]
        parts.append(
            ProcessingPipeline(
                name="watchmgr placeholders",
                items=[
                    ProcessingItem(
                        ValueListPlaceholderTransformation(include=names),
                        identifier="watchmgr_placeholders",
                    )
                ],
                vars={n: list(v) for n, v in placeholders},
            )
        )
    installed: dict[str, Any] | None = None
    for i, spec in enumerate(specs):
        where: Key = ("mapping", "pipelines", i)
        if spec.endswith((".yml", ".yaml")) or "/" in spec:
            parts.append(_pipeline_file(ctx, where, root, spec))
            continue
        if installed is None:
            from sigma.plugins import InstalledSigmaPlugins

            installed = dict(InstalledSigmaPlugins.autodiscover().pipelines)
        factory = installed.get(spec)
        if factory is None:
            close = difflib.get_close_matches(spec, list(installed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ctx.error(
                where,
                f"unknown pipeline {spec!r} ({hint}installed: "
                f"{', '.join(sorted(installed)) or 'none'}; a pipeline file ends in .yml or .yaml)",
            )
        try:
            parts.append(factory() if callable(factory) else factory)
        except Exception as err:
            raise ctx.error(where, f"pipeline {spec!r} failed to load: {err}") from err
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + part
    return combined


def _pipeline_file(ctx: _Ctx, where: Key, root: Path, spec: str) -> Any:
    from sigma.processing.pipeline import ProcessingPipeline

    path = root / spec
    if Path(spec).is_absolute() or ".." in Path(spec).parts:
        raise ctx.error(where, f"pipeline file {spec!r} must be inside the repository")
    if not path.is_file():
        raise ctx.error(
            where,
            f"pipeline file {spec!r} does not exist (paths are relative to the repository root)",
        )
    try:
        text = path.read_text(encoding="utf-8")
        # External sources (file/http/command placeholders) stay off: rendering reads nothing else.
        return ProcessingPipeline.from_yaml(text, source_path=str(path))
    except Exception as err:
        raise ctx.error(
            where, f"pipeline file {spec!r} is not a valid pySigma pipeline: {err}"
        ) from err


def _patch(ctx: _Ctx, key: Key, data: dict[str, Any]) -> SettingsPatch:
    """The watch settings of one layer (keys already checked by the caller)."""
    values: list[tuple[str, Any]] = []
    for name in SETTINGS_KEYS:
        if name not in data or name == "actions":
            continue
        where: Key = (*key, name)
        raw = data[name]
        parsed: Any
        if name == "id_scheme":
            parsed = _choice(ctx, where, raw, ID_SCHEMES)
        elif name == "id_prefix":
            parsed = raw if isinstance(raw, str) else None
            if parsed is None or not _ID_PREFIX.match(parsed):
                raise ctx.error(where, f"{_dotted(where)} may only use letters, digits and . _ : -")
        elif name == "interval":
            parsed = _interval(ctx, where, raw)
        elif name == "range":
            parsed = _date_math(ctx, where, raw)
        elif name == "timestamp_field":
            parsed = _text(ctx, where, raw)
            if any(c.isspace() for c in parsed):
                raise ctx.error(where, f"{_dotted(where)} must be a field name without spaces")
        elif name == "throttle_period":
            parsed = _time_value(ctx, where, raw)
        elif name == "active":
            parsed = _bool(ctx, where, raw)
        else:  # dialect
            from watchmgr.query import DIALECTS

            parsed = _choice(ctx, where, raw, tuple(DIALECTS))
        values.append((name, parsed))
    actions: tuple[tuple[str, Action | None], ...] = ()
    if "actions" in data:
        actions = _actions(ctx, (*key, "actions"), data["actions"])
    return SettingsPatch(tuple(values), actions)


def _actions(ctx: _Ctx, key: Key, value: Any) -> tuple[tuple[str, Action | None], ...]:
    if not isinstance(value, dict):
        raise ctx.error(
            key,
            f"{_dotted(key)} must be a mapping of action name to action "
            f"(like send_email: {{email: {{to: soc@example.com}}}}), not {_kind(value)}",
        )
    result: list[tuple[str, Action | None]] = []
    for name, spec in value.items():
        where: Key = (*key, name)
        if spec is None:
            result.append((str(name), None))
            continue
        body = _mapping(ctx, where, spec, ACTION_TYPES)
        if len(body) != 1:
            raise ctx.error(
                where,
                f"action {name!r} needs exactly one of {', '.join(ACTION_TYPES)}",
            )
        kind, settings = next(iter(body.items()))
        result.append((str(name), _action(ctx, (*where, kind), str(name), kind, settings)))
    return tuple(result)


def _addresses(ctx: _Ctx, key: Key, value: Any) -> tuple[str, ...]:
    addresses = _texts(ctx, key, value, single=True)
    for i, address in enumerate(addresses):
        if "{{" not in address and not _EMAIL.match(address):
            raise ctx.error(
                (*key, i) if isinstance(value, list) else key,
                f"{_dotted(key)} {address!r} is not an e-mail address",
            )
    return addresses


def _action(ctx: _Ctx, key: Key, name: str, kind: str, value: Any) -> Action:
    if kind == "email":
        data = _mapping(ctx, key, value, EMAIL_KEYS)
        email = EmailAction(name=name)
        changes: dict[str, Any] = {}
        if "to" in data:
            changes["to"] = _addresses(ctx, (*key, "to"), data["to"])
            if not changes["to"]:
                raise ctx.error((*key, "to"), "an email action needs at least one 'to' address")
        for field_name in ("cc", "bcc"):
            if field_name in data:
                changes[field_name] = _addresses(ctx, (*key, field_name), data[field_name])
        if "subject" in data:
            changes["subject"] = _text(ctx, (*key, "subject"), data["subject"])
        if "body" in data:
            changes["body"] = _text(ctx, (*key, "body"), data["body"])
        if "attachments" in data:
            changes["attach_data"] = _bool(ctx, (*key, "attachments"), data["attachments"])
        if "profile" in data:
            changes["profile"] = _choice(ctx, (*key, "profile"), data["profile"], EMAIL_PROFILES)
        if "from" in data:
            changes["sender"] = _addresses(ctx, (*key, "from"), data["from"])[0]
            if isinstance(data["from"], list):
                raise ctx.error((*key, "from"), "email 'from' is one address, not a list")
        return dataclasses.replace(email, **changes)
    if kind == "webhook":
        data = _mapping(ctx, key, value, WEBHOOK_KEYS)
        if "url" not in data:
            raise ctx.error(key, f"webhook action {name!r} needs a 'url'")
        webhook = WebhookAction(url=_url(ctx, (*key, "url"), data["url"]), name=name)
        changes = {}
        if "method" in data:
            changes["method"] = _choice(ctx, (*key, "method"), data["method"], HTTP_METHODS)
        if "headers" in data:
            headers = data["headers"]
            if not isinstance(headers, dict):
                raise ctx.error(
                    (*key, "headers"), f"webhook headers must be a mapping, not {_kind(headers)}"
                )
            pairs: list[tuple[str, str]] = []
            for header, header_value in headers.items():
                where: Key = (*key, "headers", header)
                if _SECRET_HEADER.search(str(header)):
                    raise ctx.error(
                        where,
                        f"header {header!r} would put a secret into the file and into the watch "
                        "stored on the cluster: watchmgr does not deploy webhook credentials",
                    )
                pairs.append(
                    (
                        str(header),
                        _text(
                            ctx,
                            where,
                            str(header_value)
                            if isinstance(header_value, (int, float))
                            else header_value,
                        ),
                    )
                )
            changes["headers"] = tuple(pairs)
        if "body" in data:
            changes["body"] = _text(ctx, (*key, "body"), data["body"])
        return dataclasses.replace(webhook, **changes)
    if kind == "index":
        data = _mapping(ctx, key, value, INDEX_KEYS)
        if "index" not in data:
            raise ctx.error(key, f"index action {name!r} needs an 'index'")
        index = _text(ctx, (*key, "index"), data["index"])
        if not _INDEX.match(index) or "*" in index:
            raise ctx.error(
                (*key, "index"), f"index action {name!r}: {index!r} is not an index name"
            )
        return IndexAction(index=index, name=name)
    data = _mapping(ctx, key, value, LOGGING_KEYS)
    logging = LoggingAction(name=name)
    changes = {}
    if "text" in data:
        changes["text"] = _text(ctx, (*key, "text"), data["text"])
    if "level" in data:
        changes["level"] = _choice(ctx, (*key, "level"), data["level"], LOG_LEVELS)
    return dataclasses.replace(logging, **changes)


def _watch(ctx: _Ctx, value: Any) -> tuple[WatchSettings, tuple[tuple[str, SettingsPatch], ...]]:
    key: Key = ("watch",)
    data = _mapping(ctx, key, value, WATCH_KEYS)
    patch = _patch(ctx, key, data)
    # Actions written at this level replace the seed's default action; null entries drop
    # actions a base file defined.
    base = (
        dataclasses.replace(DEFAULT_SETTINGS, actions=()) if "actions" in data else DEFAULT_SETTINGS
    )
    settings = patch.apply(base)
    levels_data = _mapping(ctx, (*key, "by_level"), data.get("by_level"), LEVELS)
    by_level = tuple(
        (
            level,
            _patch(
                ctx,
                (*key, "by_level", level),
                _mapping(ctx, (*key, "by_level", level), levels_data[level], SETTINGS_KEYS),
            ),
        )
        for level in LEVELS
        if level in levels_data
    )
    return settings, by_level


def _overrides(ctx: _Ctx, value: Any) -> tuple[Override, ...]:
    key: Key = ("overrides",)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ctx.error(key, f"overrides must be a list, not {_kind(value)}")
    result: list[Override] = []
    for i, entry in enumerate(value):
        where: Key = (*key, i)
        data = _mapping(ctx, where, entry, OVERRIDE_KEYS)
        match = _mapping(ctx, (*where, "match"), data.get("match"), MATCH_KEYS)
        if len(match) != 1:
            raise ctx.error(
                (*where, "match") if "match" in data else where,
                "an override needs 'match' with exactly one of id (a Sigma rule id) "
                "or path (a glob)",
            )
        rule_id = path = None
        if "id" in match:
            rule_id = _text(ctx, (*where, "match", "id"), str(match["id"])).lower()
        else:
            pattern = _text(ctx, (*where, "match", "path"), match["path"])
            if not is_valid_glob(pattern):
                raise ctx.error((*where, "match", "path"), f"{pattern!r} is not a valid glob")
            path = Glob(pattern)
        patch = _patch(ctx, where, data)
        if "indices" in data:
            indices = _index_list(ctx, (*where, "indices"), data["indices"])
            patch = SettingsPatch((*patch.values, ("indices", indices)), patch.actions)
        result.append(
            Override(
                location=ctx.at(where),
                rule_id=rule_id,
                path=path,
                patch=patch,
                skip=_bool(ctx, (*where, "skip"), data["skip"]) if "skip" in data else False,
                reason=_text(ctx, (*where, "reason"), data["reason"]) if "reason" in data else None,
            )
        )
    return tuple(result)


def _cloud_name(cloud_id: str | None) -> str:
    return (cloud_id or "").split(":", 1)[0] or "(unnamed)"


# ---------------------------------------------------------------------------------------------
# The resolved configuration, for `config show`
# ---------------------------------------------------------------------------------------------


def resolved_config(
    env: Environment, environ: Mapping[str, str] | None = None, *, debug: bool = False
) -> dict[str, Any]:
    """The environment as watchmgr uses it, defaults filled in, for ``config show``.

    Secrets appear as the variable that holds them and ``***`` (``(not set)`` when the
    variable is unset). With `debug`, ``origins`` maps each key to the file and line it is
    written at. Plain data in a stable order.
    """
    source = os.environ if environ is None else environ
    out: dict[str, Any] = {"environment": env.name, "files": list(env.sources)}
    if env.description is not None:
        out["description"] = env.description
    out["prune"] = env.prune
    out["respect_remote_active"] = env.respect_remote_active
    target = env.target
    if isinstance(target, SandboxTarget):
        out["sandbox"] = {"state": target.state}
    else:
        es: dict[str, Any] = {}
        if target.hosts:
            es["hosts"] = list(target.hosts)
        if target.cloud_id is not None:
            es["cloud_id"] = target.cloud_id
        if target.auth is not None:
            auth: dict[str, Any] = {"method": target.auth.method}
            for key, name, _ in target.auth.variables:
                auth[key] = name
                auth[key.removesuffix("_env")] = MASK if source.get(name) else NOT_SET
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
        out["elasticsearch"] = es
    selection = env.rules
    out["rules"] = {
        "paths": list(selection.paths),
        "exclude": [g.pattern for g in selection.exclude],
        "min_level": selection.min_level,
        "status": list(selection.status),
        "tags": {"any": list(selection.tags_any), "all": list(selection.tags_all)},
        "logsource": {k: list(v) for k, v in selection.logsource},
    }
    out["mapping"] = {
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
    watch = settings_dict(env.watch)
    watch["by_level"] = {level: patch_dict(patch) for level, patch in env.by_level}
    out["watch"] = watch
    overrides: list[dict[str, Any]] = []
    for override in env.overrides:
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
        entry["at"] = _shown(override.location, env.root)
        overrides.append(entry)
    out["overrides"] = overrides
    out["warnings"] = [
        f"{_shown(w.location, env.root)}: warning: {w.message}" for w in env.warnings
    ]
    if debug:
        out["origins"] = dict(env.origins)
    return out


def _shown(location: SourceLocation, root: Path) -> str:
    """`location` with its path relative to the repository root (stable across directories)."""
    return str(SourceLocation(_root_relative(Path(location.path), root), location.line))


def settings_dict(settings: WatchSettings) -> dict[str, Any]:
    """`settings` in the keys of an environment file (``indices`` is per rule, left out)."""
    return {
        "id_scheme": settings.id_scheme,
        "id_prefix": settings.id_prefix,
        "interval": settings.interval,
        "range": settings.range,
        "timestamp_field": settings.timestamp_field,
        "throttle_period": settings.throttle_period,
        "active": settings.active,
        "dialect": settings.dialect,
        "actions": {a.name: action_dict(a) for a in settings.actions},
    }


def patch_dict(patch: SettingsPatch) -> dict[str, Any]:
    out: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in patch.values}
    if patch.actions:
        out["actions"] = {n: action_dict(a) if a is not None else None for n, a in patch.actions}
    return out


def action_dict(action: Action) -> dict[str, Any]:
    if isinstance(action, EmailAction):
        email: dict[str, Any] = {"to": list(action.to)}
        if action.cc:
            email["cc"] = list(action.cc)
        if action.bcc:
            email["bcc"] = list(action.bcc)
        email["subject"] = action.subject
        email["body"] = action.body
        email["attachments"] = action.attach_data
        email["profile"] = action.profile
        email["from"] = action.sender
        return {"email": email}
    if isinstance(action, WebhookAction):
        return {
            "webhook": {
                "url": action.url,
                "method": action.method,
                "headers": dict(action.headers),
                "body": action.body,
            }
        }
    if isinstance(action, IndexAction):
        return {"index": {"index": action.index}}
    return {"logging": {"text": action.text, "level": action.level}}


def dump_yaml(data: Any) -> str:
    """Plain block YAML of `resolved_config` output, keys in the order given."""
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
