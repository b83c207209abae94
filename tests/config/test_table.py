"""One row per watch setting: parsing, layering, settings_dict and config show all follow the table.

Adding a watch setting is one field of `WatchSettings` (what the watch builder reads) with
`written` metadata, and an entry in `CASES` below; these tests then check that the setting is
parsed under ``watch:``, layered by ``by_level`` and ``overrides``, and printed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.config.support import config_error, env_from, rule
from watchmgr import settings as watch_settings
from watchmgr.config import resolved_config, settings_dict
from watchmgr.config.table import rows
from watchmgr.settings import DEFAULT_SETTINGS, EmailAction, WatchSettings, written
from watchmgr.watch import render_rules

SB = "sandbox: {}\n"

#: setting → (value as written in YAML, value `WatchSettings` holds, value config show prints).
#: Every setting needs one: a setting without it fails `test_every_row_has_a_case`.
CASES: dict[str, tuple[str, Any, Any]] = {
    "id_scheme": ("sigma-id", "sigma-id", "sigma-id"),
    "id_prefix": ("soc-", "soc-", "soc-"),
    "interval": ("5m", "5m", "5m"),
    "range": ("now-5m/m", "now-5m/m", "now-5m/m"),
    "timestamp_field": ("'@timestamp'", "@timestamp", "@timestamp"),
    "throttle_period": ("15m", "15m", "15m"),
    "active": ("false", False, False),
    "dialect": ("sigmac-2020", "sigmac-2020", "sigmac-2020"),
    "indices": ("[idx-a, idx-b]", ("idx-a", "idx-b"), ["idx-a", "idx-b"]),
    "actions": (
        "{mail: {email: {to: soc@example.com}}}",
        (EmailAction(name="mail", to=("soc@example.com",)),),
        {"mail": {"email": {"to": ["soc@example.com"]}}},
    ),
}
SETTINGS = rows()
WATCH_ROWS = [r.name for r in SETTINGS if r.in_watch]
OVERRIDE_ONLY = [r.name for r in SETTINGS if not r.in_watch]


def _shown_subset(shown: Any, expected: Any) -> bool:
    """`expected` is `shown`, or for mappings, `shown` holds every key of it with that value."""
    if isinstance(expected, dict) and isinstance(shown, dict):
        return all(k in shown and _shown_subset(shown[k], v) for k, v in expected.items())
    return bool(shown == expected)


def test_every_row_has_a_case() -> None:
    assert [r.name for r in SETTINGS] == list(CASES)


def test_every_field_of_the_settings_is_a_row_but_those_set_elsewhere() -> None:
    fields = {f.name for f in dataclasses.fields(WatchSettings)}
    # keyword_suffix is written under mapping:, environment is the environment's name.
    assert fields - {r.name for r in SETTINGS} == {"keyword_suffix", "environment"}


def test_a_row_default_is_the_seed_value_the_watch_builder_reads() -> None:
    for row in SETTINGS:
        assert row.default == getattr(DEFAULT_SETTINGS, row.name)
        assert row.default != CASES[row.name][1], f"{row.name}: pick a case unlike the default"


@pytest.mark.parametrize("name", WATCH_ROWS)
def test_a_watch_row_is_parsed_shown_and_reaches_settings_dict(tmp_path: Path, name: str) -> None:
    written, held, shown = CASES[name]
    env = env_from(tmp_path, f"{SB}watch:\n  {name}: {written}\n")
    assert getattr(env.watch, name) == held
    assert _shown_subset(settings_dict(env.watch)[name], shown)
    assert _shown_subset(resolved_config(env, {})["watch"][name], shown)
    # the other rows keep their defaults
    others = {r.name for r in SETTINGS if r.name != name}
    assert all(getattr(env.watch, o) == getattr(DEFAULT_SETTINGS, o) for o in others)


@pytest.mark.parametrize("name", WATCH_ROWS)
def test_a_watch_row_is_patched_by_level(tmp_path: Path, name: str) -> None:
    written, held, shown = CASES[name]
    env = env_from(tmp_path, f"{SB}watch:\n  by_level:\n    high:\n      {name}: {written}\n")
    settings = env.settings_for(rule())  # the rule is level high
    assert settings is not None and _holds(settings, name, held)
    low = env.settings_for(rule(level="low"))
    assert low is not None and getattr(low, name) == getattr(DEFAULT_SETTINGS, name)
    layer = resolved_config(env, {})["watch"]["by_level"]["high"]
    assert list(layer) == [name] and _shown_subset(layer[name], shown)


@pytest.mark.parametrize("name", [r.name for r in SETTINGS])
def test_every_row_is_patched_by_an_override(tmp_path: Path, name: str) -> None:
    written, held, shown = CASES[name]
    env = env_from(
        tmp_path, f"{SB}overrides:\n  - match: {{path: 'rules/**'}}\n    {name}: {written}\n"
    )
    settings = env.settings_for(rule())
    assert settings is not None and _holds(settings, name, held)
    entry = resolved_config(env, {})["overrides"][0]
    assert _shown_subset(entry[name], shown)


@pytest.mark.parametrize("name", OVERRIDE_ONLY)
def test_an_override_only_row_is_refused_under_watch(tmp_path: Path, name: str) -> None:
    written, _, _ = CASES[name]
    assert f"unknown key {name!r} in watch" in config_error(
        tmp_path, f"{SB}watch:\n  {name}: {written}\n"
    )


def test_config_show_prints_an_action_under_the_keys_and_in_the_order_of_the_watch(
    tmp_path: Path,
) -> None:
    env = env_from(
        tmp_path,
        f"{SB}watch:\n  actions:\n"
        "    mail: {email: {to: [a@example.com, b@example.com], cc: c@example.com,"
        " profile: gmail, from: w@example.com}}\n"
        "    hook: {webhook: {url: 'https://example.org/x', method: put}}\n"
        "    store: {index: {index: alerts}}\n"
        "    log: {logging: {level: warn}}\n",
    )
    shown = resolved_config(env, {})["watch"]["actions"]
    (watch,) = render_rules([rule()], env.settings_for).watches
    assert list(shown) == list(watch.body["actions"])
    for name, action in watch.body["actions"].items():
        ((kind, settings),) = action.items()
        assert list(shown[name][kind]) == list(settings), name


def _holds(settings: WatchSettings, name: str, held: Any) -> bool:
    value = getattr(settings, name)
    if name == "actions":  # layered actions merge by name onto the seed's e-mail action
        return all(a in value for a in held)
    return bool(value == held)


# -- one field is all it takes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _WithAlertField(WatchSettings):
    """The settings with one more field: the one declaration a new watch setting needs."""

    alert_field: str = field(default="message", metadata=written("field name"))


@pytest.fixture
def new_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings declaring a throwaway setting, as if the field were added to `WatchSettings`."""
    monkeypatch.setattr(watch_settings, "DEFAULT_SETTINGS", _WithAlertField())


