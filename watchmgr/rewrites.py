"""What Elasticsearch does to a watch body between PUT and GET: one `Rewrite` per rule.

Elasticsearch does not store the body it is given: it parses it and serializes the parsed watch
(watcher-api.md §2.0), adding defaults, converting units and reshaping schedules. Every rule of
that rewrite watchmgr predicts is a row of `RULES` (watcher-api.md calls them rules), grouped by
the § it comes from and the kind of node it applies to (`KINDS`); the function that does it is
named for what it does and cites the same § and rule id in the comment above it. A function
rewrites one node in place: `normalize.canonical` walks a copy of a body and applies the rows
of each node kind in table order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Node = dict[str, Any]

#: §2.1 T12: the order ES serializes a watch in; `canonical` returns keys in this order.
WATCH_KEY_ORDER = (
    "trigger",
    "input",
    "condition",
    "transform",
    "throttle_period_in_millis",
    "actions",
    "metadata",
)

#: The node kinds the walker knows, in the order they are visited.
KINDS = (
    "watch",
    "schedule",
    "search_input",
    "search_request",
    "condition",
    "transform",
    "action",
    "logging",
    "index",
    "email",
    "http_request",
    "proxy",
    "slack",
    "pagerduty",
    "jira",
)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One normalization rule of watcher-api.md §2: where it applies, which § it comes from,
    what it does (not a Sigma rule: that is `rules.Rule`)."""

    id: str
    section: str
    kind: str
    summary: str
    apply: Callable[[Node], None]  # rewrites the node in place (the walker works on a copy)


# ------------------------------------------------------------------------------ time values

_TIME = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(nanos|micros|ms|s|m|h|d|w)\s*$", re.I)
_UNIT_MS = {
    "nanos": 1e-6,
    "micros": 1e-3,
    "ms": 1.0,
    "s": 1000.0,
    "m": 60_000.0,
    "h": 3_600_000.0,
    "d": 86_400_000.0,
    "w": 604_800_000.0,
}


