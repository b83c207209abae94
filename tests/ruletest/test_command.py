"""`watchmgr test`: rules run against their test events, in an embedded sandbox or a scratch
index on an environment's cluster that is always deleted."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from watchmgr.cli import app
from watchmgr.sandbox import Sandbox, SandboxConfig

CERTUTIL = """\
title: Certutil Download
id: 5f0a5a53-1d6a-4f1e-9a3c-2b7c1c0e6f11
logsource: {category: process_creation, product: windows}
detection:
  selection:
    Image|endswith: 'certutil.exe'
    CommandLine|contains: 'urlcache'
  condition: selection
level: high
"""
CERTUTIL_TESTS = """\
- name: certutil downloads a file
  fires: true
  events:
    - Image: C:\\Windows\\System32\\certutil.exe
      CommandLine: certutil -urlcache -f http://x/a.exe
- name: certutil verifies a certificate
  fires: false
  events:
    - Image: C:\\Windows\\System32\\certutil.exe
      CommandLine: certutil -verify a.cer
"""
WHOAMI = """\
title: Whoami Run
logsource: {category: process_creation, product: windows}
detection:
  selection:
    Image|endswith: 'whoami.exe'
  condition: selection
"""
#: The event says OriginalFileName, not Image: the rule does not fire on it.
WHOAMI_TESTS = """\
- name: whoami under another name
  fires: true
  events:
    - OriginalFileName: whoami.exe
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["test", *args, "--root", str(root), "--no-cache"])


def _show(result: Result) -> str:
    return f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_a_rule_that_fires_on_its_events_passes(tmp_path: Path) -> None:
    _write(tmp_path, {"rules/certutil.yml": CERTUTIL, "rules/certutil.tests.yml": CERTUTIL_TESTS})
    result = _run(tmp_path)
    assert result.exit_code == 0, _show(result)
    assert result.stdout.splitlines() == [
        "PASS rules/certutil.yml",
        "  ok: certutil downloads a file (rules/certutil.tests.yml:1): fired, 1 of 1 events "
        "matched, expected fires",
        "  ok: certutil verifies a certificate (rules/certutil.tests.yml:6): did not fire, 0 of "
        "1 events matched, expected does not fire",
        "  query of Certutil-Download: ((Image.keyword:/.*[cC][eE][rR][tT][uU][tT][iI][lL]\\."
        '[eE][xX][eE]/ OR (Image:"certutil.exe" AND NOT _exists_:Image.keyword)) AND '
        "(CommandLine.keyword:/.*[uU][rR][lL][cC][aA][cC][hH][eE].*/ OR "
        '(CommandLine:"urlcache" AND NOT _exists_:CommandLine.keyword)))',
        "  fields (events holding each): CommandLine (2/2), Image (2/2)",
        "1 of 1 tested rule files pass (100.0 %); events searched in the embedded sandbox",
    ], _show(result)


def test_a_rule_that_does_not_fire_fails_with_the_fields_its_events_lack(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "rules/certutil.yml": CERTUTIL,
            "rules/certutil.tests.yml": CERTUTIL_TESTS,
            "rules/whoami.yml": WHOAMI,
            "rules/whoami.tests.yml": WHOAMI_TESTS,
        },
    )
    result = _run(tmp_path)
    assert result.exit_code == 1, _show(result)
    lines = result.stdout.splitlines()
    assert "FAIL rules/whoami.yml" in lines, _show(result)
    assert (
        "  FAILED: whoami under another name (rules/whoami.tests.yml:1): did not fire, 0 of 1 "
        "events matched, expected fires"
    ) in lines
    assert "  fields (events holding each): Image (0/1)" in lines
    assert lines[-1] == (
        "1 of 2 tested rule files pass (50.0 %); events searched in the embedded sandbox"
    )


def _sigmahq(root: Path) -> Path:
    """SigmaHQ's layout: the rule names its test; info.yml and evtx_dump JSON elsewhere."""
    rule = CERTUTIL + "regression_tests_path: regression_data/rules/certutil/info.yml\n"
    event = {
        "Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
            },
            "EventData": {
                "Image": "C:\\Windows\\System32\\certutil.exe",
                "CommandLine": "certutil.exe -urlcache -split -f http://x/a.exe",
            },
        }
    }
    other = {"Event": {"System": {"EventID": 1}, "EventData": {"Image": "C:\\x\\cmd.exe"}}}
    info = textwrap.dedent(
        """\
        id: 9d3e1c52-0000-4000-8000-000000000001
        rule_metadata:
            - id: 5f0a5a53-1d6a-4f1e-9a3c-2b7c1c0e6f11
              title: Certutil Download
        regression_tests_info:
            - name: Positive Detection Test
              type: evtx
              provider: Microsoft-Windows-Sysmon
              match_count: 1
              path: regression_data/rules/certutil/5f0a5a53.evtx
        """
    )
    data = root / "regression" / "regression_data" / "rules" / "certutil"
    _write(
        root,
        {
            "rules/certutil.yml": rule,
            "regression/regression_data/rules/certutil/info.yml": info,
            "regression/regression_data/rules/certutil/5f0a5a53.json": json.dumps(event, indent=2)
            + "\n"
            + json.dumps(other, indent=2),
        },
    )
    return data.parent.parent.parent


