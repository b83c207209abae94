"""The same rule renders differently per environment exactly where the files differ, and nowhere else."""

# ruff: noqa: E501  (inline environment files read better as one string per case)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.config.support import REPO, env_from, rule
from watchmgr.config import Environment, load_environment
from watchmgr.rules import Rule
from watchmgr.watch import render_rules

BASE = "sandbox: {}\nwatch:\n  interval: 30m\n"
QUERY = {
    "body.metadata.query",
    "body.input.search.request.body.query.bool.must[0].query_string.query",
}
RANGE = "body.input.search.request.body.query.bool.filter.range"


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out or {prefix: []}
    return {prefix: value}


def rendered(env: Environment, rules: list[Rule]) -> dict[str, dict[str, Any]]:
    """rule source → flattened {id, active, body} of its watch, for the rules the env deploys."""
    prepared, problems = env.prepare_rules(rules)
    assert not problems, problems
    result = render_rules(prepared, env.settings_for)
    assert not result.diagnostics, result.diagnostics
    return {
        w.source: flatten({"id": w.id, "active": w.active, "body": w.body}) for w in result.watches
    }


def changed(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>")}


#: (what the second file changes, YAML added to BASE, the paths that change in the watch)
VARIATIONS: list[tuple[str, str, set[str]]] = [
    ("nothing", "", set()),
    ("description", "description: another team\n", set()),
    ("target", "TARGET", set()),  # elasticsearch instead of sandbox, see below
    ("interval", "watch:\n  interval: 10m\n", {"body.trigger.schedule.interval"}),
    ("range", "watch:\n  range: now-1h/m\n", {f"{RANGE}.timestamp.gte"}),
    (
        "timestamp_field",
        "watch:\n  timestamp_field: '@timestamp'\n",
        {f"{RANGE}.timestamp.gte", f"{RANGE}.@timestamp.gte"},
    ),
    ("id_prefix", "watch:\n  id_prefix: prod-\n", {"id"}),
    ("id_scheme", "watch:\n  id_scheme: sigma-id\n", {"id"}),
    ("active", "watch:\n  active: false\n", {"active"}),
    ("throttle_period", "watch:\n  throttle_period: 1h\n", {"body.throttle_period"}),
    (
        "email to",
        "watch:\n  actions:\n    send_email: {email: {to: soc@example.com}}\n",
        {"body.actions.send_email.email.to"},
    ),
    (
        "email cc",
        "watch:\n  actions:\n    send_email: {email: {cc: [lead@example.com]}}\n",
        {"body.actions.send_email.email.cc[0]"},
    ),
    (
        "another action",
        "watch:\n  actions:\n    send_email: {email: {}}\n    keep: {index: {index: alerts}}\n",
        {"body.actions.keep.index.index"},
    ),
    (
        "default indices",
        "mapping:\n  indices: {default: [logs-*, winlogbeat-*]}\n",
        {
            "body.input.search.request.indices",
            "body.input.search.request.indices[0]",
            "body.input.search.request.indices[1]",
        },
    ),
    (
        "indices of another logsource",
        "mapping:\n  indices:\n    by_logsource:\n      - {product: linux, indices: [auditbeat-*]}\n",
        set(),
    ),
    ("pipelines", "mapping:\n  pipelines: [ecs_windows]\n", QUERY),
    ("unused placeholders", "mapping:\n  placeholders: {admins: [a, b]}\n", set()),
    (
        "this rule's level",
        "watch:\n  by_level:\n    high: {interval: 5m}\n",
        {"body.trigger.schedule.interval"},
    ),
    ("another level", "watch:\n  by_level:\n    low: {interval: 5m}\n", set()),
    (
        "override of this rule",
        "overrides:\n  - match: {id: 8de1cbe8-d6f5-496d-8237-5f44a721c7a0}\n    active: false\n",
        {"active"},
    ),
    (
        "override of another rule",
        "overrides:\n  - match: {path: rules/linux/*}\n    active: false\n",
        set(),
    ),
    (
        "a filter the rule passes",
        "rules:\n  min_level: medium\n  status: [stable]\n  tags: {any: [attack.t1033]}\n",
        set(),
    ),
]


@pytest.mark.parametrize(
    ("extra", "expected"), [pytest.param(x, e, id=n) for n, x, e in VARIATIONS]
)
def test_one_change_in_the_file_changes_only_its_part_of_the_watch(
    tmp_path: Path, extra: str, expected: set[str]
) -> None:
    import yaml

    from watchmgr.merge import deep_merge

    first = env_from(tmp_path / "a", BASE)
    merged = deep_merge(
        yaml.safe_load(BASE), {} if extra == "TARGET" else yaml.safe_load(extra) or {}
    )
    if extra == "TARGET":
        del merged["sandbox"]
        merged["elasticsearch"] = {"hosts": ["https://es.example.com:9200"]}
    second = env_from(tmp_path / "b", yaml.safe_dump(merged))
    (before,) = rendered(first, [rule()]).values()
    (after,) = rendered(second, [rule()]).values()
    assert changed(before, after) == expected


def test_a_filter_the_rule_fails_removes_the_watch_and_nothing_else(tmp_path: Path) -> None:
    other = rule(
        path="rules/linux/x.yml", title="Other", level="critical", logsource={"product": "linux"}
    )
    first = rendered(env_from(tmp_path / "a", BASE), [rule(), other])
    second = rendered(
        env_from(tmp_path / "b", BASE + "rules:\n  min_level: critical\n"), [rule(), other]
    )
    assert set(first) - set(second) == {"rules/windows/proc_whoami.yml"}
    assert second["rules/linux/x.yml"] == first["rules/linux/x.yml"]


# -- the shipped environments -----------------------------------------------------------------

RULES = [
    rule(),  # windows process_creation, high, stable
    rule(
        path="rules/windows/sysmon_net.yml",
        title="Net",
        id="11111111-1111-4111-8111-111111111111",
        level="critical",
        logsource={"product": "windows", "service": "sysmon"},
    ),
    rule(
        path="rules/linux/auditd.yml",
        title="Auditd",
        id="22222222-2222-4222-8222-222222222222",
        level="medium",
        status="test",
        logsource={"product": "linux", "service": "auditd"},
    ),
]

#: Where the shipped files differ, and therefore the only watch paths that may differ (the
#: owning environment's name differs between any two).
OWNER = "body.metadata.watchmgr.environment"
SHIPPED_DIFFERENCES = {
    ("dev", "staging"): {"id", "body.actions.", OWNER},
    ("staging", "prod"): {"id", "body.actions.", OWNER},
}


@pytest.mark.parametrize(("a", "b"), sorted(SHIPPED_DIFFERENCES))
def test_shipped_environments_differ_only_where_their_files_do(a: str, b: str) -> None:
    first = rendered(load_environment(REPO, a), RULES)
    second = rendered(load_environment(REPO, b), RULES)
    allowed = SHIPPED_DIFFERENCES[(a, b)]
    common = set(first) & set(second)
    assert common, (first.keys(), second.keys())
    for source in sorted(common):
        differences = changed(first[source], second[source])
        assert differences, source
        stray = {p for p in differences if not any(p == x or p.startswith(x) for x in allowed)}
        assert not stray, f"{source}: {a} and {b} differ at {sorted(stray)}"


def test_shipped_environments_select_by_their_rule_filters() -> None:
    deployed = {
        name: sorted(rendered(load_environment(REPO, name), RULES))
        for name in ("local", "dev", "staging", "prod")
    }
    everything = sorted(r.path for r in RULES)
    assert deployed["local"] == deployed["dev"] == deployed["staging"] == everything
    # prod: stable only
    assert deployed["prod"] == ["rules/windows/proc_whoami.yml", "rules/windows/sysmon_net.yml"]


def test_shipped_base_settings_reach_every_environment_that_extends_it() -> None:
    for name in ("dev", "staging", "prod"):
        watches = rendered(load_environment(REPO, name), RULES)
        net = watches["rules/windows/sysmon_net.yml"]
        assert net["body.trigger.schedule.interval"] == "5m"  # critical, base.yaml
        assert net[f"{RANGE}.@timestamp.gte"] == "now-5m/m"
        assert net["body.input.search.request.indices[1]"] == "logs-windows.sysmon_operational-*"
    local = rendered(load_environment(REPO, "local"), RULES)["rules/windows/sysmon_net.yml"]
    assert local["body.trigger.schedule.interval"] == "30m"
    assert local["body.input.search.request.indices"] == []
