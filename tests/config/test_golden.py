"""The resolved configuration of every shipped environment, against golden files.

Regenerate after an intended change with ``WATCHMGR_UPDATE_GOLDEN=1 pytest tests/config``, then
review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.config.support import REPO, SHIPPED, shipped_environments
from watchmgr.config import dump_yaml, list_environments, load_environment, resolved_config

GOLDEN = Path(__file__).parent / "golden"


def test_the_shipped_environments_are_the_ones_listed(tmp_path: Path) -> None:
    infos = list_environments(shipped_environments(tmp_path))
    assert tuple(i.name for i in infos) == SHIPPED
    assert not [i for i in infos if i.target.startswith("invalid")], infos


@pytest.mark.parametrize("name", SHIPPED)
def test_resolved_config_matches_golden(name: str) -> None:
    env = load_environment(REPO, name)
    text = dump_yaml(resolved_config(env, environ={}))
    golden = GOLDEN / f"{name}.yaml"
    if os.environ.get("WATCHMGR_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run with WATCHMGR_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), f"config show --env {name} changed:\n{text}"


def test_environments_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shipped_environments(tmp_path))
    assert [tuple(i) for i in list_environments(Path("."))] == [
        (
            "dev",
            "environments/dev.yaml",
            "elasticsearch https://es-dev.internal.example.com:9200 "
            "(api key from $WATCHMGR_DEV_API_KEY)",
        ),
        ("local", "environments/local.yaml", "sandbox .watchmgr/local.json"),
        (
            "prod",
            "environments/prod.yaml",
            "elasticsearch Elastic Cloud siem-prod (api key from $WATCHMGR_PROD_API_KEY)",
        ),
        (
            "staging",
            "environments/staging.yaml",
            "elasticsearch https://es-staging-1.internal.example.com:9200, "
            "https://es-staging-2.internal.example.com:9200 "
            "(basic from $WATCHMGR_STAGING_USERNAME, $WATCHMGR_STAGING_PASSWORD)",
        ),
    ]


def test_debug_adds_where_each_key_is_written() -> None:
    env = load_environment(REPO, "prod")
    origins = resolved_config(env, environ={}, debug=True)["origins"]
    assert origins["watch.id_scheme"].startswith("environments/prod.yaml:")
    assert origins["watch.timestamp_field"].startswith("environments/base.yaml:")
    assert origins["watch.by_level.critical.interval"].startswith("environments/base.yaml:")
    assert origins["watch.by_level.critical.actions"].startswith("environments/prod.yaml:")
