"""`watchmgr check --env E`: each watch's query against the field mappings of its indices."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchmgr.cli import app
from watchmgr.errors import SourceLocation
from watchmgr.fieldcheck import CheckedWatch, check_watch, ignore_above_summary
from watchmgr.ruletest import query_fields
from watchmgr.sandbox import Sandbox, SandboxConfig

HERE = SourceLocation("rules/r.yml", 1)
TEXT = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


def _watch(query: str, watch_id: str = "W") -> CheckedWatch:
    return CheckedWatch(watch_id, HERE, ("logs-*",), query_fields(query))


def _messages(query: str, mappings: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    return [str(d) for d in check_watch(_watch(query), mappings)]


def test_a_watch_that_fits_its_mappings_gets_no_warning() -> None:
    mappings = {"logs-1": {"Image.keyword": {"type": "keyword", "ignore_above": 256}}}
    assert _messages(r"Image.keyword:*\\cmd.exe", mappings) == []


def test_a_field_in_none_of_the_indices_is_named() -> None:
    assert _messages("Imagee:x", {"logs-1": {"Image": TEXT}, "logs-2": {}}) == [
        "rules/r.yml:1: warning: watch 'W': field 'Imagee' is in none of its indices (logs-1, "
        "logs-2): nothing matches it; check the field name and the environment's pipelines"
    ]


def test_indices_that_match_nothing_are_one_warning_for_all_their_watches() -> None:
    from watchmgr.fieldcheck import no_index

    assert str(no_index([_watch("A:x"), _watch("B:y", "V")])) == (
        "rules/r.yml:1: warning: logs-* matches no index on the cluster, so 2 watches search "
        "nothing (the first: 'W'); check the environment's mapping.indices"
    )


def test_a_wildcard_or_regex_on_a_text_only_field_is_named_once() -> None:
    found = _messages(
        "CommandLine:(*a* OR *b*) AND CommandLine:/x.*/", {"l": {"CommandLine": TEXT}}
    )
    assert len(found) == 2
    assert found[0].startswith(
        "rules/r.yml:1: warning: watch 'W': a wildcard on 'CommandLine', which is text in its "
        "indices: it matches single lower-cased words"
    )
    assert "a regex on 'CommandLine'" in found[1]
    # A keyword in one of the indices is enough for the wildcard to mean something there.
    mixed = {"a": {"CommandLine": TEXT}, "b": {"CommandLine": {"type": "wildcard"}}}
    assert _messages("CommandLine:*a*", mixed) == []


def test_a_value_longer_than_ignore_above_can_never_match() -> None:
    mappings = {"l": {"Path.keyword": {"type": "keyword", "ignore_above": 8}}}
    assert _messages(r"Path.keyword:*\\short", mappings) == []
    assert _messages(r"Path.keyword:*\\much\\longer*", mappings) == [
        "rules/r.yml:1: warning: watch 'W': 'Path.keyword' keeps values up to 8 characters in l "
        "(ignore_above), but the query's value has at least 12: it can never match; map it as "
        "'wildcard' (as ECS does for command lines) or raise its ignore_above"
    ]


def test_wildcards_on_keyword_fields_with_ignore_above_are_summed_up_per_field() -> None:
    mappings = {"l": {"C.keyword": {"type": "keyword", "ignore_above": 256}}}
    checked = [
        (_watch("C.keyword:*a*"), mappings),
        (_watch("C.keyword:*b* AND X:1", "V"), mappings),
    ]
    assert [str(d) for d in ignore_above_summary(checked)] == [
        "watchmgr: warning: 2 watches search 'C.keyword' with wildcards or regexes, but it keeps "
        "only values up to 256 characters (ignore_above): longer ones are never matched; map it "
        "as 'wildcard' (as ECS does for command lines) or raise its ignore_above"
    ]


RULE = """\
title: {title}
logsource: {{category: process_creation, product: windows}}
detection:
  selection:
    {selection}
  condition: selection
"""


def test_check_reads_the_mappings_of_each_watchs_indices_from_the_cluster(tmp_path: Path) -> None:
    from watchmgr.cluster import connect_url

    rules = {
        "fits": "Image|endswith: 'cmd.exe'",
        "typo": "Imagee|endswith: 'cmd.exe'",
        "text": "CommandLine|contains: 'urlcache'",
        "long": "Image|endswith: '\\\\a\\\\very\\\\long\\\\path\\\\cmd.exe'",
    }
    for name, selection in rules.items():
        path = tmp_path / "rules" / f"{name}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RULE.format(title=name, selection=selection))
    linux = RULE.format(title="linux", selection="Image: x").replace("windows", "linux")
    (tmp_path / "rules" / "linux.yml").write_text(linux)
    with Sandbox(SandboxConfig(es_version="8.19.0")) as sandbox:
        client = connect_url(sandbox.url, "t").client
        client.indices.create(
            index="logs-1",
            mappings={
                "properties": {
                    "Image": {"type": "keyword", "ignore_above": 16},
                    "CommandLine": {"type": "text"},
                }
            },
        )
        (tmp_path / "environments").mkdir()
        (tmp_path / "environments" / "lab.yaml").write_text(
            f"elasticsearch:\n  hosts: [{sandbox.url}]\nrules:\n  paths: [rules/]\n"
            "mapping:\n  keyword_suffix: ''\n  indices:\n    default: [logs-*]\n"
            "    by_logsource:\n      - {product: linux, indices: [auditbeat-*]}\n"
        )
        result = CliRunner().invoke(app, ["check", "--env", "lab", "--root", str(tmp_path)])
        as_json = CliRunner().invoke(
            app, ["check", "--env", "lab", "--root", str(tmp_path), "--format", "json"]
        )
    assert as_json.exit_code == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert {k: document[k] for k in ("format_version", "environment", "watches", "warned")} == {
        "format_version": 1,
        "environment": "lab",
        "watches": 5,
        "warned": 4,
    }
    warned = [
        f"{w['path']}{'' if w['line'] is None else ':' + str(w['line'])}: warning: {w['message']}"
        for w in document["warnings"]
    ]
    assert warned == [line for line in as_json.stderr.splitlines() if ": warning: " in line]
    assert len(warned) == 5 and warned[0].startswith("rules/linux.yml:1: warning: auditbeat-*")
    shown = f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    assert result.exit_code == 0, shown
    lines = result.stderr.splitlines()
    assert lines[-1] == "5 watches checked, 4 with warnings", shown
    assert lines.pop(0) == (
        "rules/linux.yml:1: warning: auditbeat-* matches no index on the cluster, so 1 watch "
        "searches nothing (the first: 'linux'); check the environment's mapping.indices"
    ), shown
    assert lines[0].startswith(
        "rules/long.yml:1: warning: watch 'long': 'Image' keeps values up to 16"
    )
    assert lines[1].startswith("rules/text.yml:1: warning: watch 'text': a regex on 'CommandLine'")
    assert lines[2].startswith("rules/typo.yml:1: warning: watch 'typo': field 'Imagee' is in none")
    assert lines[3].startswith("watchmgr: warning: 2 watches search 'Image' with wildcards")
