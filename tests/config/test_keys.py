"""Every key of an environment file, one test each: what it does to the Environment and the watch."""
# ruff: noqa: E501  (inline environment files read better as one string per case)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.config.support import env_from, rule, rule_file, write
from watchmgr import config
from watchmgr.config import (
    ElasticsearchTarget,
    Environment,
    SandboxTarget,
    connection_params,
    load_environment,
)
from watchmgr.selection import LOGSOURCE_KEYS
from watchmgr.settings import EmailAction, IndexAction, LoggingAction, WatchSettings, WebhookAction
from watchmgr.watch import render_rules

ES = "elasticsearch:\n  hosts: [https://es.example.com:9200]\n"
SB = "sandbox: {}\n"


def settings(env: Environment, **changes: Any) -> WatchSettings:
    result = env.settings_for(rule(**changes))
    assert result is not None
    return result


def body(env: Environment, **changes: Any) -> dict[str, Any]:
    rendered = render_rules([env.prepare(rule(**changes))], env.settings_for)
    assert not rendered.diagnostics, rendered.diagnostics
    (watch,) = rendered.watches
    return watch.body


def es(env: Environment) -> ElasticsearchTarget:
    assert isinstance(env.target, ElasticsearchTarget)
    return env.target


def email(env: Environment) -> EmailAction:
    (action,) = env.watch.actions
    assert isinstance(action, EmailAction)
    return action


def selected(env: Environment, **changes: Any) -> bool:
    return env.selects(rule(**changes))


EMAIL = SB + "watch:\n  actions:\n    mail:\n      email:\n        to: soc@example.com\n"
HOOK = (
    SB + "watch:\n  actions:\n    hook:\n      webhook:\n        url: https://soar.example.com/in\n"
)