def time_millis(value: Any) -> Any:
    """A time value ("1h", "1.5s", "0", 5000, "5000") in milliseconds; unparseable: unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        match = _TIME.match(text)
        if match:
            return round(float(match.group(1)) * _UNIT_MS[match.group(2).lower()])
    return value


def _to_millis(node: Node, key: str, target: str) -> None:
    if key in node:
        node[target] = time_millis(node.pop(key))


def _last_of(node: Node, first: str, second: str) -> None:
    """Keep only the later of two keys that mean the same (§2.1 T6: last one in the body wins)."""
    if first in node and second in node:
        keys = list(node)
        loser = first if keys.index(first) < keys.index(second) else second
        del node[loser]


# ------------------------------------------------------------------------------ top level


# watcher-api.md §2.1 T1
def _default_input(node: Node) -> None:
    node.setdefault("input", {"none": {}})


# watcher-api.md §2.1 T2
def _default_condition(node: Node) -> None:
    node.setdefault("condition", {"always": {}})


# watcher-api.md §2.1 T3
def _default_actions(node: Node) -> None:
    node.setdefault("actions", {})


# watcher-api.md §2.1 T6
def _later_throttle_key_wins(node: Node) -> None:
    _last_of(node, "throttle_period", "throttle_period_in_millis")


# watcher-api.md §2.1 T4
def _throttle_period_to_millis(node: Node) -> None:
    _to_millis(node, "throttle_period", "throttle_period_in_millis")


# watcher-api.md §2.1 T5
def _throttle_millis_as_int(node: Node) -> None:
    if "throttle_period_in_millis" in node:
        node["throttle_period_in_millis"] = time_millis(node["throttle_period_in_millis"])


# watcher-api.md §2.1 T7: ES adds no throttle period of its own; the row documents that.
def _adds_nothing(node: Node) -> None:
    pass


# watcher-api.md §2.1 T8
def _ignore_status(node: Node) -> None:
    node.pop("status", None)


# watcher-api.md §2.1 T11, §2.6 A3
def _drop_empty_transform(node: Node) -> None:
    if node.get("transform") == {}:
        del node["transform"]


# watcher-api.md §2.1 T12
def _serializer_key_order(node: Node) -> None:
    ordered = {k: node[k] for k in WATCH_KEY_ORDER if k in node}
    ordered.update((k, v) for k, v in node.items() if k not in ordered)
    node.clear()
    node.update(ordered)


# ------------------------------------------------------------------------------ schedules


# watcher-api.md §2.2 S2
def _interval_number_in_seconds(node: Node) -> None:
    interval = node.get("interval")
    if isinstance(interval, int | float) and not isinstance(interval, bool):
        node["interval"] = f"{int(interval)}s"


def _cron_list(node: Node) -> list[str] | None:
    """The `cron` expressions as a list, if `cron` is an array of strings."""
    cron = node.get("cron")
    if isinstance(cron, list) and all(isinstance(c, str) for c in cron):
        return cron
    return None


# watcher-api.md §2.2 S5
def _upper_case_cron(node: Node) -> None:
    cron = node.get("cron")
    if isinstance(cron, str):
        node["cron"] = cron.upper()
    elif (crons := _cron_list(node)) is not None:
        node["cron"] = [c.upper() for c in crons]


# watcher-api.md §2.2 S6
def _sorted_cron_list(node: Node) -> None:
    crons = _cron_list(node)
    if crons is not None:
        # After S5, so the sort is over the upper-cased expressions, as ES sorts them.
        crons = sorted(crons)
        node["cron"] = crons[0] if len(crons) == 1 else crons


def _int_list(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    return [int(v) if isinstance(v, str) and v.strip().isdigit() else v for v in items]


# watcher-api.md §2.2 S7
def _hourly_minutes_as_ints(node: Node) -> None:
    hourly = node.get("hourly")
    if isinstance(hourly, dict):
        node["hourly"] = {"minute": _int_list(hourly.get("minute", 0))}


def _day_time(value: Any) -> Any:
    """One `at` entry (§2.2 S8): strings stay, objects get int arrays and a default minute."""
    if isinstance(value, dict):
        return {  # an empty list is the default too; `hours` is not a key ES knows (S13)
            "hour": _int_list(value.get("hour", [])) or [0],
            "minute": _int_list(value.get("minute", [])) or [0],
        }
    return value


def _at_list(value: Any, default: Any) -> list[Any]:
    items = [] if value is None else value if isinstance(value, list) else [value]
    # §2.2 S8-S11: an absent or empty `at` is the default time, never an empty list.
    return [_day_time(v) for v in items] if items else [default]


def _as_set(items: list[Any]) -> list[Any]:
    """§2.2 S12: the server keeps `at` times in a set; compare them sorted and de-duplicated."""
    unique: dict[str, Any] = {}
    for item in items:
        unique.setdefault(repr(item), item)
    return [unique[k] for k in sorted(unique)]


# watcher-api.md §2.2 S8
def _daily_times_as_list(node: Node) -> None:
    daily = node.get("daily")
    if isinstance(daily, dict):
        node["daily"] = {"at": _at_list(daily.get("at"), "midnight")}


def _names_of(full_names: tuple[str, ...]) -> dict[str, str]:
    """Lower-case spellings ES accepts for a cron key: "fri", "friday", and its number "6"."""
    keys = tuple(name[:3].upper() for name in full_names)
    return {
        **{key.lower(): key for key in keys},
        **dict(zip(full_names, keys, strict=True)),
        **{str(i + 1): key for i, key in enumerate(keys)},
    }


_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DAY_NAMES = _names_of(
    ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NAMES = {
    **_names_of(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )
    ),
    # §2.2 S11: ES's month parser also takes these two words.
    "first": "JAN",
    "last": "DEC",
}
_MIDNIGHT = {"hour": [0], "minute": [0]}


def _enum_set(values: list[Any], names: dict[str, str], order: tuple[str, ...]) -> list[Any]:
    """Cron keys de-duplicated in calendar order (ES keeps them in an EnumSet); unknowns last."""
    found = [names.get(str(v).strip().lower(), v) for v in values]
    return [key for key in order if key in found] + [v for v in found if v not in order]


def _field(item: Node, name: str, alias: str) -> list[Any]:
    """The values of a calendar field under its name and its alias, which ES reads into one set."""
    values: list[Any] = []
    for key in (name, alias):
        if key in item:
            values.extend(item[key] if isinstance(item[key], list) else [item[key]])
    return values


def _calendar(value: Any, build: Callable[[Node], Node]) -> Any:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, dict) for i in items):
        return value
    return [build(i) for i in items or [{}]]  # an empty array is the default schedule


def _at_set(item: Node) -> list[Any]:
    return _as_set(_at_list(_field(item, "at", "time"), _MIDNIGHT))


# watcher-api.md §2.2 S9, S12
def _weekly_days_and_times(node: Node) -> None:
    if "weekly" in node:
        node["weekly"] = _calendar(
            node["weekly"],
            lambda i: {
                "on": _enum_set(_field(i, "on", "day") or ["MON"], _DAY_NAMES, _DAYS),
                "at": _at_set(i),
            },
        )


def _month_days(values: list[Any]) -> list[Any]:
    named: dict[str, Any] = {"first_day": 1, "last_day": 32}
    days: list[Any] = [named.get(str(v).lower(), v) for v in values]
    ints = sorted({int(d) for d in days if str(d).isdigit()})
    return [*ints, *(d for d in days if not str(d).isdigit())]


def _month_times(item: Node) -> Node:
    return {"on": _month_days(_field(item, "on", "day") or [1]), "at": _at_set(item)}


# watcher-api.md §2.2 S10, S12
def _monthly_days_and_times(node: Node) -> None:
    if "monthly" in node:
        node["monthly"] = _calendar(node["monthly"], _month_times)


# watcher-api.md §2.2 S11
def _yearly_months_days_and_times(node: Node) -> None:
    if "yearly" in node:
        node["yearly"] = _calendar(
            node["yearly"],
            lambda i: {
                "in": _enum_set(_field(i, "in", "month") or ["JAN"], _MONTH_NAMES, _MONTHS),
                **_month_times(i),
            },
        )


# ------------------------------------------------------------------------------ search requests

_WILDCARDS = ("open", "closed", "hidden")
_INDICES_OPTIONS_DEFAULTS: dict[str, Any] = {
    "ignore_unavailable": True,
    "expand_wildcards": ["open"],
    "allow_no_indices": True,
    "ignore_throttled": False,
}


def _boolish(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


# watcher-api.md §2.3 Q1
def _default_search_type(node: Node) -> None:
    search_type = node.get("search_type", "query_then_fetch")
    node["search_type"] = search_type.lower() if isinstance(search_type, str) else search_type


# watcher-api.md §2.3 Q2
def _default_indices(node: Node) -> None:
    node.setdefault("indices", [])


# watcher-api.md §2.3 Q3
def _split_indices_string(node: Node) -> None:
    indices = node.get("indices")
    if isinstance(indices, str):
        node["indices"] = [part.strip() for part in indices.split(",") if part.strip()]


# watcher-api.md §2.3 Q4
def _default_total_hits_as_int(node: Node) -> None:
    node["rest_total_hits_as_int"] = _boolish(node.get("rest_total_hits_as_int", True))


def _expand_wildcards(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    wanted = {str(v).strip().lower() for v in items}
    if "all" in wanted:
        wanted |= set(_WILDCARDS)
    return [w for w in _WILDCARDS if w in wanted]


def _indices_options(node: Node) -> Node | None:
    """The full set of `indices_options` the server reads from a partial one; None if absent."""
    options = node.get("indices_options")
    if not isinstance(options, dict):
        return None
    full = dict(_INDICES_OPTIONS_DEFAULTS)
    for key, value in options.items():
        full[key] = _expand_wildcards(value) if key == "expand_wildcards" else _boolish(value)
    return full


# watcher-api.md §2.3 Q7
def _drop_default_indices_options(node: Node) -> None:
    if _indices_options(node) == _INDICES_OPTIONS_DEFAULTS:
        del node["indices_options"]


# watcher-api.md §2.3 Q8
def _expand_indices_options(node: Node) -> None:
    full = _indices_options(node)
    if full is not None:  # after Q7, so only non-default options are left to expand
        node["indices_options"] = full


# watcher-api.md §2.3 Q11
def _search_timeout_to_millis(node: Node) -> None:
    _to_millis(node, "timeout", "timeout_in_millis")


# watcher-api.md §2.3 Q12
def _extract_as_set(node: Node) -> None:
    extract = node.get("extract")
    if isinstance(extract, list) and all(isinstance(e, str) for e in extract):
        node["extract"] = sorted(set(extract))


# ------------------------------------------------------------------------------ conditions, scripts


def script(value: Any, default_lang: str) -> Any:
    """§2.7: a script in its object form, `lang` defaulted, empty `params`/`options` dropped."""
    if isinstance(value, str):
        return {"source": value, "lang": default_lang}
    if not isinstance(value, dict):
        return value
    result = dict(value)
    if "inline" in result and "source" not in result:
        result["source"] = result.pop("inline")
    if "source" in result:
        result.setdefault("lang", default_lang)
        if isinstance(result["source"], dict | list):
            # §2.7: an object source is kept raw and gains a content type option.
            result["options"] = {"content_type": "application/json", **result.get("options", {})}
    for key in ("params", "options"):
        if result.get(key) == {}:
            del result[key]
    return result


def text_template(value: Any) -> Any:
    """§2.7 TextTemplate: a plain string stays a string; an object is a mustache script."""
    return script(value, "mustache") if isinstance(value, dict) else value


# watcher-api.md §2.4 C3
def _lower_case_compare_operators(node: Node) -> None:
    compare = node.get("compare")
    if isinstance(compare, dict):
        node["compare"] = {
            path: {str(op).lower(): v for op, v in ops.items()} if isinstance(ops, dict) else ops
            for path, ops in compare.items()
        }


# watcher-api.md §2.4 C5, §2.5 TR5
def _script_string_to_object(node: Node) -> None:
    if isinstance(node.get("script"), str):
        node["script"] = script(node["script"], "painless")


# watcher-api.md §2.4 C6, §2.5 TR6
def _script_object_defaults(node: Node) -> None:
    if isinstance(node.get("script"), dict):
        node["script"] = script(node["script"], "painless")


# watcher-api.md §2.4 C9
def _always_never_as_empty_object(node: Node) -> None:
    for name in ("always", "never"):
        if name in node and node[name] in (None, {}):
            node[name] = {}


# ------------------------------------------------------------------------------ actions


# watcher-api.md §2.6 A1
def _action_throttle_to_millis(node: Node) -> None:
    # An action's throttle period is read as the watch's is (T6, T4, T5).
    for rule in (_later_throttle_key_wins, _throttle_period_to_millis, _throttle_millis_as_int):
        rule(node)


# watcher-api.md §2.6 A2
def _foreach_max_iterations(node: Node) -> None:
    if "foreach" in node:
        node.setdefault("max_iterations", 100)


# watcher-api.md §2.8 LOG
def _logging_level_and_text(node: Node) -> None:
    level = node.get("level", "info")
    node["level"] = level.lower() if isinstance(level, str) else level
    if "text" in node:
        node["text"] = text_template(node["text"])


# watcher-api.md §2.8 IDX
def _index_timeout_and_refresh(node: Node) -> None:
    _to_millis(node, "timeout", "timeout_in_millis")
    if isinstance(node.get("refresh"), str):
        node["refresh"] = node["refresh"].lower()


# watcher-api.md §2.8 EM1
def _email_addresses_as_lists(node: Node) -> None:
    for key in ("to", "cc", "bcc", "reply_to"):
        value = node.get(key)
        if isinstance(value, str | dict):
            node[key] = [value]


# watcher-api.md §2.8 EM2
def _email_body_string_as_text(node: Node) -> None:
    body = node.get("body")
    if isinstance(body, str):
        node["body"] = {"text": body}


# watcher-api.md §2.8 EM3
def _email_default_profile(node: Node) -> None:
    profile = node.get("profile", "standard")
    node["profile"] = profile.lower() if isinstance(profile, str) else profile


# watcher-api.md §2.8 EM4
def _email_attach_data_format(node: Node) -> None:
    attach = node.get("attach_data")
    if attach is True:
        node["attach_data"] = {"format": "yaml"}
    elif attach is False:
        del node["attach_data"]
    if node.get("attachments") == {}:
        del node["attachments"]


# watcher-api.md §2.8 W1
def _split_http_url(node: Node) -> None:
    url = node.pop("url", None)
    if not isinstance(url, str):
        if url is not None:
            node["url"] = url
        return
    parts = urlsplit(url)
    scheme = parts.scheme.lower() or "http"
    node["scheme"] = scheme
    if parts.hostname:
        node["host"] = parts.hostname
    node["port"] = parts.port or (443 if scheme == "https" else 80)
    if parts.path:
        node["path"] = parts.path
    if parts.query:
        node["params"] = {**dict(parse_qsl(parts.query, keep_blank_values=True))}


# watcher-api.md §2.8 W2
def _http_scheme_and_method(node: Node) -> None:
    for key, default in (("scheme", "http"), ("method", "get")):
        value = node.get(key, default)
        node[key] = value.lower() if isinstance(value, str) else value


# watcher-api.md §2.8 W3
def _http_params_and_headers(node: Node) -> None:
    node["params"] = {k: text_template(v) for k, v in (node.get("params") or {}).items()}
    node["headers"] = {k: text_template(v) for k, v in (node.get("headers") or {}).items()}
    for key in ("path", "body"):
        if key in node:
            node[key] = text_template(node[key])


# watcher-api.md §2.8 W5
def _http_timeouts_to_millis(node: Node) -> None:
    _to_millis(node, "connection_timeout", "connection_timeout_in_millis")
    _to_millis(node, "read_timeout", "read_timeout_millis")


# watcher-api.md §2.8 PX1
def _proxy_host_port_scheme(node: Node) -> None:
    # ES keeps only these three keys of a proxy and reads the port as an int.
    for key in [k for k in node if k not in ("host", "port", "scheme")]:
        del node[key]
    port = node.get("port")
    if isinstance(port, str) and port.strip().isdigit():
        node["port"] = int(port)
    if isinstance(node.get("scheme"), str):
        node["scheme"] = node["scheme"].lower()


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _slack_attachments(node: Node) -> list[Node]:
    """Every attachment of a slack action: the listed ones and the dynamic template."""
    message = node.get("message")
    if not isinstance(message, dict):
        return []
    found = [a for a in message.get("attachments", []) if isinstance(a, dict)]
    dynamic = message.get("dynamic_attachments")
    if isinstance(dynamic, dict) and isinstance(dynamic.get("attachment_template"), dict):
        found.append(dynamic["attachment_template"])
    return found


_SLACK_TEXTS = (
    "fallback",
    "color",
    "pretext",
    "author_name",
    "author_link",
    "author_icon",
    "title",
    "title_link",
    "text",
    "image_url",
    "thumb_url",
)


# watcher-api.md §2.8 SL1
def _slack_lists_and_templates(node: Node) -> None:
    message = node.get("message")
    if not isinstance(message, dict):
        return
    for key in ("from", "text", "icon"):
        if key in message:
            message[key] = text_template(message[key])
    for key in ("to", "attachments"):
        if key in message:
            items = _listed(message[key])
            if items:
                message[key] = [text_template(i) for i in items] if key == "to" else items
            else:
                del message[key]
    for attachment in _slack_attachments(node):
        for key in _SLACK_TEXTS:
            if key in attachment:
                attachment[key] = text_template(attachment[key])
        for key in ("fields", "mrkdwn_in"):
            if key in attachment:
                attachment[key] = _listed(attachment[key])


# watcher-api.md §2.8 SL2
def _slack_field_short_default(node: Node) -> None:
    for attachment in _slack_attachments(node):
        for field in attachment.get("fields", []):
            if isinstance(field, dict):
                field.setdefault("short", False)
                for key in ("title", "value"):
                    if key in field:
                        field[key] = text_template(field[key])


_SLACK_BUTTON_KEYS = ("name", "style", "type", "text", "url")


# watcher-api.md §2.8 SL3
def _slack_buttons_all_keys(node: Node) -> None:
    for attachment in _slack_attachments(node):
        if "actions" in attachment:
            buttons = [
                {key: b.get(key) for key in _SLACK_BUTTON_KEYS}
                for b in _listed(attachment.pop("actions"))
                if isinstance(b, dict)  # ES skips anything that is not an object here
            ]
            if buttons:
                attachment["actions"] = buttons


# watcher-api.md §2.8 PD1
def _pagerduty_contexts_key(node: Node) -> None:
    _last_of(node, "context", "contexts")
    if "context" in node:
        node["contexts"] = node.pop("context")
    if "contexts" in node and not isinstance(node["contexts"], list | dict):
        del node["contexts"]  # ES reads only an array here and skips a plain value


# watcher-api.md §2.8 PD2
def _pagerduty_context_types(node: Node) -> None:
    contexts = node.get("contexts")
    for context in contexts if isinstance(contexts, list) else []:
        if isinstance(context, dict):
            if isinstance(context.get("type"), str):
                context["type"] = context["type"].lower()
            for key in ("href", "text", "src", "alt"):
                if key in context:
                    context[key] = text_template(context[key])


# watcher-api.md §2.8 PD3
def _pagerduty_texts_and_account(node: Node) -> None:
    node.setdefault("description", None)
    for key in ("description", "incident_key", "client", "client_url", "event_type"):
        if key in node:
            node[key] = text_template(node[key])
    account = node.get("account")
    if isinstance(account, bool):
        node["account"] = "true" if account else "false"
    elif isinstance(account, int):
        node["account"] = str(account)


# watcher-api.md §2.8 JI1
def _jira_default_fields(node: Node) -> None:
    node.setdefault("fields", {})


#: Every rewrite: (§ of watcher-api.md, node kind, its rows (id, what it does, the function)),
#: in the order applied within a node kind. §2.12 lists which ones to apply. S11 and the
#: PX/SL/PD/JI rows go beyond the reference, which leaves them open: they come from reading ES's
#: own serializers (listed in watchmgr/sandbox/README.md). §2.5 gives its rows no ids; TR5/TR6
#: are named after the C rows they follow.
# One row per rule, as the reference lists them (the formatter would spread them out).
# fmt: off
_TABLE: tuple[tuple[str, str, tuple[tuple[str, str, Callable[[Node], None]], ...]], ...] = (
    ("§2.1", "watch", (
        ("T8", "a status object in the body is ignored (server-owned)", _ignore_status),
        ("T1", 'no input -> {"none": {}}', _default_input),
        ("T2", 'no condition -> {"always": {}}', _default_condition),
        ("T3", "no actions -> {}", _default_actions),
        ("T6", "both throttle keys: the later one wins", _later_throttle_key_wins),
        ("T4", "throttle_period -> throttle_period_in_millis", _throttle_period_to_millis),
        ("T5", "throttle_period_in_millis digits -> int", _throttle_millis_as_int),
        ("T7", "no throttle_period -> no key (nothing added)", _adds_nothing),
        ("T11", "an empty transform is dropped", _drop_empty_transform),
        ("T12", "keys in the serializer's order (for display only)", _serializer_key_order),
    )),
    ("§2.2", "schedule", (
        ("S2", 'interval number -> "<n>s"', _interval_number_in_seconds),
        ("S5", "cron expressions upper-cased", _upper_case_cron),
        ("S6", "cron arrays sorted; one element -> plain string", _sorted_cron_list),
        ("S7", "hourly minute -> int array (default [0])", _hourly_minutes_as_ints),
        ("S8", "daily at -> array (default midnight)", _daily_times_as_list),
        ("S9", "weekly -> array, days SUN..SAT, at as a set (S12)", _weekly_days_and_times),
        ("S10", "monthly -> array, days sorted ints, at as a set", _monthly_days_and_times),
        ("S11", "yearly -> array, months JAN..DEC, then as S10", _yearly_months_days_and_times),
    )),
    ("§2.3", "search_request", (
        ("Q1", "search_type default query_then_fetch", _default_search_type),
        ("Q2", "indices default []", _default_indices),
        ("Q3", "indices string split on commas", _split_indices_string),
        ("Q4", "rest_total_hits_as_int default true", _default_total_hits_as_int),
        ("Q7", "indices_options equal to the defaults dropped", _drop_default_indices_options),
        ("Q8", "indices_options otherwise expanded to all keys", _expand_indices_options),
    )),
    ("§2.3", "search_input", (
        ("Q11", "timeout -> timeout_in_millis", _search_timeout_to_millis),
        ("Q12", "extract compared as a set", _extract_as_set),
    )),
    ("§2.4", "condition", (
        ("C3", "compare operators lower-cased", _lower_case_compare_operators),
        ("C5", "script string -> object form, lang painless", _script_string_to_object),
        ("C6", "script object: lang painless, empty params dropped", _script_object_defaults),
        ("C9", "always / never -> {}", _always_never_as_empty_object),
    )),
    ("§2.5", "transform", (
        ("TR5", "script transform string, as C5", _script_string_to_object),
        ("TR6", "script transform object, as C6", _script_object_defaults),
    )),
    ("§2.6", "action", (
        ("A1", "action throttle_period -> throttle_period_in_millis", _action_throttle_to_millis),
        ("A2", "foreach gets max_iterations 100", _foreach_max_iterations),
        ("A3", "an empty action transform is dropped", _drop_empty_transform),
    )),
    ("§2.8", "logging", (
        ("LOG", "level default info, lower-cased", _logging_level_and_text),
    )),
    ("§2.8", "index", (
        ("IDX", "timeout -> timeout_in_millis; refresh lower", _index_timeout_and_refresh),
    )),
    ("§2.8", "email", (
        ("EM1", "to/cc/bcc/reply_to string -> one-element array", _email_addresses_as_lists),
        ("EM2", 'body string -> {"text": ...}', _email_body_string_as_text),
        ("EM3", "profile default standard, lower-cased", _email_default_profile),
        ("EM4", "attach_data true -> yaml, false dropped", _email_attach_data_format),
    )),
    ("§2.8", "http_request", (
        ("W1", "url decomposed into scheme/host/port/path", _split_http_url),
        ("W2", "scheme default http, method get, lower", _http_scheme_and_method),
        ("W3", "params and headers always present", _http_params_and_headers),
        ("W5", "timeouts -> *_in_millis / read_timeout_millis", _http_timeouts_to_millis),
    )),
    ("§2.8", "proxy", (
        ("PX1", "proxy: host/port/scheme only, scheme lower", _proxy_host_port_scheme),
    )),
    ("§2.8", "slack", (
        ("SL1", "to/attachments/fields/mrkdwn_in -> arrays", _slack_lists_and_templates),
        ("SL2", "attachment field short default false", _slack_field_short_default),
        ("SL3", "attachment buttons: all five keys, absent -> null", _slack_buttons_all_keys),
    )),
    ("§2.8", "pagerduty", (
        ("PD1", "context (pre-6.0 name) -> contexts", _pagerduty_contexts_key),
        ("PD2", "context type lower-cased", _pagerduty_context_types),
        ("PD3", "description always written (null if absent)", _pagerduty_texts_and_account),
    )),
    ("§2.8", "jira", (
        ("JI1", "fields default {}", _jira_default_fields),
    )),
)
# fmt: on

RULES: tuple[Rewrite, ...] = tuple(
    Rewrite(rule_id, section, kind, summary, apply)
    for section, kind, rows in _TABLE
    for rule_id, summary, apply in rows
)