@pytest.mark.usefixtures("new_setting")
def test_a_declared_field_is_parsed_and_reaches_settings_dict_and_config_show(
    tmp_path: Path,
) -> None:
    env = env_from(tmp_path, f"{SB}watch:\n  alert_field: event.original\n")
    assert env.watch.alert_field == "event.original"
    assert settings_dict(env.watch)["alert_field"] == "event.original"
    assert resolved_config(env, {})["watch"]["alert_field"] == "event.original"
    untouched = env_from(tmp_path, f"{SB}watch:\n  interval: 5m\n")
    assert settings_dict(untouched.watch)["alert_field"] == "message"


@pytest.mark.usefixtures("new_setting")
def test_a_declared_field_is_checked_at_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, f"{SB}watch:\n  interval: 5m\n  alert_field: a b\n")
    assert message.endswith("test.yaml:4: watch.alert_field must be a field name without spaces"), (
        message
    )


@pytest.mark.usefixtures("new_setting")
def test_a_declared_field_is_patched_by_level_and_by_override(tmp_path: Path) -> None:
    env = env_from(
        tmp_path,
        f"{SB}watch:\n  by_level:\n    high: {{alert_field: lvl}}\n"
        "overrides:\n  - match: {path: 'rules/other/**'}\n    alert_field: ovr\n",
    )
    high = env.settings_for(rule())
    other = env.settings_for(rule(path="rules/other/x.yml", level="low"))
    assert high is not None and high.alert_field == "lvl"
    assert other is not None and other.alert_field == "ovr"
    shown = resolved_config(env, {})
    assert shown["watch"]["by_level"]["high"] == {"alert_field": "lvl"}
    assert shown["overrides"][0]["alert_field"] == "ovr"


def test_without_the_field_the_key_is_unknown(tmp_path: Path) -> None:
    assert "unknown key 'alert_field' in watch" in config_error(
        tmp_path, f"{SB}watch:\n  alert_field: event.original\n"
    )
