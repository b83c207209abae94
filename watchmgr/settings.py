"""The settings that shape a watch, with the seed's defaults (legacy sigmac's xpack-watcher output).

One frozen object, `WatchSettings`, holds everything `watch.build` needs besides the rule and its
query. Environments fill it from ``environments/<name>.yaml``: each field with `written` metadata
is a setting there, the metadata naming how its value is checked, layered and shown
(`watchmgr.config.table` derives its rows from these fields). Without an environment the
defaults below reproduce sigmac's watches exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

#: What Watcher's interval schedule accepts: a whole number and one of these units (no ms, no
#: decimals; at least 1s, which the checks add).
WATCHER_INTERVAL = re.compile(r"^([0-9]+)(s|m|h|d|w)$")

#: sigmac's e-mail body separator line.
RULER = "=" * 80

IdScheme = Literal["title", "sigma-id"]


#: Field metadata of an action setting whose key (in environment files and in the watch) is
#: not the field's name.
def _key(name: str) -> dict[str, str]:
    return {"key": name}


# An action's fields are declared in the order the watch's action lists its keys (the seed's
# order); `action_json` (below) writes them so, under each field's key.


@dataclass(frozen=True, slots=True)
class EmailAction:
    """``email`` action. `subject` may use ``{title}``; `body` None means sigmac's hits listing."""

    kind: ClassVar[str] = "email"

    name: str = "send_email"
    profile: str | None = None
    sender: str | None = field(default=None, metadata=_key("from"))
    to: tuple[str, ...] = ("root@localhost",)
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = "Sigma Rule '{title}'"
    body: str | None = None
    attach_data: bool = field(default=True, metadata=_key("attachments"))


@dataclass(frozen=True, slots=True)
class WebhookAction:
    """``webhook`` action posting the watch metadata and hits as JSON."""

    kind: ClassVar[str] = "webhook"

    name: str = "webhook"
    method: str = "post"
    url: str = field(kw_only=True)
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    body: str = "{{#toJson}}ctx.payload{{/toJson}}"


@dataclass(frozen=True, slots=True)
class IndexAction:
    """``index`` action writing the alert into an index."""

    kind: ClassVar[str] = "index"

    index: str
    name: str = "index_alert"


@dataclass(frozen=True, slots=True)
class LoggingAction:
    """``logging`` action; `text` may use ``{title}``."""

    kind: ClassVar[str] = "logging"

    name: str = "log"
    text: str = "Sigma Rule '{title}' matched {{ctx.payload.hits.total}} events"
    level: str = "info"


Action = EmailAction | WebhookAction | IndexAction | LoggingAction


@dataclass(frozen=True, slots=True)
class Written:
    """How environment files write a field of `WatchSettings`: the field's ``metadata``.

    `kind` names an entry of `watchmgr.config.table.VALUE_KINDS` (how the value is checked, how a
    layer lands on the value below it, how it prints); the core cannot import that package,
    so the field names the kind and the table looks it up.
    """

    kind: str
    #: whether ``watch:`` and ``by_level`` accept it; False: only ``overrides`` do.
    in_watch: bool = True


#: The key of `WatchSettings` field metadata that holds its `Written`.
WRITTEN = "written"


def written(kind: str, *, in_watch: bool = True) -> dict[str, Written]:
    """The metadata that makes a field a setting of environment files (see `Written`)."""
    return {WRITTEN: Written(kind, in_watch)}


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """Everything about a watch that is not in the rule. Defaults: the seed's watch.

    A field with `written` metadata is a key of ``watch:``, ``by_level`` and ``overrides`` in
    environment files, in this order in ``config show``: adding a watch setting is one field
    (and its test, `tests/config/test_table.py`).
    """

    id_scheme: IdScheme = field(default="title", metadata=written("id scheme"))
    id_prefix: str = field(default="", metadata=written("id prefix"))
    #: the trigger interval when the rule has no ``detection.timeframe`` (sigmac used that first).
    interval: str = field(default="30m", metadata=written("interval"))
    #: the lower bound of the search's time range filter when the rule has no
    #: ``detection.timeframe`` (or in the sigmac-2020 dialect, as sigmac did: `watch.schedule`).
    range: str = field(default="now-30m/m", metadata=written("date math"))
    timestamp_field: str = field(default="timestamp", metadata=written("field name"))
    throttle_period: str | None = field(default=None, metadata=written("time value"))
    #: whether the watch is active once stored (the plan compares it; not part of the body).
    active: bool = field(default=True, metadata=written("boolean"))
    #: the query dialect (`query.DIALECTS`).
    dialect: str = field(default="sigma", metadata=written("dialect"))
    #: per rule from ``mapping.indices`` by logsource; an override may name them outright.
    indices: tuple[str, ...] = field(default=(), metadata=written("indices", in_watch=False))
    actions: tuple[Action, ...] = field(default=(EmailAction(),), metadata=written("actions"))
    #: the exact-value sub-field wildcard, regex and terms searches use (".keyword" with ES's
    #: default dynamic mapping; "" when the fields are keyword-typed, as in ECS). Written
    #: under ``mapping:``, not a watch setting.
    keyword_suffix: str = ".keyword"
    #: the environment that owns the watch, written into ``metadata.watchmgr`` (None: none).
    environment: str | None = None


DEFAULT_SETTINGS = WatchSettings()


def action_json(action: Action) -> dict[str, Any]:
    """`action` as ``{kind: {key: value}}``: the one place an action becomes JSON.

    Every setting under its key (`settings` declares them in the watch's order), None where it
    is unset, templates as written (``{title}`` unfilled); an empty list is left out. The watch
    builder fills it in for a rule (`watch._action`); ``config show`` prints it as it is.
    """
    settings: dict[str, Any] = {}
    for declared in fields(action):
        value = getattr(action, declared.name)
        if declared.name == "headers":  # (name, value) pairs
            value = dict(value)
        elif isinstance(value, tuple):
            if not value:
                continue
            value = list(value)
        if declared.name != "name":
            settings[declared.metadata.get("key", declared.name)] = value
    return {action.kind: settings}