def test_sigmahq_regression_tests_count_the_matching_events(tmp_path: Path) -> None:
    tests_root = _sigmahq(tmp_path)
    result = _run(tmp_path, "--tests-root", str(tests_root))
    assert result.exit_code == 0, _show(result)
    assert "fired, 1 of 2 events matched, expected 1 match" in result.stdout, _show(result)


def test_without_the_tests_root_a_sigmahq_test_is_a_warning_and_nothing_runs(
    tmp_path: Path,
) -> None:
    _sigmahq(tmp_path)
    result = _run(tmp_path)
    assert result.exit_code == 0, _show(result)
    assert "rules/certutil.yml:10: warning: regression_tests_path" in result.stderr, _show(result)
    assert "no rule has tests" in result.stderr


def test_json_output_is_versioned_and_says_per_test_what_fired(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "rules/certutil.yml": CERTUTIL,
            "rules/certutil.tests.yml": CERTUTIL_TESTS,
            "rules/whoami.yml": WHOAMI,
            "rules/whoami.tests.yml": WHOAMI_TESTS,
            "rules/untested.yml": WHOAMI.replace("Whoami Run", "Untested"),
        },
    )
    result = _run(tmp_path, "--format", "json")
    assert result.exit_code == 1, _show(result)
    data = json.loads(result.stdout)
    assert data["format_version"] == 1 and data["where"] == "the embedded sandbox"
    assert data["summary"] == {"rules": 2, "passed": 1, "failed": 1, "untested": 1}
    whoami = data["rules"][1]
    assert whoami["source"] == "rules/whoami.yml" and whoami["passed"] is False
    assert whoami["fields"] == {"Image": 0}
    query = (
        "(Image.keyword:/.*[wW][hH][oO][aA][mM][iI]\\.[eE][xX][eE]/ OR "
        '(Image:"whoami.exe" AND NOT _exists_:Image.keyword))'
    )
    assert whoami["watches"] == [{"id": "Whoami-Run", "query": query}]
    assert whoami["tests"] == [
        {
            "name": "whoami under another name",
            "location": "rules/whoami.tests.yml:1",
            "expected": {"fires": True, "match_count": None},
            "events": 1,
            "matched": 0,
            "fired": False,
            "passed": False,
        }
    ]


def test_a_bad_test_file_is_one_line_at_its_place_and_exit_1(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"rules/certutil.yml": CERTUTIL, "rules/certutil.tests.yml": "- name: x\n  fires: 1\n"},
    )
    result = _run(tmp_path)
    assert result.exit_code == 1, _show(result)
    assert result.stderr.splitlines() == [
        "rules/certutil.tests.yml:1: test 'x' has no events (give a list of them under "
        "'events:', or an evtx_dump JSON file as 'events_file:')"
    ], _show(result)


def test_an_unknown_format_or_a_missing_tests_root_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "--format", "xml")
    assert result.exit_code == 2, _show(result)
    assert result.stderr == (
        "watchmgr: unknown format 'xml' (use one of: text, json); see 'watchmgr test --help'\n"
    )
    result = _run(tmp_path, "--tests-root", str(tmp_path / "nowhere"))
    assert result.exit_code == 2, _show(result)
    assert result.stderr == f"watchmgr: --tests-root {tmp_path / 'nowhere'}: no such directory\n"


def test_with_an_environment_the_events_go_to_a_scratch_index_on_its_cluster_that_is_deleted(
    tmp_path: Path,
) -> None:
    pipeline = textwrap.dedent(
        """\
        name: rename
        priority: 10
        transformations:
          - type: field_name_mapping
            mapping:
              Image: process.executable
        """
    )
    with Sandbox(SandboxConfig(es_version="8.19.0")) as sandbox:
        _write(
            tmp_path,
            {
                "rules/certutil.yml": CERTUTIL,
                "rules/certutil.tests.yml": CERTUTIL_TESTS,
                "pipelines/rename.yml": pipeline,
                "environments/lab.yaml": f"elasticsearch:\n  hosts: [{sandbox.url}]\n"
                "rules:\n  paths: [rules/]\nmapping:\n  pipelines: [pipelines/rename.yml]\n",
            },
        )
        result = _run(tmp_path, "--env", "lab")
        assert result.exit_code == 0, _show(result)
        # The events were renamed as the pipeline renames the query's fields.
        assert "process.executable.keyword:/.*[cC][eE][rR][tT][uU][tT][iI][lL]" in result.stdout
        assert "fields (events holding each): CommandLine (2/2), process.executable (2/2)" in (
            result.stdout
        )
        assert f"events searched in elasticsearch {sandbox.url}" in result.stdout
        assert sandbox.api.store.index_names() == []