#: (dotted key, environment file, check)
KEY_CASES: list[tuple[str, str, Callable[[Environment], bool]]] = [
    ("elasticsearch", ES, lambda e: isinstance(e.target, ElasticsearchTarget)),
    ("sandbox", SB, lambda e: e.target == SandboxTarget(location=e.target.location)),
    ("rules", SB + "rules: {}\n", lambda e: e.rules.paths == ("rules/",)),
    ("mapping", SB + "mapping: {}\n", lambda e: e.pipeline is None and e.indices.default == ()),
    ("watch", SB + "watch: {}\n", lambda e: e.watch == WatchSettings()),
    ("description", SB + "description: Team sandbox\n", lambda e: e.description == "Team sandbox"),
    ("prune", SB + "prune: false\n", lambda e: e.prune is False),
    (
        "respect_remote_active",
        SB + "respect_remote_active: true\n",
        lambda e: e.respect_remote_active is True,
    ),
    (
        "mapping.keyword_suffix",
        SB + "mapping:\n  keyword_suffix: ''\n",
        lambda e: e.watch.keyword_suffix == "" and WatchSettings().keyword_suffix == ".keyword",
    ),
    (
        "elasticsearch.hosts",
        "elasticsearch:\n  hosts: [https://a:9200, http://b:9200]\n",
        lambda e: es(e).hosts == ("https://a:9200", "http://b:9200"),
    ),
    (
        "elasticsearch.cloud_id",
        "elasticsearch:\n  cloud_id: 'prod:ZXUtd2VzdC0x'\n",
        lambda e: (
            es(e).cloud_id == "prod:ZXUtd2VzdC0x" and "Elastic Cloud prod" in es(e).describe()
        ),
    ),
    (
        "elasticsearch.api_key_env",
        ES + "  api_key_env: K\n",
        lambda e: (
            # Kibana's base64 "encoded" value goes to the client as is; "id:key" as a pair.
            connection_params(e, {"K": "s3cr3t=="}).client_kwargs()["api_key"] == "s3cr3t=="
            and connection_params(e, {"K": "VuaC:ui2l"}).client_kwargs()["api_key"]
            == ("VuaC", "ui2l")
        ),
    ),
    (
        "elasticsearch.username_env",
        ES + "  username_env: U\n  password_env: P\n",
        lambda e: (
            connection_params(e, {"U": "u1", "P": "p1"}).client_kwargs()["basic_auth"]
            == ("u1", "p1")
        ),
    ),
    (
        "elasticsearch.password_env",
        ES + "  password_env: P\n  username_env: U\n",
        lambda e: es(e).auth is not None and es(e).auth.method == "basic",  # type: ignore[union-attr]
    ),
    (
        "elasticsearch.bearer_token_env",
        ES + "  bearer_token_env: T\n",
        lambda e: connection_params(e, {"T": "tok"}).client_kwargs()["bearer_auth"] == "tok",
    ),
    (
        "elasticsearch.ca_certs",
        ES + "  ca_certs: certs/ca.pem\n",
        lambda e: es(e).ca_certs == "certs/ca.pem",
    ),
    (
        "elasticsearch.ca_certs_env",
        ES + "  ca_certs_env: WATCHMGR_CA\n",
        lambda e: es(e).ca_certs_env == "WATCHMGR_CA",
    ),
    (
        "elasticsearch.ssl_assert_fingerprint",
        ES + "  ssl_assert_fingerprint: '" + ":".join(["AB"] * 32) + "'\n",
        lambda e: (
            connection_params(e, {}).client_kwargs()["ssl_assert_fingerprint"]
            == ":".join(["AB"] * 32)
        ),
    ),
    (
        "elasticsearch.verify_certs",
        ES + "  verify_certs: false\n",
        lambda e: (
            not es(e).verify_certs
            and [w.severity for w in e.warnings] == ["warning"]
            and "verify_certs is false" in e.warnings[0].message
        ),
    ),
    (
        "elasticsearch.request_timeout",
        ES + "  request_timeout: 45\n",
        lambda e: connection_params(e, {}).client_kwargs()["request_timeout"] == 45.0,
    ),
    (
        "elasticsearch.cluster_uuid",
        ES + "  cluster_uuid: Xk3m9QpLTa2Zs8vYbN4wRg\n",
        lambda e: connection_params(e, {}).cluster_uuid == "Xk3m9QpLTa2Zs8vYbN4wRg",
    ),
    (
        "sandbox.state",
        "sandbox:\n  state: .watchmgr/team.json\n",
        lambda e: (
            isinstance(e.target, SandboxTarget)
            and e.target.state == ".watchmgr/team.json"
            and config.sandbox_state_path(e) == e.root / ".watchmgr/team.json"
        ),
    ),
    (
        "rules.paths",
        SB + "rules:\n  paths: [rules/windows/, rules/linux/x.yml]\n",
        lambda e: (
            selected(e)
            and not e.selects(rule(path="rules/cloud/aws.yml"))
            and e.selects(rule(path="rules/linux/x.yml"))
            and not e.selects(rule(path="rules/linux/x.yml.bak"))
            and e.rule_paths() == (e.root / "rules/windows/", e.root / "rules/linux/x.yml")
        ),
    ),
    (
        "rules.exclude",
        SB + "rules:\n  exclude: ['rules/**/deprecated/', '*_wip.yml']\n",
        lambda e: (
            selected(e)
            and not e.selects(rule(path="rules/windows/deprecated/old.yml"))
            and not e.selects(rule(path="rules/windows/a/b_wip.yml"))
        ),
    ),
    (
        "rules.min_level",
        SB + "rules:\n  min_level: high\n",
        lambda e: (
            selected(e, level="high")
            and selected(e, level="critical")
            and not selected(e, level="medium")
            and not selected(e, level=None)
        ),
    ),
    (
        "rules.status",
        SB + "rules:\n  status: [stable, test]\n",
        lambda e: (
            selected(e, status="test")
            and not selected(e, status="experimental")
            and not selected(e, status=None)
        ),
    ),
    (
        "rules.tags",
        SB + "rules:\n  tags: {any: [attack.t1033]}\n",
        lambda e: selected(e) and not selected(e, tags=["attack.t1059"]),
    ),
    (
        "rules.tags.any",
        SB + "rules:\n  tags:\n    any: [attack.t1059, ATTACK.DISCOVERY]\n",
        lambda e: (
            selected(e) and not selected(e, tags=["attack.t1003"]) and not selected(e, tags=None)
        ),
    ),
    (
        "rules.tags.all",
        SB + "rules:\n  tags:\n    all: [attack.discovery, attack.t1033]\n",
        lambda e: selected(e) and not selected(e, tags=["attack.discovery"]),
    ),
    (
        "rules.logsource",
        SB + "rules:\n  logsource: {product: windows}\n",
        lambda e: selected(e) and not selected(e, logsource={"product": "linux"}),
    ),
    (
        "rules.logsource.product",
        SB + "rules:\n  logsource:\n    product: [linux, Windows]\n",
        lambda e: selected(e) and not selected(e, logsource={"product": "macos"}),
    ),
    (
        "rules.logsource.category",
        SB + "rules:\n  logsource:\n    category: process_creation\n",
        lambda e: (
            selected(e) and not selected(e, logsource={"product": "windows", "category": "dns"})
        ),
    ),
    (
        "rules.logsource.service",
        SB + "rules:\n  logsource:\n    service: [sysmon]\n",
        lambda e: (
            not selected(e) and selected(e, logsource={"product": "windows", "service": "sysmon"})
        ),
    ),
    (
        "mapping.pipelines",
        SB + "mapping:\n  pipelines: [ecs_windows, pipelines/rename.yml]\n",
        lambda e: (
            e.pipelines == ("ecs_windows", "pipelines/rename.yml")
            and "process.command_line.keyword:(/.*\\/[aA][lL][lL].*/ OR /.*\\/[pP][rR][iI][vV].*/)"
            in body(e)["metadata"]["query"]
            and "proc.exe.keyword:/.*\\\\[wW][hH][oO][aA][mM][iI]\\.[eE][xX][eE]/"
            in body(e)["metadata"]["query"]
        ),
    ),
    (
        "mapping.placeholders",
        SB + "mapping:\n  placeholders:\n    admin_tools: [whoami.exe, 'net.exe']\n",
        lambda e: (
            "Image.keyword:(/.*[wW][hH][oO][aA][mM][iI]\\.[eE][xX][eE]/ OR /.*[nN][eE][tT]\\.[eE][xX][eE]/)"
            in body(
                e, detection={"sel": {"Image|endswith|expand": "%admin_tools%"}, "condition": "sel"}
            )["metadata"]["query"]
        ),
    ),
    (
        "mapping.indices",
        SB + "mapping:\n  indices: {default: [logs-*]}\n",
        lambda e: body(e)["input"]["search"]["request"]["indices"] == ["logs-*"],
    ),
    (
        "mapping.indices.default",
        SB + "mapping:\n  indices:\n    default: logs-*\n    by_logsource:\n"
        "      - {product: linux, indices: [auditbeat-*]}\n",
        lambda e: settings(e).indices == ("logs-*",),
    ),
    (
        "mapping.indices.by_logsource",
        SB + "mapping:\n  indices:\n    default: [logs-*]\n    by_logsource:\n"
        "      - {product: windows, indices: [winlogbeat-*]}\n"
        "      - {product: windows, category: process_creation, indices: [logs-endpoint.events.process-*]}\n"
        "      - {category: process_creation, indices: [never-less-specific-*]}\n"
        "      - {product: Windows, category: process_creation, indices: [never-second-*]}\n",
        lambda e: (
            settings(e).indices == ("logs-endpoint.events.process-*",)
            and settings(e, logsource={"product": "windows", "service": "security"}).indices
            == ("winlogbeat-*",)
            and settings(e, logsource={"product": "linux"}).indices == ("logs-*",)
        ),
    ),
    (
        "watch.id_scheme",
        SB + "watch:\n  id_scheme: sigma-id\n",
        lambda e: _watch_id(e) == "8de1cbe8-d6f5-496d-8237-5f44a721c7a0",
    ),
    (
        "watch.id_prefix",
        SB + "watch:\n  id_prefix: prod-\n",
        lambda e: _watch_id(e) == "prod-Suspicious-Whoami-Execution",
    ),
    (
        "watch.interval",
        SB + "watch:\n  interval: 10m\n",
        lambda e: body(e)["trigger"]["schedule"]["interval"] == "10m",
    ),
    (
        "watch.range",
        SB + "watch:\n  range: now-1h/m\n",
        lambda e: (
            body(e)["input"]["search"]["request"]["body"]["query"]["bool"]["filter"]
            == {"range": {"timestamp": {"gte": "now-1h/m"}}}
        ),
    ),
    (
        "watch.timestamp_field",
        SB + "watch:\n  timestamp_field: '@timestamp'\n",
        lambda e: (
            "@timestamp"
            in body(e)["input"]["search"]["request"]["body"]["query"]["bool"]["filter"]["range"]
        ),
    ),
    (
        "watch.throttle_period",
        SB + "watch:\n  throttle_period: 90s\n",
        lambda e: body(e)["throttle_period"] == "90s",
    ),
    ("watch.active", SB + "watch:\n  active: false\n", lambda e: not _watches(e)[0].active),
    (
        "watch.dialect",
        SB + "watch:\n  dialect: sigmac-2020\n",
        lambda e: settings(e).dialect == "sigmac-2020",
    ),
    (
        "watch.actions",
        SB
        + "watch:\n  actions:\n    log:\n      logging: {}\n    keep:\n      index: {index: alerts}\n",
        lambda e: list(body(e)["actions"]) == ["log", "keep"],  # the seed's e-mail is replaced
    ),
    (
        "watch.by_level",
        SB + "watch:\n  interval: 30m\n  by_level:\n    high: {interval: 5m, active: false}\n"
        "    low: {interval: 1h}\n",
        lambda e: (
            settings(e).interval == "5m"
            and not settings(e).active
            and settings(e, level="low").interval == "1h"
            and settings(e, level="medium").interval == "30m"
        ),
    ),
    (
        "watch.actions.email",
        EMAIL,
        lambda e: body(e)["actions"]["mail"]["email"]["to"] == "soc@example.com",
    ),
    (
        "watch.actions.email.to",
        EMAIL.replace("to: soc@example.com", "to: [a@example.com, 'SOC <soc@example.com>']"),
        lambda e: email(e).to == ("a@example.com", "SOC <soc@example.com>"),
    ),
    (
        "watch.actions.email.cc",
        EMAIL + "        cc: [lead@example.com]\n",
        lambda e: email(e).cc == ("lead@example.com",),
    ),
    (
        "watch.actions.email.bcc",
        EMAIL + "        bcc: archive@example.com\n",
        lambda e: email(e).bcc == ("archive@example.com",),
    ),
    (
        "watch.actions.email.subject",
        EMAIL + '        subject: "[prod] {title}"\n',
        lambda e: (
            body(e)["actions"]["mail"]["email"]["subject"] == "[prod] Suspicious Whoami Execution"
        ),
    ),
    (
        "watch.actions.email.body",
        EMAIL + '        body: "{{ctx.payload.hits.total}} hits"\n',
        lambda e: body(e)["actions"]["mail"]["email"]["body"] == "{{ctx.payload.hits.total}} hits",
    ),
    (
        "watch.actions.email.attachments",
        EMAIL + "        attachments: false\n",
        lambda e: "attachments" not in body(e)["actions"]["mail"]["email"],
    ),
    (
        "watch.actions.email.profile",
        EMAIL + "        profile: Outlook\n",
        lambda e: body(e)["actions"]["mail"]["email"]["profile"] == "outlook",
    ),
    (
        "watch.actions.email.from",
        EMAIL + "        from: watcher@example.com\n",
        lambda e: body(e)["actions"]["mail"]["email"]["from"] == "watcher@example.com",
    ),
    (
        "watch.actions.webhook",
        HOOK,
        lambda e: (
            body(e)["actions"]["hook"]["webhook"]
            == {
                "method": "post",
                "url": "https://soar.example.com/in",
                "headers": {"Content-Type": "application/json"},
                "body": "{{#toJson}}ctx.payload{{/toJson}}",
            }
        ),
    ),
    (
        "watch.actions.webhook.url",
        HOOK,
        lambda e: (
            isinstance(e.watch.actions[0], WebhookAction) and e.watch.actions[0].url.endswith("/in")
        ),
    ),
    (
        "watch.actions.webhook.method",
        HOOK + "        method: PUT\n",
        lambda e: body(e)["actions"]["hook"]["webhook"]["method"] == "put",
    ),
    (
        "watch.actions.webhook.headers",
        HOOK + "        headers: {Content-Type: application/json, X-Source: watchmgr}\n",
        lambda e: (
            body(e)["actions"]["hook"]["webhook"]["headers"]
            == {"Content-Type": "application/json", "X-Source": "watchmgr"}
        ),
    ),
    (
        "watch.actions.webhook.body",
        HOOK + '        body: \'{"id": "{{ctx.watch_id}}"}\'\n',
        lambda e: body(e)["actions"]["hook"]["webhook"]["body"] == '{"id": "{{ctx.watch_id}}"}',
    ),
    (
        "watch.actions.index",
        SB + "watch:\n  actions:\n    keep:\n      index: {index: sigma-alerts}\n",
        lambda e: body(e)["actions"]["keep"] == {"index": {"index": "sigma-alerts"}},
    ),
    (
        "watch.actions.index.index",
        SB + "watch:\n  actions:\n    keep:\n      index:\n        index: alerts-2\n",
        lambda e: e.watch.actions == (IndexAction(index="alerts-2", name="keep"),),
    ),
    (
        "watch.actions.logging",
        SB + "watch:\n  actions:\n    log:\n      logging: {}\n",
        lambda e: e.watch.actions == (LoggingAction(name="log"),),
    ),
    (
        "watch.actions.logging.text",
        SB + "watch:\n  actions:\n    log:\n      logging: {text: 'hit {title}'}\n",
        lambda e: body(e)["actions"]["log"]["logging"]["text"] == "hit Suspicious Whoami Execution",
    ),
    (
        "watch.actions.logging.level",
        SB + "watch:\n  actions:\n    log:\n      logging: {level: WARN}\n",
        lambda e: body(e)["actions"]["log"]["logging"]["level"] == "warn",
    ),
    (
        "overrides",
        SB + "overrides:\n  - match: {id: 8DE1CBE8-D6F5-496D-8237-5F44A721C7A0}\n    interval: 1m\n"
        "  - match: {id: 00000000-0000-0000-0000-000000000000}\n    interval: 2m\n",
        lambda e: settings(e).interval == "1m",
    ),
    (
        "overrides.match",
        SB + "overrides:\n  - match: {path: 'rules/windows/*'}\n    interval: 1m\n",
        lambda e: (
            settings(e).interval == "1m"
            and settings(e).interval
            == e.settings_for(rule(path="rules/windows/proc_whoami.yml")).interval  # type: ignore[union-attr]
            and e.settings_for(rule(path="rules/windows/sub/x.yml")).interval == "30m"
        ),  # type: ignore[union-attr]
    ),
    (
        "overrides.match.id",
        SB
        + "overrides:\n  - match:\n      id: 8de1cbe8-d6f5-496d-8237-5f44a721c7a0\n    skip: true\n",
        lambda e: (
            e.settings_for(rule()) is None
            and e.settings_for(rule(id="1" * 8 + "-1111-1111-1111-" + "1" * 12)) is not None
        ),
    ),
    (
        "overrides.match.path",
        SB + "overrides:\n  - match:\n      path: rules/**/proc_*.yml\n    active: false\n",
        lambda e: not settings(e).active and e.settings_for(rule(path="rules/x/other.yml")).active,  # type: ignore[union-attr]
    ),
    (
        "overrides.reason",
        SB + "overrides:\n  - match: {path: x}\n    reason: SOC-1234\n    skip: true\n",
        lambda e: e.overrides[0].reason == "SOC-1234",
    ),
    (
        "overrides.skip",
        SB + "overrides:\n  - match: {path: 'rules/windows/*'}\n    skip: true\n",
        lambda e: e.selects(rule()) and e.settings_for(rule()) is None and not _watches(e),
    ),
    (
        "overrides.active",
        SB + "overrides:\n  - match: {path: 'rules/windows/*'}\n    active: false\n",
        lambda e: _watches(e)[0].active is False,
    ),
    (
        "overrides.indices",
        SB + "mapping:\n  indices: {default: [logs-*]}\n"
        "overrides:\n  - match: {path: 'rules/windows/*'}\n    indices: [special-*]\n",
        lambda e: settings(e).indices == ("special-*",),
    ),
    (
        "overrides.id_scheme",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    id_scheme: sigma-id\n",
        lambda e: _watch_id(e).startswith("8de1cbe8"),
    ),
    (
        "overrides.id_prefix",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    id_prefix: x-\n",
        lambda e: _watch_id(e).startswith("x-"),
    ),
    (
        "overrides.interval",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    interval: 2h\n",
        lambda e: settings(e).interval == "2h",
    ),
    (
        "overrides.range",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    range: now-2h\n",
        lambda e: settings(e).range == "now-2h",
    ),
    (
        "overrides.timestamp_field",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    timestamp_field: event.created\n",
        lambda e: settings(e).timestamp_field == "event.created",
    ),
    (
        "overrides.throttle_period",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    throttle_period: '0'\n",
        lambda e: settings(e).throttle_period == "0",
    ),
    (
        "overrides.dialect",
        SB + "overrides:\n  - match: {path: '*.yml'}\n    dialect: sigmac-2020\n",
        lambda e: settings(e).dialect == "sigmac-2020",
    ),
    (
        "overrides.actions",
        SB
        + "watch:\n  actions:\n    mail: {email: {to: soc@example.com}}\n    log: {logging: {}}\n"
        "overrides:\n  - match: {path: '*.yml'}\n    actions:\n      mail: {email: {to: iam@example.com}}\n"
        "      log: null\n      hook: {webhook: {url: 'https://x.example.com/'}}\n",
        lambda e: (
            [a.name for a in settings(e).actions] == ["mail", "hook"]
            and settings(e).actions[0] == EmailAction(name="mail", to=("iam@example.com",))
        ),
    ),
]


