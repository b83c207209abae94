"""The canonical form: one row per rule of `normalize.RULES`, checked twice.

First as a pure table (the body in, the field that rule rewrites out); then against the sandbox:
storing the body and reading it back gives a watch that `normalize.same` accepts. The
sandbox emulates ES independently, so agreement there is evidence the prediction is right.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from watchmgr import normalize

TRIGGER = {"schedule": {"interval": "10m"}}
LOG = {"log": {"logging": {"text": "hi"}}}
SEARCH = {"search": {"request": {"indices": ["logs-*"], "body": {"query": {"match_all": {}}}}}}

MISSING = object()


def watch(**parts: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"trigger": TRIGGER, "actions": LOG}
    body.update(parts)
    return body


def schedule(value: dict[str, Any]) -> dict[str, Any]:
    return watch(trigger={"schedule": value})


def webhook(**request: Any) -> dict[str, Any]:
    return watch(actions={"hook": {"webhook": {"host": "localhost", "port": 9, **request}}})


def email(**fields: Any) -> dict[str, Any]:
    return watch(actions={"mail": {"email": {"to": "a@example.com", **fields}}})


def request(**fields: Any) -> dict[str, Any]:
    return watch(input={"search": {"request": {"body": {"size": 0}, **fields}}})


def action(kind: str, **fields: Any) -> dict[str, Any]:
    return watch(actions={"a": {kind: fields}})


MIDNIGHT = [{"hour": [0], "minute": [0]}]
YEARLY = ("trigger", "schedule", "yearly")
SLACK = ("actions", "a", "slack")
PAGERDUTY = ("actions", "a", "pagerduty")
FIELD = {"title": "host", "value": "{{ctx.payload.host}}"}


# (rule id, body, path into the canonical body, expected value or MISSING)
CASES: list[tuple[str, dict[str, Any], tuple[str | int, ...], Any]] = [
    ("T8", {**watch(), "status": {"state": {"active": False}}}, ("status",), MISSING),
    ("T1", watch(), ("input",), {"none": {}}),
    ("T2", watch(), ("condition",), {"always": {}}),
    ("T3", {"trigger": TRIGGER}, ("actions",), {}),
    (
        "T6",
        watch(throttle_period_in_millis=5000, throttle_period="1h"),
        ("throttle_period_in_millis",),
        3_600_000,
    ),
    (
        "T6",
        watch(throttle_period="1h", throttle_period_in_millis=5000),
        ("throttle_period_in_millis",),
        5000,
    ),
    ("T4", watch(throttle_period="1.5m"), ("throttle_period_in_millis",), 90_000),
    ("T4", watch(throttle_period="0"), ("throttle_period_in_millis",), 0),
    ("T5", watch(throttle_period_in_millis="5000"), ("throttle_period_in_millis",), 5000),
    ("T7", watch(), ("throttle_period_in_millis",), MISSING),
    ("T11", watch(transform={}), ("transform",), MISSING),
    ("T12", watch(metadata={"a": 1}, condition={"never": {}}), (), None),
    ("S2", schedule({"interval": 30}), ("trigger", "schedule", "interval"), "30s"),
    (
        "S5",
        schedule({"cron": "0 0 12 ? * mon-fri"}),
        ("trigger", "schedule", "cron"),
        "0 0 12 ? * MON-FRI",
    ),
    (
        "S5",
        schedule({"cron": ["0 0 12 ? * fri", "0 0 9 ? * mon"]}),
        ("trigger", "schedule", "cron"),
        ["0 0 12 ? * FRI", "0 0 9 ? * MON"],
    ),
    (
        "S6",
        schedule({"cron": ["0 5 * * * ?", "0 0 * * * ?"]}),
        ("trigger", "schedule", "cron"),
        ["0 0 * * * ?", "0 5 * * * ?"],
    ),
    ("S6", schedule({"cron": ["0 5 * * * ?"]}), ("trigger", "schedule", "cron"), "0 5 * * * ?"),
    (
        "S7",
        schedule({"hourly": {"minute": 30}}),
        ("trigger", "schedule", "hourly"),
        {"minute": [30]},
    ),
    ("S7", schedule({"hourly": {}}), ("trigger", "schedule", "hourly"), {"minute": [0]}),
    ("S8", schedule({"daily": {"at": "noon"}}), ("trigger", "schedule", "daily"), {"at": ["noon"]}),
    (
        "S8",
        schedule({"daily": {"at": {"hour": 9}}}),
        ("trigger", "schedule", "daily"),
        {"at": [{"hour": [9], "minute": [0]}]},
    ),
    ("S8", schedule({"daily": {}}), ("trigger", "schedule", "daily"), {"at": ["midnight"]}),
    (
        "S9",
        schedule({"weekly": {"on": ["friday", "mon", "friday"], "at": "17:00"}}),
        ("trigger", "schedule", "weekly"),
        [{"on": ["MON", "FRI"], "at": ["17:00"]}],
    ),
    (
        "S9",
        schedule({"weekly": {}}),
        ("trigger", "schedule", "weekly"),
        [{"on": ["MON"], "at": [{"hour": [0], "minute": [0]}]}],
    ),
    (
        "S10",
        schedule({"monthly": {"on": [15, 1, "last_day"], "at": "noon"}}),
        ("trigger", "schedule", "monthly"),
        [{"on": [1, 15, 32], "at": ["noon"]}],
    ),
    (
        "S9",
        schedule({"weekly": {"on": [], "at": []}}),
        ("trigger", "schedule", "weekly"),
        [{"on": ["MON"], "at": MIDNIGHT}],
    ),
    (
        "S10",
        schedule({"monthly": [{"day": "LAST_DAY", "time": {"hour": 9, "hours": 10}}]}),
        ("trigger", "schedule", "monthly"),
        [{"on": [32], "at": [{"hour": [9], "minute": [0]}]}],
    ),
    (
        "S11",
        schedule({"yearly": {"in": ["dec", 3, "jan"], "on": ["last_day", 15, 15], "at": "noon"}}),
        YEARLY,
        [{"in": ["JAN", "MAR", "DEC"], "on": [15, 32], "at": ["noon"]}],
    ),
    ("S11", schedule({"yearly": {}}), YEARLY, [{"in": ["JAN"], "on": [1], "at": MIDNIGHT}]),
    ("S11", schedule({"yearly": []}), YEARLY, [{"in": ["JAN"], "on": [1], "at": MIDNIGHT}]),
    (
        "S11",
        schedule({"yearly": {"month": ["last", "first"], "day": 2, "on": 1, "time": "17:30"}}),
        YEARLY,
        [{"in": ["JAN", "DEC"], "on": [1, 2], "at": ["17:30"]}],
    ),
    (
        "S11",
        schedule({"yearly": [{"in": "September", "at": {"hour": [9, 9]}}, {"in": 2}]}),
        YEARLY,
        [
            {"in": ["SEP"], "on": [1], "at": [{"hour": [9, 9], "minute": [0]}]},
            {"in": ["FEB"], "on": [1], "at": MIDNIGHT},
        ],
    ),
    ("Q1", request(), ("input", "search", "request", "search_type"), "query_then_fetch"),
    (
        "Q1",
        request(search_type="DFS_QUERY_THEN_FETCH"),
        ("input", "search", "request", "search_type"),
        "dfs_query_then_fetch",
    ),
    ("Q2", request(), ("input", "search", "request", "indices"), []),
    ("Q3", request(indices="a, b"), ("input", "search", "request", "indices"), ["a", "b"]),
    ("Q4", request(), ("input", "search", "request", "rest_total_hits_as_int"), True),
    (
        "Q4",
        request(rest_total_hits_as_int=False),
        ("input", "search", "request", "rest_total_hits_as_int"),
        False,
    ),
    (
        "Q7",
        request(indices_options={"ignore_unavailable": True, "allow_no_indices": True}),
        ("input", "search", "request", "indices_options"),
        MISSING,
    ),
    (
        "Q8",
        request(indices_options={"allow_no_indices": False, "expand_wildcards": "all"}),
        ("input", "search", "request", "indices_options"),
        {
            "ignore_unavailable": True,
            "expand_wildcards": ["open", "closed", "hidden"],
            "allow_no_indices": False,
            "ignore_throttled": False,
        },
    ),
    (
        "Q11",
        watch(input={"search": {"request": {"body": {}}, "timeout": "30s"}}),
        ("input", "search", "timeout_in_millis"),
        30_000,
    ),
    (
        "Q12",
        watch(input={"search": {"request": {"body": {}}, "extract": ["b", "a", "b"]}}),
        ("input", "search", "extract"),
        ["a", "b"],
    ),
    (
        "C3",
        watch(condition={"compare": {"ctx.payload.hits.total": {"GT": 5}}}),
        ("condition", "compare"),
        {"ctx.payload.hits.total": {"gt": 5}},
    ),
    (
        "C5",
        watch(condition={"script": "return true"}),
        ("condition", "script"),
        {"source": "return true", "lang": "painless"},
    ),
    (
        "C6",
        watch(condition={"script": {"source": "return true", "params": {}}}),
        ("condition", "script"),
        {"source": "return true", "lang": "painless"},
    ),
    ("C9", watch(condition={"never": {}}), ("condition",), {"never": {}}),
    (
        "TR5",
        watch(transform={"script": "return true"}),
        ("transform", "script"),
        {"source": "return true", "lang": "painless"},
    ),
    (
        "TR6",
        watch(transform={"script": {"source": "return true", "params": {}}}),
        ("transform", "script"),
        {"source": "return true", "lang": "painless"},
    ),
    (
        "A1",
        watch(actions={"log": {"throttle_period": "10s", "logging": {"text": "x"}}}),
        ("actions", "log", "throttle_period_in_millis"),
        10_000,
    ),
    (
        "A2",
        watch(actions={"log": {"foreach": "ctx.payload.hits.hits", "logging": {"text": "x"}}}),
        ("actions", "log", "max_iterations"),
        100,
    ),
    (
        "A3",
        watch(actions={"log": {"transform": {}, "logging": {"text": "x"}}}),
        ("actions", "log", "transform"),
        MISSING,
    ),
    ("LOG", watch(), ("actions", "log", "logging", "level"), "info"),
    (
        "LOG",
        watch(actions={"log": {"logging": {"text": "x", "level": "WARN"}}}),
        ("actions", "log", "logging", "level"),
        "warn",
    ),
    (
        "IDX",
        watch(actions={"ix": {"index": {"index": "alerts", "timeout": "5s"}}}),
        ("actions", "ix", "index", "timeout_in_millis"),
        5000,
    ),
    ("EM1", email(cc="b@example.com"), ("actions", "mail", "email", "to"), ["a@example.com"]),
    ("EM1", email(cc="b@example.com"), ("actions", "mail", "email", "cc"), ["b@example.com"]),
    ("EM2", email(body="hi"), ("actions", "mail", "email", "body"), {"text": "hi"}),
    ("EM3", email(), ("actions", "mail", "email", "profile"), "standard"),
    ("EM3", email(profile="Gmail"), ("actions", "mail", "email", "profile"), "gmail"),
    (
        "EM4",
        email(attach_data=True),
        ("actions", "mail", "email", "attach_data"),
        {"format": "yaml"},
    ),
    ("EM4", email(attach_data=False), ("actions", "mail", "email", "attach_data"), MISSING),
    (
        "W1",
        watch(actions={"hook": {"webhook": {"url": "https://h.example:8443/p?a=1"}}}),
        ("actions", "hook", "webhook"),
        {
            "scheme": "https",
            "host": "h.example",
            "port": 8443,
            "method": "get",
            "path": "/p",
            "params": {"a": "1"},
            "headers": {},
        },
    ),
    (
        "W1",
        watch(actions={"hook": {"webhook": {"url": "https://h.example/p"}}}),
        ("actions", "hook", "webhook", "port"),
        443,
    ),
    ("W2", webhook(method="POST"), ("actions", "hook", "webhook", "method"), "post"),
    ("W2", webhook(), ("actions", "hook", "webhook", "scheme"), "http"),
    ("W3", webhook(), ("actions", "hook", "webhook", "params"), {}),
    ("W3", webhook(), ("actions", "hook", "webhook", "headers"), {}),
    (
        "W5",
        webhook(connection_timeout="5s", read_timeout="10s"),
        ("actions", "hook", "webhook", "read_timeout_millis"),
        10_000,
    ),
    (
        "W5",
        webhook(connection_timeout="5s", read_timeout="10s"),
        ("actions", "hook", "webhook", "connection_timeout_in_millis"),
        5000,
    ),
    (
        "PX1",
        webhook(proxy={"host": "p", "port": "3128", "scheme": "HTTPS", "user": "x"}),
        ("actions", "hook", "webhook", "proxy"),
        {"host": "p", "port": 3128, "scheme": "https"},
    ),
    (
        "PX1",
        action("jira", proxy={"host": "p", "port": 3128, "scheme": "HTTP"}),
        ("actions", "a", "jira", "proxy", "scheme"),
        "http",
    ),
    (
        "SL1",
        action("slack", message={"to": "#ops", "text": "hi"}),
        (*SLACK, "message", "to"),
        ["#ops"],
    ),
    ("SL1", action("slack", message={"to": [], "text": "hi"}), (*SLACK, "message", "to"), MISSING),
    (
        "SL1",
        action("slack", message={"attachments": {"title": "t", "mrkdwn_in": "text"}}),
        (*SLACK, "message", "attachments"),
        [{"title": "t", "mrkdwn_in": ["text"]}],
    ),
    (
        "SL1",
        action("slack", message={"text": {"source": "{{ctx.watch_id}}"}}),
        (*SLACK, "message", "text"),
        {"source": "{{ctx.watch_id}}", "lang": "mustache"},
    ),
    (
        "SL2",
        action("slack", message={"attachments": [{"fields": FIELD}]}),
        (*SLACK, "message", "attachments", 0, "fields"),
        [{**FIELD, "short": False}],
    ),
    (
        "SL2",
        action(
            "slack",
            message={
                "dynamic_attachments": {
                    "list_path": "ctx.payload.items",
                    "attachment_template": {"fields": [{**FIELD, "short": True}]},
                }
            },
        ),
        (*SLACK, "message", "dynamic_attachments", "attachment_template", "fields"),
        [{**FIELD, "short": True}],
    ),
    (
        "SL3",
        action("slack", message={"attachments": [{"actions": {"type": "button", "text": "Go"}}]}),
        (*SLACK, "message", "attachments", 0, "actions"),
        [{"name": None, "style": None, "type": "button", "text": "Go", "url": None}],
    ),
    (
        "PD1",
        action("pagerduty", description="d", context=[{"type": "link", "href": "https://x"}]),
        PAGERDUTY,
        {"description": "d", "contexts": [{"type": "link", "href": "https://x"}]},
    ),
    (
        "PD2",
        action("pagerduty", description="d", contexts=[{"type": "IMAGE", "src": "https://i"}]),
        (*PAGERDUTY, "contexts"),
        [{"type": "image", "src": "https://i"}],
    ),
    (
        "PD3",
        action("pagerduty", event_type="trigger"),
        PAGERDUTY,
        {"description": None, "event_type": "trigger"},
    ),
    ("JI1", action("jira", account="ops"), ("actions", "a", "jira", "fields"), {}),
]


def dig(body: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        found = (isinstance(body, dict) and part in body) or (
            isinstance(body, list) and isinstance(part, int) and part < len(body)
        )
        if found:
            body = body[part]
        else:
            return MISSING
    return body


def case_id(case: tuple[str, dict[str, Any], tuple[str | int, ...], Any]) -> str:
    return f"{case[0]}:{'.'.join(map(str, case[2])) or 'order'}"


def holds(case: tuple[str, dict[str, Any], tuple[str | int, ...], Any]) -> bool:
    rule_id, body, path, expected = case
    result = normalize.canonical(body)
    if rule_id == "T12":
        return list(result) == ["trigger", "input", "condition", "actions", "metadata"]
    return bool(dig(result, path) == expected)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_rule(case: tuple[str, dict[str, Any], tuple[str | int, ...], Any]) -> None:
    assert holds(case), normalize.canonical(case[1])


def test_every_rule_has_a_case_and_cites_its_section() -> None:
    tested = {case[0] for case in CASES}
    ids = [rule.id for rule in normalize.RULES]
    assert len(ids) == len(set(ids)), ids
    for rule in normalize.RULES:
        assert rule.section.startswith("§2."), rule
        assert rule.id in tested, f"rule {rule.id} has no case"


#: Rules whose cases still pass with the rule taken out, and why. Strict: a case that starts
#: needing the rule makes its entry here fail, so the list only shrinks.
#: Rules that record that ES stores the input as it is, so no case can fail without them: T7
#: (no throttle period, no key added) and C9 (`always`/`never` accept only `{}`, kept as `{}`).
KEPT_AS_SENT = {"T7", "C9"}


@pytest.mark.parametrize(
    "rule",
    [rule for rule in normalize.RULES if rule.id not in KEPT_AS_SENT],
    ids=lambda rule: rule.id,
)
def test_every_rule_is_needed_by_its_cases(rule: normalize.Rewrite, monkeypatch: Any) -> None:
    # A case that passes without its rule tests another rule, not this one.
    kind = tuple(r for r in normalize._BY_KIND[rule.kind] if r is not rule)
    monkeypatch.setitem(normalize._BY_KIND, rule.kind, kind)
    cases = [case for case in CASES if case[0] == rule.id]
    assert not all(holds(case) for case in cases), f"every case of {rule.id} passes without it"


@pytest.mark.parametrize("rule", normalize.RULES, ids=lambda rule: rule.id)
def test_every_rewrite_is_named_for_what_it_does_and_cites_its_section(
    rule: normalize.Rewrite,
) -> None:
    name = rule.apply.__name__
    assert not re.fullmatch(r"_?[a-z]{1,3}[0-9]+", name), f"{name} says only its rule id"
    cited = inspect.getcomments(rule.apply) or ""
    assert cited.startswith("# watcher-api.md §"), f"{name} has no reference comment"
    assert rule.section in cited and re.search(rf"\b{rule.id}\b", cited), (rule.id, cited)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_canonical_is_idempotent(
    case: tuple[str, dict[str, Any], tuple[str | int, ...], Any],
) -> None:
    once = normalize.canonical(case[1])
    assert normalize.canonical(once) == once


def test_input_is_not_changed() -> None:
    body = email(body="hi")
    before = repr(body)
    normalize.canonical(body)
    assert repr(body) == before


@pytest.mark.parametrize(
    "live",
    [normalize.REDACTED, "::es_encrypted::AbCdEf"],
    ids=["redacted", "encrypted"],
)
def test_hidden_secrets_equal_any_desired_value(live: str) -> None:
    desired = webhook(auth={"basic": {"username": "u", "password": "secret"}})
    stored = normalize.canonical(desired)
    stored["actions"]["hook"]["webhook"]["auth"]["basic"]["password"] = live
    assert normalize.same(desired, stored)
    stored["actions"]["hook"]["webhook"]["auth"]["basic"]["username"] = "other"
    assert not normalize.same(desired, stored)


def test_free_form_maps_compare_in_any_order() -> None:
    desired = watch(metadata={"a": 1, "b": {"c": 2, "d": 3}})
    live = normalize.canonical(watch(metadata={"b": {"d": 3, "c": 2}, "a": 1}))
    assert normalize.same(desired, live)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_sandbox_stores_what_the_normalizer_predicts(
    case: tuple[str, dict[str, Any], tuple[str | int, ...], Any], es_client: Any
) -> None:
    rule_id, body, _path, _expected = case
    watch_id = f"norm-{rule_id.lower()}"
    es_client.watcher.put_watch(id=watch_id, body=body)
    live = es_client.watcher.get_watch(id=watch_id)["watch"]
    assert normalize.same(body, live), (normalize.canonical(body), live)


@pytest.mark.parametrize(
    "yearly",
    [
        {"in": "jan", "on": 1, "at": "noon"},
        {"month": ["DECEMBER", 6], "on": ["last_day", "15"], "at": {"hour": 7, "minute": [0, 30]}},
        [{"in": "last"}, {"on": "first_day", "time": "23:59"}],
        {},
    ],
    ids=["plain", "aliases-and-spellings", "two-entries", "defaults"],
)
def test_predicted_yearly_schedule_is_what_the_sandbox_returns(yearly: Any, es_client: Any) -> None:
    """§2.2 S11 end to end: the prediction is the GET body itself, not just equivalent to it."""
    body = schedule({"yearly": yearly})
    es_client.watcher.put_watch(id="norm-yearly", body=body)
    live = es_client.watcher.get_watch(id="norm-yearly")["watch"]
    assert normalize.canonical(body)["trigger"] == live["trigger"]
