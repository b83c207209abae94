"""An interval and a look-back range that disagree are a warning. A rule's timeframe sets both
(its condition counts in that window), except in the sigmac-2020 dialect, whose watches keep
sigmac's 30m range beside the timeframe as the seed's did. A range a little longer than the
interval (late events) is not warned about."""

from __future__ import annotations

import json

import pytest

from tests.plan.support import Repo, rule_yaml, show

SANDBOX = "sandbox:\n  state: .watchmgr/local.json\n"


def warnings_of(repo: Repo, *args: str) -> list[str]:
    result = repo.run("validate", *args)
    assert result.exit_code == 0, show(result)
    return [line for line in result.stderr.splitlines() if "warning:" in line]


def test_an_environment_interval_without_its_range_is_one_warning_at_the_setting(
    repo: Repo,
) -> None:
    repo.environment("local", SANDBOX + "watch:\n  interval: 15m\n")
    assert warnings_of(repo, "--env", "local") == [
        "environments/local.yaml:4: warning: watch: interval 15m and range now-30m/m disagree "
        "(3 watches): each event is alerted on up to 2 times; set watch.range: now-15m/m, or an "
        "interval that matches"
    ]


def test_a_range_shorter_than_the_interval_misses_events(repo: Repo) -> None:
    repo.environment("local", SANDBOX + "watch:\n  interval: 1h\n  range: now-30m/m\n")
    (line,) = warnings_of(repo, "--env", "local")
    assert "events in the rest of each interval are never searched" in line


def test_a_level_of_its_own_is_named(repo: Repo) -> None:
    levels = "watch:\n  by_level:\n    high:\n      interval: 5m\n"
    repo.environment("local", SANDBOX + levels)
    (line,) = warnings_of(repo, "--env", "local")
    assert line.startswith("environments/local.yaml:6: warning: watch.by_level.high: interval 5m")


def test_a_rules_timeframe_sets_the_interval_and_the_range(repo: Repo) -> None:
    rule = rule_yaml("Burst").replace(
        "condition: selection", "condition: selection\n    timeframe: 5m"
    )
    repo.rule("burst", rule)
    assert warnings_of(repo) == []
    rendered = repo.run("render", "rules/burst.yml")
    body = json.loads(rendered.stdout)["body"]
    assert body["trigger"] == {"schedule": {"interval": "5m"}}
    search = body["input"]["search"]["request"]["body"]
    assert search["query"]["bool"]["filter"]["range"] == {"timestamp": {"gte": "now-5m/m"}}


def test_in_the_sigmac_2020_dialect_a_rules_timeframe_against_the_range_is_a_warning_at_the_rule(
    repo: Repo,
) -> None:
    rule = rule_yaml("Burst").replace(
        "condition: selection", "condition: selection\n    timeframe: 5m"
    )
    repo.rule("burst", rule)
    repo.environment("local", SANDBOX + "watch:\n  dialect: sigmac-2020\n")
    assert warnings_of(repo, "--env", "local") == [
        "rules/burst.yml:1: warning: the watch runs every 5m (its rule's timeframe or an "
        "override) but searches from now-30m/m: each event is alerted on up to 6 times; give "
        "this rule range: now-5m/m (an environment's override can)"
    ]
    plan = repo.run("plan", "--env", "local", "--format", "json")
    assert [w["path"] for w in json.loads(plan.stdout)["warnings"]] == ["rules/burst.yml"]


def test_a_ranges_rounding_counts_toward_how_far_it_reaches(repo: Repo) -> None:
    # now-30s/m rounds down to the minute: every 30s it searches 30 to 90 seconds back.
    repo.environment("local", SANDBOX + "watch:\n  interval: 30s\n  range: now-30s/m\n")
    assert warnings_of(repo, "--env", "local") == [
        "environments/local.yaml:4: warning: watch: interval 30s and range now-30s/m disagree "
        "(3 watches): each event is alerted on up to 3 times; set watch.range: now-30s/s, or an "
        "interval that matches"
    ]
    repo.environment("local", SANDBOX + "watch:\n  interval: 30s\n  range: now-30s/s\n")
    assert warnings_of(repo, "--env", "local") == []


@pytest.mark.parametrize(("interval", "look_back"), [("30m", "now-30m/m"), ("5m", "now-7m")])
def test_agreeing_or_slightly_longer_ranges_are_quiet(
    repo: Repo, interval: str, look_back: str
) -> None:
    repo.environment("local", SANDBOX + f"watch:\n  interval: {interval}\n  range: {look_back}\n")
    assert warnings_of(repo, "--env", "local") == []