def _watches(env: Environment) -> tuple[Any, ...]:
    rendered = render_rules([env.prepare(rule())], env.settings_for)
    assert not rendered.diagnostics, rendered.diagnostics
    return rendered.watches


def _watch_id(env: Environment) -> str:
    (watch,) = _watches(env)
    return str(watch.id)


PIPELINE = """\
name: rename
priority: 100
transformations:
  - id: image
    type: field_name_mapping
    mapping:
      process.executable.caseless: proc.exe
"""


@pytest.mark.parametrize(("text", "check"), [pytest.param(t, c, id=k) for k, t, c in KEY_CASES])
def test_key(tmp_path: Path, text: str, check: Callable[[Environment], bool]) -> None:
    write(tmp_path, {"pipelines/rename.yml": PIPELINE})
    env = env_from(tmp_path, text)
    assert check(env)


def _schema_keys() -> set[str]:
    keys = {k for k in config.TOP_KEYS if k != "extends"}
    keys |= {f"elasticsearch.{k}" for k in config.ES_KEYS}
    keys |= {f"sandbox.{k}" for k in config.SANDBOX_KEYS}
    keys |= {f"rules.{k}" for k in config.RULES_KEYS}
    keys |= {f"rules.tags.{k}" for k in config.TAGS_KEYS}
    keys |= {f"rules.logsource.{k}" for k in LOGSOURCE_KEYS}
    keys |= {f"mapping.{k}" for k in config.MAPPING_KEYS}
    keys |= {f"mapping.indices.{k}" for k in config.INDICES_KEYS}
    keys |= {f"watch.{k}" for k in config.WATCH_KEYS}
    keys |= {f"watch.actions.{k}" for k in config.ACTION_TYPES}
    for kind, names in (
        ("email", config.EMAIL_KEYS),
        ("webhook", config.WEBHOOK_KEYS),
        ("index", config.INDEX_KEYS),
        ("logging", config.LOGGING_KEYS),
    ):
        keys |= {f"watch.actions.{kind}.{k}" for k in names}
    keys |= {f"overrides.{k}" for k in config.OVERRIDE_KEYS}
    keys |= {f"overrides.match.{k}" for k in config.MATCH_KEYS}
    return keys | {"overrides"}