class _Interrupting:
    """A cluster whose searches are interrupted (Ctrl-C), recording what it was asked."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.describe = cluster.describe
        self.deleted: list[str] = []

    def create_index(self, index: str, mappings: Any = None) -> None:
        self.cluster.create_index(index, mappings)

    def bulk_index(self, index: str, docs: Any) -> None:
        self.cluster.bulk_index(index, docs)

    def search_many(self, index: str, bodies: Any) -> list[Any]:
        raise KeyboardInterrupt

    def delete_index(self, index: str) -> None:
        self.deleted.append(index)
        self.cluster.delete_index(index)


def test_the_scratch_index_is_deleted_when_the_run_is_interrupted(tmp_path: Path) -> None:
    from watchmgr import workflow
    from watchmgr.cluster import connect_url
    from watchmgr.errors import Diagnostics

    _write(tmp_path, {"rules/certutil.yml": CERTUTIL, "rules/certutil.tests.yml": CERTUTIL_TESTS})
    with Sandbox(SandboxConfig(es_version="8.19.0")) as sandbox:
        wrapped = _Interrupting(connect_url(sandbox.url, "t"))

        @contextmanager
        def opened(env: Any) -> Iterator[Any]:
            yield wrapped

        with pytest.raises(KeyboardInterrupt):
            workflow.test_rules(
                tmp_path,
                [],
                None,
                workflow.Choices(),
                Diagnostics(),
                opened,
                tuning=workflow.Tuning(cache=False),
            )
        assert len(wrapped.deleted) == 1 and wrapped.deleted[0].startswith("watchmgr-test-")
        assert sandbox.api.store.index_names() == []


class _Recording:
    """A cluster that records the mappings the scratch index is created with."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.created: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cluster, name)

    def create_index(self, index: str, mappings: Any = None) -> None:
        self.created.append(mappings)
        self.cluster.create_index(index, mappings)


def test_with_an_environment_the_scratch_index_maps_fields_as_the_watchs_indices_do(
    tmp_path: Path,
) -> None:
    from watchmgr import workflow
    from watchmgr.cluster import connect_url
    from watchmgr.errors import Diagnostics

    _write(tmp_path, {"rules/certutil.yml": CERTUTIL, "rules/certutil.tests.yml": CERTUTIL_TESTS})
    with Sandbox(SandboxConfig(es_version="8.19.0")) as sandbox:
        cluster = connect_url(sandbox.url, "t")
        cluster.create_index(
            "logs-win-1",
            {"properties": {"Image": {"type": "keyword"}, "Other": {"type": "long"}}},
        )
        _write(
            tmp_path,
            {
                "environments/lab.yaml": f"elasticsearch:\n  hosts: [{sandbox.url}]\n"
                "rules:\n  paths: [rules/]\nmapping:\n  keyword_suffix: ''\n"
                "  indices:\n    default: [logs-win-*]\n"
            },
        )
        recording = _Recording(cluster)

        @contextmanager
        def opened(env: Any) -> Iterator[Any]:
            yield recording

        report = Diagnostics()
        run = workflow.test_rules(
            tmp_path,
            [],
            "lab",
            workflow.Choices(),
            report,
            opened,
            tuning=workflow.Tuning(cache=False),
        )
    assert list(report) == []
    # Image as logs-win-1 maps it; CommandLine is in no index, so dynamic mapping decides.
    assert recording.created == [{"properties": {"Image": {"type": "keyword"}}}]
    assert [r.source for r in run.results] == ["rules/certutil.yml"]


def test_a_sandbox_environment_keeps_no_scratch_index_in_its_state(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "rules/certutil.yml": CERTUTIL,
            "rules/certutil.tests.yml": CERTUTIL_TESTS,
            "environments/local.yaml": "sandbox:\n  state: .watchmgr/local.json\n",
        },
    )
    result = _run(tmp_path, "--env", "local")
    assert result.exit_code == 0, _show(result)
    assert "events searched in the sandbox at http://127.0.0.1:" in result.stdout
    state = json.loads((tmp_path / ".watchmgr" / "local.json").read_text())
    assert state["indices"] == {}


def test_with_an_environment_the_credentials_come_from_the_variables_it_names(
    tmp_path: Path,
) -> None:
    from watchmgr.sandbox.config import ApiKey, Security

    key = ApiKey("tester", "secretkey", frozenset({"manage_watcher"}))
    with Sandbox(SandboxConfig(es_version="8.19.0", security=Security(api_keys=(key,)))) as sb:
        _write(
            tmp_path,
            {
                "rules/certutil.yml": CERTUTIL,
                "rules/certutil.tests.yml": CERTUTIL_TESTS,
                "environments/lab.yaml": f"elasticsearch:\n  hosts: [{sb.url}]\n"
                "  api_key_env: LAB_KEY\nrules:\n  paths: [rules/]\n",
            },
        )
        runner = CliRunner()
        args = ["test", "--env", "lab", "--root", str(tmp_path), "--no-cache"]
        refused = runner.invoke(app, args, env={"LAB_KEY": ""})
        accepted = runner.invoke(app, args, env={"LAB_KEY": key.encoded})
    assert refused.exit_code == 1, _show(refused)
    assert "LAB_KEY" in refused.stderr, _show(refused)
    assert accepted.exit_code == 0, _show(accepted)
