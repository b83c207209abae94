"""ES's own Watcher YAML REST tests, run against the sandbox through the real client.

The suite lives in ../shared/reference/es-watcher-rest-tests (read in place, never copied). Each
test runs against a fresh sandbox, as ES's runner wipes the cluster between tests. Tests listed
in OUT_OF_SCOPE are skipped with their reason (mirrored in watchmgr/sandbox/README.md); every
test of a file its README marks MUST has to pass.
"""

from __future__ import annotations

import pytest
from sandbox_support import REST_RESULTS, REST_TESTS
from sandbox_yaml_runner import Runner, Skipped, load_suite

from watchmgr.sandbox import Sandbox, SandboxConfig

ES_VERSION = "9.1.0"

#: Files the suite README marks "MUST (core plan/apply behaviour of watchmgr)".
MUST = frozenset(
    {
        "watcher/put_watch/10_basic.yml",
        "watcher/put_watch/90_ensure_watch_gets_overwritten_without_version.yml",
        "watcher/put_watch/90_auto_create_index.yml",
        "watcher/put_watch/30_put_watch_with_action_throttle_period.yml",
        "watcher/put_watch/91_search_total_hits_as_int.yml",
        "watcher/put_watch/92_put_watch_with_indices_options.yml",
        "watcher/put_watch/80_put_get_watch_with_passwords.yml",
        "watcher/put_watch/70_put_watch_with_index_action_using_id.yml",
        "watcher/put_watch/11_timezoned_schedules.yml",
        "watcher/get_watch/10_basic.yml",
        "watcher/get_watch/30_with_chain_input.yml",
        "watcher/delete_watch/10_basic.yml",
        "watcher/activate_watch/10_basic.yml",
        "watcher/ack_watch/10_basic.yml",
        "watcher/query_watches/10_basic.yml",
        "watcher/start_watcher/10_basic.yml",
        "watcher/stats/10_basic.yml",
    }
)

#: test id -> why the sandbox does not reproduce it (keep in sync with the README).
OUT_OF_SCOPE = {
    "painless/70_json_in_watch.yml::Test json in watch": (
        "needs Painless script execution inside a watch run"
    ),
    "watcher/execute_watch/50_action_mode.yml::Test simulate index action": (
        "the payload comes from a Painless script transform, which the sandbox does not run"
    ),
    "watcher/settings_endpoints/10_watcher_settings.yml::"
    "Test explicitly disallowed prefix setting name throws error": (
        "conflicting evidence: ES's UpdateWatcherSettingsAction allows every "
        "index.routing.allocation.include.* name except _tier_preference; the sandbox follows "
        "the source"
    ),
}

TESTS = load_suite(REST_TESTS) if REST_TESTS.is_dir() else []


def test_suite_is_present() -> None:
    if not REST_TESTS.is_dir():
        pytest.skip(f"ES REST tests not found at {REST_TESTS} (../shared is absent)")
    files = {t.file for t in TESTS}
    assert files >= MUST, f"MUST files missing from the suite: {sorted(MUST - files)}"
    assert not {k.split("::")[0] for k in OUT_OF_SCOPE} & MUST


@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_rest_yaml(test) -> None:  # type: ignore[no-untyped-def]
    from elasticsearch import Elasticsearch

    if test.id in OUT_OF_SCOPE:
        REST_RESULTS["out of scope"] += 1
        pytest.skip(f"out of scope: {OUT_OF_SCOPE[test.id]}")
    with (
        Sandbox(SandboxConfig(es_version=ES_VERSION)) as sandbox,
        Elasticsearch(sandbox.url, max_retries=0) as client,
    ):
        try:
            Runner(client, ES_VERSION).run(test)
        except Skipped as skip:
            REST_RESULTS["skipped by the test itself"] += 1
            pytest.skip(str(skip))
        except BaseException:
            REST_RESULTS["failed"] += 1
            raise
    REST_RESULTS["passed (MUST)" if test.file in MUST else "passed (SHOULD)"] += 1
