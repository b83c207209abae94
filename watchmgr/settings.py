"""The settings that shape a watch, with the seed's defaults (legacy sigmac's xpack-watcher output).

One frozen object, `WatchSettings`, holds everything `watch.build` needs besides the rule and its
query. Environments fill it from ``environments/<name>.yaml`` through the settings table
(`watchmgr.config.table.SETTINGS`: one row per field, saying how the key is checked, layered and
shown; a row's default is the field's default here). Without an environment the defaults below
reproduce sigmac's watches exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: sigmac's e-mail body separator line.
RULER = "=" * 80

IdScheme = Literal["title", "sigma-id"]


@dataclass(frozen=True, slots=True)
class EmailAction:
    """``email`` action. `subject` may use ``{title}``; `body` None means sigmac's hits listing."""

    name: str = "send_email"
    to: tuple[str, ...] = ("root@localhost",)
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = "Sigma Rule '{title}'"
    body: str | None = None
    attach_data: bool = True
    profile: str | None = None
    sender: str | None = None  # the email's `from`


@dataclass(frozen=True, slots=True)
class WebhookAction:
    """``webhook`` action posting the watch metadata and hits as JSON."""

    url: str
    name: str = "webhook"
    method: str = "post"
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    body: str = "{{#toJson}}ctx.payload{{/toJson}}"


@dataclass(frozen=True, slots=True)
class IndexAction:
    """``index`` action writing the alert into an index."""

    index: str
    name: str = "index_alert"


@dataclass(frozen=True, slots=True)
class LoggingAction:
    """``logging`` action; `text` may use ``{title}``."""

    name: str = "log"
    text: str = "Sigma Rule '{title}' matched {{ctx.payload.hits.total}} events"
    level: str = "info"


Action = EmailAction | WebhookAction | IndexAction | LoggingAction


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """Everything about a watch that is not in the rule. Defaults: the seed's watch."""

    id_scheme: IdScheme = "title"
    id_prefix: str = ""
    #: the trigger interval when the rule has no ``detection.timeframe`` (sigmac used that first).
    interval: str = "30m"
    #: the lower bound of the search's time range filter.
    range: str = "now-30m/m"
    timestamp_field: str = "timestamp"
    indices: tuple[str, ...] = ()
    actions: tuple[Action, ...] = field(default_factory=lambda: (EmailAction(),))
    throttle_period: str | None = None
    #: whether the watch is active once stored (the plan compares it; not part of the body).
    active: bool = True
    #: the query dialect (`query.DIALECTS`).
    dialect: str = "sigma"
    #: the exact-value sub-field wildcard, regex and terms searches use (".keyword" with ES's
    #: default dynamic mapping; "" when the fields are keyword-typed, as in ECS).
    keyword_suffix: str = ".keyword"
    #: the environment that owns the watch, written into ``metadata.watchmgr`` (None: none).
    environment: str | None = None


DEFAULT_SETTINGS = WatchSettings()
