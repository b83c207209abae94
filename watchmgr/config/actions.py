"""The ``actions:`` of a watch: one parser per action kind (email, webhook, ...).

`KINDS` is the table: an action kind, the keys it accepts and how they are checked. The keys
are those of the watch's action, so ``config show`` prints an action as the watch builder
writes it (`settings.action_json`). Action settings name no secret: webhook credentials are
refused (they would be stored in the watch).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from watchmgr.config.checks import (
    INDEX_NAME,
    Ctx,
    Key,
    boolean,
    choice,
    dotted,
    kind,
    mapping,
    text,
    texts,
    url,
)
from watchmgr.settings import Action, EmailAction, IndexAction, LoggingAction, WebhookAction

#: Watcher's email profiles and logging levels, webhook methods (watcher-api.md, actions).
EMAIL_PROFILES = ("standard", "gmail", "outlook")
LOG_LEVELS = ("error", "warn", "info", "debug", "trace")
HTTP_METHODS = ("head", "get", "post", "put", "delete")

_SECRET_HEADER = re.compile(r"authorization|token|secret|api[-_]?key|cookie|pass", re.I)
_EMAIL = re.compile(r"^(?:[^<>@\s][^<>@]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$")


class Kind(NamedTuple):
    """One action kind: the keys its mapping accepts and the parser of that mapping."""

    keys: tuple[str, ...]
    #: (ctx, key of the kind's mapping, action name, the mapping, keys checked) -> the action.
    parse: Callable[[Ctx, Key, str, dict[str, Any]], Action]


def parse_actions(ctx: Ctx, key: Key, value: Any) -> tuple[tuple[str, Action | None], ...]:
    """``actions:`` of one layer: (name, action) in file order; None removes a named action."""
    if not isinstance(value, dict):
        raise ctx.error(
            key,
            f"{dotted(key)} must be a mapping of action name to action "
            f"(like send_email: {{email: {{to: soc@example.com}}}}), not {kind(value)}",
        )
    result: list[tuple[str, Action | None]] = []
    for name, spec in value.items():
        where: Key = (*key, name)
        if spec is None:
            result.append((str(name), None))
            continue
        body = mapping(ctx, where, spec, tuple(KINDS))
        if len(body) != 1:
            raise ctx.error(where, f"action {name!r} needs exactly one of {', '.join(KINDS)}")
        kind_name, settings = next(iter(body.items()))
        spec_of = KINDS[kind_name]
        data = mapping(ctx, (*where, kind_name), settings, spec_of.keys)
        result.append((str(name), spec_of.parse(ctx, (*where, kind_name), str(name), data)))
    return tuple(result)


def _addresses(ctx: Ctx, key: Key, value: Any) -> tuple[str, ...]:
    addresses = texts(ctx, key, value, single=True)
    for i, address in enumerate(addresses):
        if "{{" not in address and not _EMAIL.match(address):
            raise ctx.error(
                (*key, i) if isinstance(value, list) else key,
                f"{dotted(key)} {address!r} is not an e-mail address",
            )
    return addresses


def _email(ctx: Ctx, key: Key, name: str, data: dict[str, Any]) -> Action:
    changes: dict[str, Any] = {}
    if "to" in data:
        changes["to"] = _addresses(ctx, (*key, "to"), data["to"])
        if not changes["to"]:
            raise ctx.error((*key, "to"), "an email action needs at least one 'to' address")
    for field_name in ("cc", "bcc"):
        if field_name in data:
            changes[field_name] = _addresses(ctx, (*key, field_name), data[field_name])
    if "subject" in data:
        changes["subject"] = text(ctx, (*key, "subject"), data["subject"])
    if "body" in data:
        changes["body"] = text(ctx, (*key, "body"), data["body"])
    if "attachments" in data:
        changes["attach_data"] = boolean(ctx, (*key, "attachments"), data["attachments"])
    if "profile" in data:
        changes["profile"] = choice(ctx, (*key, "profile"), data["profile"], EMAIL_PROFILES)
    if "from" in data:
        changes["sender"] = _addresses(ctx, (*key, "from"), data["from"])[0]
        if isinstance(data["from"], list):
            raise ctx.error((*key, "from"), "email 'from' is one address, not a list")
    return dataclasses.replace(EmailAction(name=name), **changes)


def _webhook(ctx: Ctx, key: Key, name: str, data: dict[str, Any]) -> Action:
    if "url" not in data:
        raise ctx.error(key, f"webhook action {name!r} needs a 'url'")
    webhook = WebhookAction(url=url(ctx, (*key, "url"), data["url"]), name=name)
    changes: dict[str, Any] = {}
    if "method" in data:
        changes["method"] = choice(ctx, (*key, "method"), data["method"], HTTP_METHODS)
    if "headers" in data:
        changes["headers"] = _headers(ctx, (*key, "headers"), data["headers"])
    if "body" in data:
        changes["body"] = text(ctx, (*key, "body"), data["body"])
    return dataclasses.replace(webhook, **changes)


def _headers(ctx: Ctx, key: Key, headers: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(headers, dict):
        raise ctx.error(key, f"webhook headers must be a mapping, not {kind(headers)}")
    pairs: list[tuple[str, str]] = []
    for header, header_value in headers.items():
        where: Key = (*key, header)
        if _SECRET_HEADER.search(str(header)):
            raise ctx.error(
                where,
                f"header {header!r} would put a secret into the file and into the watch "
                "stored on the cluster: watchmgr does not deploy webhook credentials",
            )
        written = str(header_value) if isinstance(header_value, (int, float)) else header_value
        pairs.append((str(header), text(ctx, where, written)))
    return tuple(pairs)


def _index(ctx: Ctx, key: Key, name: str, data: dict[str, Any]) -> Action:
    if "index" not in data:
        raise ctx.error(key, f"index action {name!r} needs an 'index'")
    index = text(ctx, (*key, "index"), data["index"])
    if not INDEX_NAME.match(index) or "*" in index:
        raise ctx.error((*key, "index"), f"index action {name!r}: {index!r} is not an index name")
    return IndexAction(index=index, name=name)


def _logging(ctx: Ctx, key: Key, name: str, data: dict[str, Any]) -> Action:
    changes: dict[str, Any] = {}
    if "text" in data:
        changes["text"] = text(ctx, (*key, "text"), data["text"])
    if "level" in data:
        changes["level"] = choice(ctx, (*key, "level"), data["level"], LOG_LEVELS)
    return dataclasses.replace(LoggingAction(name=name), **changes)


#: Action kind → its keys and parser, in the order messages list them.
KINDS: dict[str, Kind] = {
    "email": Kind(("to", "cc", "bcc", "subject", "body", "attachments", "profile", "from"), _email),
    "webhook": Kind(("url", "method", "headers", "body"), _webhook),
    "index": Kind(("index",), _index),
    "logging": Kind(("text", "level"), _logging),
}
