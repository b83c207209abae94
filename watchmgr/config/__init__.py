"""``environments/<name>.yaml`` → a frozen `Environment`; secrets resolved from a given mapping.

One file per environment holds everything that differs between environments: the target
(an Elasticsearch cluster or the embedded sandbox), which rules are deployed, the pySigma
pipelines and index mapping, and the watch settings. ``extends: base.yaml`` merges a shared base
under the file (`watchmgr.merge.deep_merge`: mappings merge key by key, the child wins, lists
and scalars replace). A key set to ``null`` means "not set here": the default applies.

Validation is strict and every error is one line, ``path:line: message``, naming the line of
the offending key or value (in the file it came from, base or child). The file names the
*variables* that hold secrets (``api_key_env: WATCHMGR_PROD_API_KEY``); a secret written into
the file is refused, and no secret value reaches an error, a repr or `resolved_config`:
secrets are only read by `connection_params`, from the mapping its caller passes (the command
line passes ``os.environ``; nothing here reads the process environment), and come back
wrapped in `Secret`.

The package, by subject: `model` (the frozen environment), `sources` (files, ``extends``, YAML
line locations: the only reader of environment files), `checks` and `validation` (data →
model, with `target`, `actions` and `pipelines` for their sections), `table` (one row per
watch setting: parsing, layering, printing), `secrets` (connection parameters) and `show`
(``config show``).
"""

from collections.abc import Callable

from watchmgr.config.actions import KINDS
from watchmgr.config.model import (
    DEFAULT_SANDBOX_STATE,
    ENVIRONMENTS_DIR,
    SUFFIX,
    Auth,
    ElasticsearchTarget,
    Environment,
    EnvironmentInfo,
    Override,
    SandboxTarget,
    Target,
)
from watchmgr.config.secrets import (
    MASK,
    ConnectionParams,
    Secret,
    connection_params,
    sandbox_state_path,
)
from watchmgr.config.show import NOT_SET, dump_yaml, resolved_config
from watchmgr.config.sources import list_environments, load_environment
from watchmgr.config.table import (
    Setting,
    SettingsPatch,
    patch_dict,
    settings_dict,
    watch_keys,
)
from watchmgr.config.target import ES_KEYS, SANDBOX_KEYS
from watchmgr.config.validation import (
    INDICES_KEYS,
    MAPPING_KEYS,
    MATCH_KEYS,
    RULES_KEYS,
    TAGS_KEYS,
    TOP_KEYS,
    MissingTarget,
    override_keys,
)
from watchmgr.yamlbound import MAX_EXPANDED_VALUES


def __getattr__(name: str) -> tuple[str, ...]:
    """The key lists that follow from the tables (the settings' rows, the action kinds)."""
    derived: dict[str, Callable[[], tuple[str, ...]]] = {
        "SETTINGS_KEYS": watch_keys,
        "WATCH_KEYS": lambda: (*watch_keys(), "by_level"),
        "OVERRIDE_KEYS": override_keys,
        "ACTION_TYPES": lambda: tuple(KINDS),
        "EMAIL_KEYS": lambda: KINDS["email"].keys,
        "WEBHOOK_KEYS": lambda: KINDS["webhook"].keys,
        "INDEX_KEYS": lambda: KINDS["index"].keys,
        "LOGGING_KEYS": lambda: KINDS["logging"].keys,
    }
    if name in derived:
        return derived[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_SANDBOX_STATE",
    "ENVIRONMENTS_DIR",
    "ES_KEYS",
    "INDICES_KEYS",
    "MAPPING_KEYS",
    "MASK",
    "MATCH_KEYS",
    "MAX_EXPANDED_VALUES",
    "NOT_SET",
    "RULES_KEYS",
    "SANDBOX_KEYS",
    "SUFFIX",
    "TAGS_KEYS",
    "TOP_KEYS",
    "Auth",
    "ConnectionParams",
    "ElasticsearchTarget",
    "Environment",
    "EnvironmentInfo",
    "MissingTarget",
    "Override",
    "SandboxTarget",
    "Secret",
    "Setting",
    "SettingsPatch",
    "Target",
    "connection_params",
    "dump_yaml",
    "list_environments",
    "load_environment",
    "patch_dict",
    "resolved_config",
    "sandbox_state_path",
    "settings_dict",
]
