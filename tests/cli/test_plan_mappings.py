"""`plan` and `apply` warn, as `check` does, where a watch's query does not fit the field
mappings of the indices it searches; the warnings never change the exit code, the JSON plan
carries them, and a key that may not read the mappings gets one note and a plan all the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plan.support import Repo, es_client, rule_yaml, show
from watchmgr.sandbox import ApiKey, Sandbox, SandboxConfig, Security

#: mapping.indices for the repository's environment: every rule searches logs-*.
INDICES = "mapping:\n  keyword_suffix: ''\n  indices:\n    default: [logs-*]\n"
#: A key that plans and applies but has no index privilege (no view_index_metadata).
WATCHER_ONLY = ApiKey(
    "wo", "wokey", frozenset({"manage_watcher"}), index_privileges=frozenset({"read"})
)

TYPO = "rules/typo.yml:1: warning: watch 'Typo': field 'Imagee' is in none of its indices (logs-1)"
LONG = "rules/long.yml:1: warning: watch 'Long': 'Image' keeps values up to 16 characters"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(es_version="8.19.0")) as sb:
        yield sb


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox) -> Repo:
    repo = Repo(tmp_path)
    repo.rule("fits", rule_yaml("Fits"))
    repo.rule("typo", rule_yaml("Typo").replace("Image|", "Imagee|"))
    repo.rule("long", rule_yaml("Long", image="a\\\\very\\\\long\\\\path\\\\cmd.exe"))
    repo.cluster_env("dev", sandbox, INDICES)
    es_client(sandbox).indices.create(
        index="logs-1", mappings={"properties": {"Image": {"type": "keyword", "ignore_above": 16}}}
    )
    return repo


def _starting(lines: list[str], *prefixes: str) -> list[str]:
    return [line for line in lines if line.startswith(prefixes)]


def test_plan_prints_the_warnings_check_prints_and_exits_as_before(repo: Repo) -> None:
    checked = repo.run("check", "--env", "dev")
    planned = repo.run("plan", "--env", "dev", "--detailed-exitcode")
    assert checked.exit_code == 0, show(checked)
    assert planned.exit_code == 2, show(planned)  # changes pending: the warnings change nothing
    warnings = [line for line in checked.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 3, show(checked)
    assert warnings[0].startswith(LONG) and warnings[1].startswith(TYPO), show(checked)
    assert warnings[2].startswith("watchmgr: warning: 2 watches search 'Image' with wildcards")
    assert [line for line in planned.stderr.splitlines() if "warning:" in line] == warnings


def test_the_json_plan_carries_them_in_warnings(repo: Repo) -> None:
    result = repo.run("plan", "--env", "dev", "--format", "json")
    assert result.exit_code == 0, show(result)
    found = json.loads(result.stdout)["warnings"]
    assert [(w["path"], w["line"]) for w in found] == [
        ("rules/long.yml", 1),
        ("rules/typo.yml", 1),
        ("watchmgr", None),  # the ignore_above summary, about no one rule
    ], found
    assert found[1]["message"].startswith("watch 'Typo': field 'Imagee' is in none"), found


def test_apply_prints_them_before_it_writes(repo: Repo) -> None:
    result = repo.run("apply", "--env", "dev", "--yes")
    assert result.exit_code == 0, show(result)
    lines = result.stderr.splitlines()
    assert [line[: len(LONG)] for line in _starting(lines, "rules/")] == [LONG, TYPO[: len(LONG)]]


def test_no_mapping_check_turns_it_off(repo: Repo) -> None:
    for command in (["plan"], ["apply", "--yes"]):
        result = repo.run(*command, "--env", "dev", "--no-mapping-check")
        assert result.exit_code == 0, show(result)
        assert "warning:" not in result.stderr and "note:" not in result.stderr, show(result)


def test_target_checks_only_the_targeted_watches(repo: Repo) -> None:
    result = repo.run("plan", "--env", "dev", "--target", "rules/typo.yml")
    assert result.exit_code == 0, show(result)
    assert (
        _starting(result.stderr.splitlines(), "rules/")
        == [line for line in result.stderr.splitlines() if line.startswith(TYPO)]
        != []
    ), show(result)


def test_a_key_that_may_not_read_mappings_gets_one_note_and_the_plan(
    repo: Repo, sandbox: Sandbox
) -> None:
    sandbox.set_security(Security(api_keys=(WATCHER_ONLY,)))
    text = (repo.root / "environments" / "dev.yaml").read_text()
    text = text.replace("rules:", "  api_key_env: TEST_KEY\nrules:")
    (repo.root / "environments" / "dev.yaml").write_text(text)
    environ = {"TEST_KEY": WATCHER_ONLY.encoded}
    result = repo.run("plan", "--env", "dev", "--detailed-exitcode", env=environ)
    assert result.exit_code == 2, show(result)
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert len(notes) == 1, show(result)
    assert notes[0].startswith("watchmgr: note: mapping check skipped: "), show(result)
    assert "view_index_metadata" in notes[0], show(result)
    assert "+ create" in result.stdout or "3 to add" in result.stdout, show(result)
    applied = repo.run("apply", "--env", "dev", "--yes", env=environ)
    assert applied.exit_code == 0, show(applied)
    assert "mapping check skipped" in applied.stderr, show(applied)


def test_indices_that_match_nothing_are_one_note(repo: Repo, sandbox: Sandbox) -> None:
    es_client(sandbox).indices.delete(index="logs-1")
    result = repo.run("plan", "--env", "dev")
    assert result.exit_code == 0, show(result)
    assert result.stderr.splitlines() == [
        "watchmgr: note: mapping check skipped: no index on the cluster matches logs-* "
        "(searched by 3 watches)"
    ], show(result)
    quiet = repo.run("-q", "plan", "--env", "dev")
    assert quiet.exit_code == 0 and quiet.stderr == "", show(quiet)  # -q: no notes either


#: Linux rules search zz-1, the others logs-1: two sets of indices, read in that order.
TWO_SETS = (
    "mapping:\n  keyword_suffix: ''\n  indices:\n    default: [logs-1]\n    by_logsource:\n"
    "      - product: linux\n        indices: [zz-1]\n"
)
#: A key that may read the mappings of logs-* and of no other index.
LOGS_ONLY = ApiKey(
    "lo",
    "lokey",
    frozenset({"manage_watcher"}),
    index_privileges=frozenset({"read", "view_index_metadata"}),
    index_names=("logs-*",),
)


def test_a_key_refused_on_some_indices_keeps_the_check_of_the_others_and_names_the_rest(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    repo = Repo(tmp_path)
    repo.rule("typo", rule_yaml("Typo").replace("Image|", "Imagee|"))
    repo.rule("long", rule_yaml("Long", image="a\\\\very\\\\long\\\\path\\\\cmd.exe"))
    repo.rule("linux", rule_yaml("Linux").replace("product: windows", "product: linux"))
    repo.cluster_env("dev", sandbox, TWO_SETS)
    client = es_client(sandbox)
    for index in ("logs-1", "zz-1"):
        client.indices.create(
            index=index, mappings={"properties": {"Image": {"type": "keyword", "ignore_above": 16}}}
        )
    sandbox.set_security(Security(api_keys=(LOGS_ONLY,)))
    text = (repo.root / "environments" / "dev.yaml").read_text()
    text = text.replace("rules:", "  api_key_env: TEST_KEY\nrules:")
    (repo.root / "environments" / "dev.yaml").write_text(text)

    result = repo.run(
        "plan", "--env", "dev", "--detailed-exitcode", env={"TEST_KEY": LOGS_ONLY.encoded}
    )

    assert result.exit_code == 2, show(result)
    lines = result.stderr.splitlines()
    # logs-1 was read: its watches' warnings and the ignore_above summary for them stay
    assert [line[: len(LONG)] for line in _starting(lines, "rules/")] == [
        LONG,
        TYPO[: len(LONG)],
    ], show(result)
    summary = _starting(lines, "watchmgr: warning: ")
    assert len(summary) == 1 and "'Image' with wildcards" in summary[0], show(result)
    # zz-1 was refused: one note says so and names it
    notes = _starting(lines, "watchmgr: note: ")
    assert len(notes) == 1, show(result)
    assert notes[0].startswith("watchmgr: note: mapping check stopped: "), show(result)
    assert "view_index_metadata" in notes[0], show(result)
    assert notes[0].endswith("; not checked: zz-1 (searched by 1 watch)"), show(result)