def test_every_key_of_the_schema_has_a_test() -> None:
    tested = {key for key, _, _ in KEY_CASES} | {"extends"}
    assert _schema_keys() - tested == set()


# -- extends ------------------------------------------------------------------------------------


def test_extends_deep_merges_and_the_child_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environments/base.yaml": """\
                watch:
                  interval: 30m
                  timestamp_field: "@timestamp"
                  actions:
                    mail: {email: {to: soc@example.com, cc: [lead@example.com]}}
                  by_level:
                    critical: {interval: 5m, range: now-5m/m}
                rules:
                  exclude: [a.yml, b.yml]
                """,
            "environments/mid.yaml": "extends: base.yaml\nwatch:\n  by_level:\n    critical: {interval: 1m}\n",
        },
    )
    env = env_from(
        tmp_path,
        """\
        extends: mid.yaml
        sandbox: {}
        watch:
          interval: 10m
          actions:
            mail: {email: {to: oncall@example.com}}
        rules:
          exclude: [c.yml]
        """,
    )
    assert env.sources == (
        "environments/base.yaml",
        "environments/mid.yaml",
        "environments/test.yaml",
    )
    assert env.watch.interval == "10m" and env.watch.timestamp_field == "@timestamp"
    # mappings merge key by key: the child's `to` and the base's `cc`
    assert env.watch.actions == (
        EmailAction(name="mail", to=("oncall@example.com",), cc=("lead@example.com",)),
    )
    # lists replace
    assert [g.pattern for g in env.rules.exclude] == ["c.yml"]
    critical = settings(env, level="critical")
    assert (critical.interval, critical.range) == ("1m", "now-5m/m")


def test_null_in_the_child_restores_the_default(tmp_path: Path) -> None:
    write(tmp_path, {"environments/base.yaml": "watch: {throttle_period: 1h, interval: 5m}\n"})
    env = env_from(tmp_path, "extends: base.yaml\nsandbox: {}\nwatch:\n  throttle_period: null\n")
    assert env.watch.throttle_period is None and env.watch.interval == "5m"


def test_a_null_action_drops_the_base_action(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environments/base.yaml": "watch:\n  actions:\n    mail: {email: {}}\n    log: {logging: {}}\n"
        },
    )
    env = env_from(
        tmp_path, "extends: base.yaml\nsandbox: {}\nwatch:\n  actions:\n    mail: null\n"
    )
    assert [a.name for a in env.watch.actions] == ["log"]


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    env = env_from(
        tmp_path,
        """\
        sandbox: {}
        watch:
          actions:
            mail: {email: &soc {to: soc@example.com, cc: [lead@example.com]}}
          by_level:
            critical:
              actions:
                mail:
                  email:
                    <<: *soc
                    subject: "CRITICAL {title}"
        """,
    )
    critical = settings(env, level="critical").actions[0]
    assert isinstance(critical, EmailAction)
    assert (critical.to, critical.cc, critical.subject) == (
        ("soc@example.com",),
        ("lead@example.com",),
        "CRITICAL {title}",
    )


# -- defaults -----------------------------------------------------------------------------------


def test_an_environment_with_only_a_target_has_the_seed_defaults(tmp_path: Path) -> None:
    env = env_from(tmp_path, SB)
    assert env.watch == WatchSettings()
    # The seed's settings, and the environment's name for the ownership key.
    assert settings(env) == WatchSettings(environment="test")
    assert env.rules.paths == ("rules/",) and env.pipeline is None


def test_shipped_local_environment_renders_the_seed_shape() -> None:
    from tests.config.support import REPO

    env = load_environment(REPO, "local")
    other = rule(
        path="rules/linux/x.yml", title="Other", level="low", logsource={"product": "linux"}
    )
    rules = [rule(), other]
    seed = render_rules(rules, lambda r: WatchSettings(environment="local"))
    local = render_rules(env.prepare_rules(rules)[0], env.settings_for)
    assert local == seed and len(local.watches) == 2
    assert local.watches[0].body["metadata"]["watchmgr"]["environment"] == "local"


# -- prepare ------------------------------------------------------------------------------------


def test_prepare_copies_and_leaves_the_rule_alone(tmp_path: Path) -> None:
    env = env_from(tmp_path, SB + "mapping:\n  pipelines: [ecs_windows]\n")
    original = rule()
    before = [
        item.field for item in original.sigma.detection.detections["selection"].detection_items
    ]
    prepared = env.prepare(original)
    after = [
        item.field for item in original.sigma.detection.detections["selection"].detection_items
    ]
    assert before == after == ["Image", "CommandLine"]
    fields = [i.field for i in prepared.sigma.detection.detections["selection"].detection_items]
    assert fields == ["process.executable.caseless", "process.command_line"]
    assert prepared.sigma is not original.sigma
    # the CommandLine item was a YAML list: still marked so in the copy
    assert len(prepared.list_valued) == len(original.list_valued) == 1
    assert prepared.list_valued.isdisjoint(original.list_valued)


def test_prepare_without_pipelines_is_the_identity(tmp_path: Path) -> None:
    env = env_from(tmp_path, SB)
    original = rule()
    assert env.prepare(original) is original


def test_prepare_rules_selects_and_reports_pipeline_failures(tmp_path: Path) -> None:
    env = env_from(tmp_path, SB + "rules:\n  min_level: high\n")
    rules = [rule(), rule(level="low")]
    prepared, problems = env.prepare_rules(rules)
    assert prepared == (rules[0],) and problems == ()


def test_unused_overrides_are_warned_about(tmp_path: Path) -> None:
    env = env_from(
        tmp_path,
        SB + "overrides:\n  - match: {id: 8de1cbe8-d6f5-496d-8237-5f44a721c7a0}\n    skip: true\n"
        "  - match: {path: rules/nothing/*}\n    skip: true\n",
    )
    (warning,) = env.unused_overrides([rule()])
    assert (
        str(warning)
        == f"{tmp_path}/environments/test.yaml:5: warning: this override matches no rule"
    )


def test_rule_paths_relative_to_another_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_from(tmp_path, SB + "rules:\n  exclude: [rules/windows/*]\n")
    # a rule loaded with the root in its path (watchmgr --root DIR from elsewhere)
    assert not env.selects(rule_file(tmp_path, "rules/windows/proc_whoami.yml"))
    assert env.selects(rule_file(tmp_path, "rules/linux/x.yml"))
    monkeypatch.chdir(tmp_path.parent)
    assert not env.selects(rule_file(Path(tmp_path.name), "rules/windows/proc_whoami.yml"))
