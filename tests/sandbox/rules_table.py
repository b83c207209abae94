"""Every normalization rule of watcher-api.md §2, one entry each, with the example it is tested on.

`normalize.py` implements each rule at the line whose comment carries its id; this table is the
index of those rules and the data of `tests/sandbox/test_sandbox_normalization.py`, which PUTs
each example into a live sandbox and checks what GET returns. Rules §2 leaves unnumbered
(logging, index, email, scripts, secrets, proxies, slack, pagerduty, jira) get ids here: LOG*,
IDX*, EM*, SC*, SEC*, TR*, PX*, SL*, PD*, JI*. §2.8 leaves slack / pagerduty / jira unresearched;
their rows come from ES's own serializers (see the sandbox README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Marks a path that must be absent from the GET response.
ABSENT = "<absent>"


@dataclass(frozen=True, slots=True)
class Keys:
    """Expect exactly these keys, in this order."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """Expect PUT to fail with this error type and a reason containing `reason`."""

    type: str
    reason: str
    status: int = 400


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    cite: str
    summary: str
    #: Fields merged over a minimal valid watch (see `example_body`).
    put: dict[str, Any]
    #: GET-response path (dot-separated) -> expected value, or a `Rejected`.
    expect: dict[str, Any] | Rejected = field(default_factory=dict)
    #: Only for servers with this major version or later.
    min_major: int = 8


_BASE: dict[str, Any] = {"trigger": {"schedule": {"interval": "1m"}}}


def example_body(rule: Rule) -> dict[str, Any]:
    return {**_BASE, **rule.put}


def _search(request: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"input": {"search": {"request": request, **extra}}}


_REQ = "watch.input.search.request"


def _hook(**request: Any) -> dict[str, Any]:
    return {"actions": {"hook": {"webhook": request}}}


_HOOK = "watch.actions.hook.webhook"


def _mail(**email: Any) -> dict[str, Any]:
    return {"actions": {"mail": {"email": {"to": "ops@example.com", **email}}}}


_MAIL = "watch.actions.mail.email"


def _action(kind: str, **body: Any) -> dict[str, Any]:
    return {"actions": {"a": {kind: body}}}


_SLACK = "watch.actions.a.slack"
_PD = "watch.actions.a.pagerduty"
_FIELD = {"title": "host", "value": "{{ctx.payload.host}}"}
_LOG = {"logging": {"text": "t"}}

RULES: tuple[Rule, ...] = (
    # §2.1 top level
    Rule("T1", "§2.1", "no input -> none", {}, {"watch.input": {"none": {}}}),
    Rule("T2", "§2.1", "no condition -> always", {}, {"watch.condition": {"always": {}}}),
    Rule("T3", "§2.1", "no actions -> {}", {}, {"watch.actions": {}}),
    Rule(
        "T4",
        "§2.1",
        "throttle_period -> millis",
        {"throttle_period": "1h"},
        {"watch.throttle_period_in_millis": 3600000, "watch.throttle_period": ABSENT},
    ),
    Rule(
        "T5",
        "§2.1",
        "throttle_period_in_millis kept (digits accepted)",
        {"throttle_period_in_millis": "5000"},
        {"watch.throttle_period_in_millis": 5000},
    ),
    Rule(
        "T6",
        "§2.1",
        "both throttle keys: the last wins",
        {"throttle_period_in_millis": 1000, "throttle_period": "2s"},
        {"watch.throttle_period_in_millis": 2000},
    ),
    Rule(
        "T7",
        "§2.1",
        "no throttle -> no key",
        {},
        {"watch.throttle_period_in_millis": ABSENT, "watch.throttle_period": ABSENT},
    ),
    Rule(
        "T8",
        "§2.1",
        "status in the body is ignored",
        {"status": {"state": {"active": False}}},
        {"watch.status": ABSENT, "status.state.active": True},
    ),
    Rule(
        "T9",
        "§2.1",
        "metadata kept (as an unordered map)",
        {"metadata": {"team": "soc", "level": 3, "tags": ["a", "b"]}},
        {"watch.metadata": {"team": "soc", "level": 3, "tags": ["a", "b"]}},
    ),
    Rule("T10", "§2.1", "metadata null -> {}", {"metadata": None}, {"watch.metadata": {}}),
    Rule("T11", "§2.1", "transform {} dropped", {"transform": {}}, {"watch.transform": ABSENT}),
    Rule(
        "T12",
        "§2.1",
        "key order of the watch",
        {
            "actions": {"a": _LOG},
            "metadata": {"x": 1},
            "throttle_period": "1s",
            "transform": {"search": {"request": {}}},
            "condition": {"never": {}},
            "input": {"simple": {}},
        },
        {
            "watch": Keys(
                (
                    "trigger",
                    "input",
                    "condition",
                    "transform",
                    "throttle_period_in_millis",
                    "actions",
                    "metadata",
                )
            )
        },
    ),
    Rule(
        "T13",
        "§2.1",
        "unknown top-level key rejected",
        {"foo": 1},
        Rejected("parse_exception", "could not parse watch [rule-t13]. unexpected field [foo]"),
    ),
    # §2.2 schedules
    Rule(
        "S1",
        "§2.2",
        "several schedule types: the last wins",
        {"trigger": {"schedule": {"interval": "1m", "cron": "0 0 12 * * ?"}}},
        {"watch.trigger.schedule": {"cron": "0 0 12 * * ?"}},
    ),
    Rule(
        "S2",
        "§2.2",
        "numeric interval = seconds",
        {"trigger": {"schedule": {"interval": 30}}},
        {"watch.trigger.schedule.interval": "30s"},
    ),
    Rule(
        "S3",
        "§2.2",
        "interval unit kept as given",
        {"trigger": {"schedule": {"interval": "90s"}}},
        {"watch.trigger.schedule.interval": "90s"},
    ),
    Rule(
        "S4",
        "§2.2",
        "no ms intervals",
        {"trigger": {"schedule": {"interval": "500ms"}}},
        Rejected("parse_exception", "could not parse [500m] as a [seconds] duration"),
    ),
    Rule(
        "S5",
        "§2.2",
        "cron upper-cased",
        {"trigger": {"schedule": {"cron": "0 0 12 ? * mon-fri"}}},
        {"watch.trigger.schedule.cron": "0 0 12 ? * MON-FRI"},
    ),
    Rule(
        "S6",
        "§2.2",
        "cron arrays sorted",
        {"trigger": {"schedule": {"cron": ["0 5 * * * ?", "0 0 * * * ?"]}}},
        {"watch.trigger.schedule.cron": ["0 0 * * * ?", "0 5 * * * ?"]},
    ),
    Rule(
        "S7",
        "§2.2",
        "hourly minute -> int array",
        {"trigger": {"schedule": {"hourly": {"minute": "30"}}}},
        {"watch.trigger.schedule.hourly": {"minute": [30]}},
    ),
    Rule(
        "S8",
        "§2.2",
        "daily at -> array",
        {"trigger": {"schedule": {"daily": {"at": "noon"}}}},
        {"watch.trigger.schedule.daily": {"at": ["noon"]}},
    ),
    Rule(
        "S9",
        "§2.2",
        "weekly -> array, days as cron keys",
        {"trigger": {"schedule": {"weekly": {"on": "friday", "at": "17:00"}}}},
        {"watch.trigger.schedule.weekly": [{"on": ["FRI"], "at": ["17:00"]}]},
    ),
    Rule(
        "S10",
        "§2.2",
        "monthly on -> sorted unique ints",
        {"trigger": {"schedule": {"monthly": {"on": [15, 1, "last_day"], "at": "noon"}}}},
        {"watch.trigger.schedule.monthly": [{"on": [1, 15, 32], "at": ["noon"]}]},
    ),
    Rule(
        "S11",
        "§2.2",
        "yearly -> array of {in, on, at}: months JAN..DEC, days sorted ints",
        {
            "trigger": {
                "schedule": {
                    "yearly": {"at": "noon", "on": ["last_day", 15, 15], "in": ["dec", 3, "jan"]}
                }
            }
        },
        {
            "watch.trigger.schedule.yearly": [
                {"in": ["JAN", "MAR", "DEC"], "on": [15, 32], "at": ["noon"]}
            ]
        },
    ),
    Rule(
        "S12",
        "§2.2",
        "times are a set: duplicates removed",
        {"trigger": {"schedule": {"weekly": {"on": "mon", "at": ["17:00", "17:00"]}}}},
        {"watch.trigger.schedule.weekly": [{"on": ["MON"], "at": ["17:00"]}]},
    ),
    Rule(
        "S13",
        "§2.2",
        "unknown keys inside an at object dropped",
        {"trigger": {"schedule": {"daily": {"at": {"hour": 9, "foo": 1}}}}},
        {"watch.trigger.schedule.daily": {"at": [{"hour": [9], "minute": [0]}]}},
    ),
    Rule(
        "S14",
        "§2.2",
        "timezone kept, in canonical case (9.x)",
        {"trigger": {"schedule": {"cron": "0 0 12 * * ?", "timezone": "america/los_angeles"}}},
        {"watch.trigger.schedule.timezone": "America/Los_Angeles"},
        min_major=9,
    ),
    # §2.3 search requests
    Rule(
        "Q1",
        "§2.3",
        "search_type default, lower-cased",
        _search({"search_type": "DFS_query_then_fetch"}),
        {f"{_REQ}.search_type": "dfs_query_then_fetch"},
    ),
    Rule("Q2", "§2.3", "indices default []", _search({}), {f"{_REQ}.indices": []}),
    Rule(
        "Q3",
        "§2.3",
        "indices string split on commas",
        _search({"indices": "a, b"}),
        {f"{_REQ}.indices": ["a", "b"]},
    ),
    Rule(
        "Q4",
        "§2.3",
        "rest_total_hits_as_int default true",
        _search({}),
        {f"{_REQ}.rest_total_hits_as_int": True},
    ),
    Rule("Q5", "§2.3", "empty types dropped", _search({"types": []}), {f"{_REQ}.types": ABSENT}),
    Rule(
        "Q6",
        "§2.3",
        "body kept raw and unvalidated",
        _search({"body": {"query": {"does_not_exist": {}}, "size": 0}}),
        {f"{_REQ}.body": {"query": {"does_not_exist": {}}, "size": 0}},
    ),
    Rule(
        "Q7",
        "§2.3",
        "default indices_options dropped",
        _search({"indices_options": {"ignore_unavailable": True}}),
        {f"{_REQ}.indices_options": ABSENT},
    ),
    Rule(
        "Q8",
        "§2.3",
        "partial indices_options expanded to the full set",
        _search({"indices_options": {"allow_no_indices": False}}),
        {
            f"{_REQ}.indices_options": Keys(
                ("ignore_unavailable", "expand_wildcards", "allow_no_indices", "ignore_throttled")
            ),
            f"{_REQ}.indices_options.expand_wildcards": ["open"],
        },
    ),
    Rule(
        "Q9",
        "§2.3",
        "template gains lang mustache",
        _search({"template": {"source": {"query": {"match_all": {}}}}}),
        {
            f"{_REQ}.template": {
                "source": {"query": {"match_all": {}}},
                "lang": "mustache",
                "options": {"content_type": "application/json"},
            }
        },
    ),
    Rule(
        "Q10",
        "§2.3",
        "key order of the request",
        _search({"body": {}, "indices": ["x"], "search_type": "query_then_fetch"}),
        {_REQ: Keys(("search_type", "indices", "rest_total_hits_as_int", "body"))},
    ),
    Rule(
        "Q11",
        "§2.3",
        "timeout -> timeout_in_millis",
        _search({}, timeout="30s"),
        {"watch.input.search.timeout_in_millis": 30000},
    ),
    Rule(
        "Q12",
        "§2.3",
        "extract is a set",
        _search({}, extract=["hits.total", "hits.total"]),
        {"watch.input.search.extract": ["hits.total"]},
    ),
    Rule(
        "Q13",
        "§2.3",
        "dynamic_name_timezone kept",
        _search({}, dynamic_name_timezone="+01:00"),
        {"watch.input.search.dynamic_name_timezone": "+01:00"},
    ),
    # §2.4 conditions
    Rule(
        "C1",
        "§2.4",
        "empty condition rejected",
        {"condition": {}},
        Rejected("parse_exception", "missing required condition type field"),
    ),
    Rule(
        "C2",
        "§2.4",
        "several condition types: the last wins",
        {"condition": {"never": {}, "always": {}}},
        {"watch.condition": {"always": {}}},
    ),
    Rule(
        "C3",
        "§2.4",
        "compare operator lower-cased",
        {"condition": {"compare": {"ctx.payload.x": {"GT": 5}}}},
        {"watch.condition.compare": {"ctx.payload.x": {"gt": 5}}},
    ),
    Rule(
        "C4",
        "§2.4",
        "compare with two paths keeps the last",
        {"condition": {"compare": {"ctx.payload.a": {"eq": 1}, "ctx.payload.b": {"eq": 2}}}},
        {"watch.condition.compare": {"ctx.payload.b": {"eq": 2}}},
    ),
    Rule(
        "C5",
        "§2.4",
        "script shorthand -> source + painless",
        {"condition": {"script": "return true"}},
        {"watch.condition.script": {"source": "return true", "lang": "painless"}},
    ),
    Rule(
        "C6",
        "§2.4",
        "script object gains lang, empty params omitted",
        {"condition": {"script": {"source": "return true", "params": {}}}},
        {"watch.condition.script": {"source": "return true", "lang": "painless"}},
    ),
    Rule(
        "C7",
        "§2.4",
        "stored script has no lang",
        {"condition": {"script": {"id": "stored"}}},
        {"watch.condition.script": {"id": "stored"}},
    ),
    Rule(
        "C9",
        "§2.4",
        "always/never are {}",
        {"condition": {"never": {}}},
        {"watch.condition": {"never": {}}},
    ),
    Rule(
        "C10",
        "§2.4",
        "array_compare operator lower-cased [uncertain]",
        {"condition": {"array_compare": {"ctx.payload.xs": {"path": "v", "GTE": {"value": 1}}}}},
        {"watch.condition.array_compare": {"ctx.payload.xs": {"path": "v", "gte": {"value": 1}}}},
    ),
    # §2.5 transforms
    Rule(
        "TR1",
        "§2.5",
        "search transform gets request defaults",
        {"transform": {"search": {"request": {"indices": "x"}}}},
        {
            "watch.transform.search.request": {
                "search_type": "query_then_fetch",
                "indices": ["x"],
                "rest_total_hits_as_int": True,
            }
        },
    ),
    # §2.6 actions
    Rule(
        "A1",
        "§2.6",
        "action throttle_period -> millis",
        {"actions": {"a": {"throttle_period": "10s", **_LOG}}},
        {
            "watch.actions.a.throttle_period_in_millis": 10000,
            "watch.actions.a.throttle_period": ABSENT,
        },
    ),
    Rule(
        "A2",
        "§2.6",
        "foreach gains max_iterations 100",
        {"actions": {"a": {"foreach": "ctx.payload.hits.hits", **_LOG}}},
        {"watch.actions.a.max_iterations": 100},
    ),
    Rule(
        "A3",
        "§2.6",
        "action transform {} dropped",
        {"actions": {"a": {"transform": {}, **_LOG}}},
        {"watch.actions.a.transform": ABSENT},
    ),
    Rule(
        "A4",
        "§2.6",
        "key order inside an action",
        {
            "actions": {
                "a": {
                    **_LOG,
                    "foreach": "ctx.payload.x",
                    "transform": {"script": "x"},
                    "condition": {"always": {}},
                    "throttle_period": "1s",
                }
            }
        },
        {
            "watch.actions.a": Keys(
                (
                    "throttle_period_in_millis",
                    "condition",
                    "transform",
                    "foreach",
                    "max_iterations",
                    "logging",
                )
            )
        },
    ),
    Rule(
        "A5",
        "§2.6",
        "action order preserved",
        {"actions": {"z": _LOG, "a": _LOG, "m": _LOG}},
        {"watch.actions": Keys(("z", "a", "m"))},
    ),
    Rule(
        "A6",
        "§2.6",
        "whitespace in action id rejected",
        {"actions": {"my action": _LOG}},
        Rejected("parse_exception", "id contains whitespace"),
    ),
    Rule(
        "A7",
        "§2.6",
        "unknown action type rejected",
        {"actions": {"a": {"carrier_pigeon": {}}}},
        Rejected(
            "parse_exception",
            "could not parse action [rule-a7/a]. unknown action type [carrier_pigeon]",
        ),
    ),
    # §2.7 scripts and templates
    Rule(
        "SC1",
        "§2.7",
        "a text template string stays a string",
        {"actions": {"a": {"logging": {"text": "{{ctx.watch_id}}"}}}},
        {"watch.actions.a.logging.text": "{{ctx.watch_id}}"},
    ),
    Rule(
        "SC2",
        "§2.7",
        "an object template gains lang mustache",
        {"actions": {"a": {"logging": {"text": {"source": "x"}}}}},
        {"watch.actions.a.logging.text": {"source": "x", "lang": "mustache"}},
    ),
    Rule(
        "SC3",
        "§2.7",
        "object source gains the JSON content type",
        {"actions": {"a": {"logging": {"text": {"source": {"k": "v"}}}}}},
        {
            "watch.actions.a.logging.text": {
                "source": {"k": "v"},
                "lang": "mustache",
                "options": {"content_type": "application/json"},
            }
        },
    ),
    # §2.8 logging / index / email / webhook
    Rule(
        "LOG1",
        "§2.8",
        "logging level default info, lower-cased",
        {"actions": {"a": {"logging": {"text": "t", "level": "WARN"}}}},
        {"watch.actions.a.logging": {"level": "warn", "text": "t"}},
    ),
    Rule(
        "LOG2",
        "§2.8",
        "logging without text rejected",
        {"actions": {"a": {"logging": {}}}},
        Rejected("parse_exception", "missing required [text] field"),
    ),
    Rule(
        "IDX1",
        "§2.8",
        "index timeout -> timeout_in_millis",
        {"actions": {"a": {"index": {"index": "x", "timeout": "5s"}}}},
        {"watch.actions.a.index": {"index": "x", "timeout_in_millis": 5000}},
    ),
    Rule("EM1", "§2.8", "email to string -> list", _mail(), {f"{_MAIL}.to": ["ops@example.com"]}),
    Rule("EM2", "§2.8", "email profile standard added", _mail(), {f"{_MAIL}.profile": "standard"}),
    Rule(
        "EM3",
        "§2.8",
        "email body string -> {text}",
        _mail(body="hello"),
        {f"{_MAIL}.body": {"text": "hello"}},
    ),
    Rule(
        "EM4",
        "§2.8",
        "attach_data true -> yaml format",
        _mail(attach_data=True),
        {f"{_MAIL}.attach_data": {"format": "yaml"}},
    ),
    Rule(
        "EM5",
        "§2.8",
        "invalid literal address rejected",
        _mail(to="not-an-address"),
        Rejected("parse_exception", "invalid email address [not-an-address]"),
    ),
    Rule(
        "EM6",
        "§2.8",
        "email password redacted",
        _mail(password="secret"),
        {f"{_MAIL}.password": "::es_redacted::"},
    ),
    Rule(
        "W1",
        "§2.8",
        "url decomposed",
        _hook(url="https://h:8443/p?a=1"),
        {
            _HOOK: {
                "scheme": "https",
                "host": "h",
                "port": 8443,
                "method": "get",
                "path": "/p",
                "params": {"a": "1"},
                "headers": {},
            }
        },
    ),
    Rule(
        "W2",
        "§2.8",
        "scheme/method defaults, lower-cased",
        _hook(host="h", port=80, method="POST"),
        {f"{_HOOK}.scheme": "http", f"{_HOOK}.method": "post"},
    ),
    Rule(
        "W3",
        "§2.8",
        "params and headers always present",
        _hook(host="h", port=80),
        {f"{_HOOK}.params": {}, f"{_HOOK}.headers": {}},
    ),
    Rule(
        "W4",
        "§2.8",
        "headers kept as an unordered map",
        _hook(host="h", port=80, headers={"b": "2", "a": "1"}),
        {f"{_HOOK}.headers": {"a": "1", "b": "2"}},
    ),
    Rule(
        "W5",
        "§2.8",
        "timeouts -> millis (read_timeout_millis)",
        _hook(host="h", port=80, connection_timeout="5s", read_timeout="10s"),
        {f"{_HOOK}.connection_timeout_in_millis": 5000, f"{_HOOK}.read_timeout_millis": 10000},
    ),
    Rule(
        "W6",
        "§2.8",
        "Authorization header redacted",
        _hook(host="h", port=80, headers={"authorization": "Basic eDp5"}),
        {f"{_HOOK}.headers.authorization": "::es_redacted::"},
    ),
    Rule(
        "W7",
        "§2.8",
        "basic auth password redacted",
        _hook(host="h", port=80, auth={"basic": {"username": "u", "password": "p"}}),
        {f"{_HOOK}.auth.basic": {"username": "u", "password": "::es_redacted::"}},
    ),
    Rule(
        "W8",
        "§2.8",
        "key order of a request",
        _hook(
            body="b",
            auth={"basic": {"username": "u", "password": "p"}},
            path="/x",
            method="put",
            port=80,
            host="h",
            read_timeout="1s",
        ),
        {
            _HOOK: Keys(
                (
                    "scheme",
                    "host",
                    "port",
                    "method",
                    "path",
                    "params",
                    "headers",
                    "auth",
                    "body",
                    "read_timeout_millis",
                )
            )
        },
    ),
    Rule(
        "W9",
        "§2.8",
        "missing host rejected",
        _hook(port=80),
        Rejected("parse_exception", "failed parsing http request template"),
    ),
    Rule(
        "W10",
        "§2.8",
        "PATCH rejected",
        _hook(host="h", port=80, method="PATCH"),
        Rejected("parse_exception", "failed parsing http request template"),
    ),
    Rule(
        "PX1",
        "§2.8",
        "proxy: host, port (an int), scheme lower-cased; other keys dropped",
        _hook(host="h", port=80, proxy={"host": "p", "port": "3128", "scheme": "HTTP", "x": 1}),
        {f"{_HOOK}.proxy": {"host": "p", "port": 3128, "scheme": "http"}},
    ),
    Rule(
        "SL1",
        "§2.8",
        "slack: to / attachments / fields / mrkdwn_in single values -> arrays",
        _action(
            "slack",
            message={
                "to": "#ops",
                "attachments": {"title": "t", "fields": _FIELD, "mrkdwn_in": "text"},
            },
        ),
        {
            f"{_SLACK}.message": {
                "to": ["#ops"],
                "attachments": [
                    {"title": "t", "fields": [{**_FIELD, "short": False}], "mrkdwn_in": ["text"]}
                ],
            }
        },
    ),
    Rule(
        "SL2",
        "§2.8",
        "slack: attachment field short defaults to false",
        _action("slack", message={"attachments": [{"fields": [_FIELD]}]}),
        {f"{_SLACK}.message.attachments": [{"fields": [{**_FIELD, "short": False}]}]},
    ),
    Rule(
        "SL3",
        "§2.8",
        "slack: buttons get all five keys, absent ones null; empty lists dropped",
        _action(
            "slack",
            message={"to": [], "attachments": [{"actions": {"type": "button", "text": "Go"}}]},
        ),
        {
            f"{_SLACK}.message": {
                "attachments": [
                    {
                        "actions": [
                            {
                                "name": None,
                                "style": None,
                                "type": "button",
                                "text": "Go",
                                "url": None,
                            }
                        ]
                    }
                ]
            }
        },
    ),
    Rule(
        "PD1",
        "§2.8",
        "pagerduty: context (the pre-6.0 name) stored as contexts",
        _action("pagerduty", description="d", context=[{"type": "link", "href": "https://x"}]),
        {f"{_PD}.contexts": [{"type": "link", "href": "https://x"}], f"{_PD}.context": ABSENT},
    ),
    Rule(
        "PD2",
        "§2.8",
        "pagerduty: context type lower-cased and written first",
        _action("pagerduty", description="d", contexts=[{"src": "https://i", "type": "IMAGE"}]),
        {f"{_PD}.contexts": [{"type": "image", "src": "https://i"}]},
    ),
    Rule(
        "PD3",
        "§2.8",
        "pagerduty: description always written, null when absent",
        _action("pagerduty", event_type="trigger"),
        {_PD: {"description": None, "event_type": "trigger"}},
    ),
    Rule(
        "JI1",
        "§2.8",
        "jira: fields default {}",
        _action("jira", account="ops"),
        {"watch.actions.a.jira": {"account": "ops", "fields": {}}},
    ),
    # §2.10 secrets
    Rule(
        "SEC1",
        "§2.10",
        "redacted password refused without CAS",
        _hook(host="h", port=80, auth={"basic": {"username": "u", "password": "::es_redacted::"}}),
        Rejected("parse_exception", "found redacted password in field [password]"),
    ),
)
