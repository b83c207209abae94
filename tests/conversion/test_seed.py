"""The seed: one Sigma rule, the query and the watch legacy sigmac made of it, to the byte."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import pytest

from tests.conversion.support import render_yaml, without_owner


def _seed(shared: Path) -> tuple[str, str, str, dict[str, object]]:
    text = next((shared / "seed").glob("*.txt")).read_text(encoding="utf-8")
    blocks = re.findall(r"### ([\w-]+)\s*\n\s*```\n(.*?)\n```", text, re.DOTALL)
    sections = {name: body for name, body in blocks}
    rule = re.search(r"### Sigma rule\s*\n+```\n(.*?)\n```", text, re.DOTALL)
    assert rule is not None
    # The page stored stdout as a bytes repr; reverse exactly that (see the conformance README).
    curl = codecs.escape_decode(sections["xpack-watcher"].strip().encode())[0].decode("utf-8")
    match = re.match(
        r"curl .* localhost:9200/_watcher/watch/(\S+) <<EOF\n(.*)\nEOF\n", curl, re.DOTALL
    )
    assert match is not None
    query = codecs.escape_decode(sections["es-qs"].strip().encode())[0].decode("utf-8")
    return rule.group(1), query, match.group(1), json.loads(match.group(2))


def test_the_seed_rule_renders_to_the_seed_watch_id_and_body_in_key_order(shared: Path) -> None:
    rule, query, watch_id, body = _seed(shared)
    result, problems = render_yaml(rule, dialect="sigmac-2020")
    assert problems == []
    [watch] = result.watches
    assert watch.id == watch_id
    assert watch.body["metadata"]["query"] == query
    # json.dumps keeps key order, so this compares order too.
    assert json.dumps(without_owner(watch.body)) == json.dumps(body)


@pytest.mark.parametrize("dialect", ["sigmac", "sigmac-2020"])
def test_both_dialects_agree_on_the_seed(shared: Path, dialect: str) -> None:
    rule, query, _, _ = _seed(shared)
    result, _ = render_yaml(rule, dialect=dialect)
    assert result.watches[0].body["metadata"]["query"] == query


def test_the_only_key_watchmgr_adds_is_metadata_watchmgr(shared: Path) -> None:
    rule, _, _, body = _seed(shared)
    result, _ = render_yaml(rule, path="rules/windows/remote_ps.yml")
    watch = result.watches[0]
    assert list(watch.body["metadata"]) == [*body["metadata"], "watchmgr"]  # type: ignore[misc]
    assert watch.body["metadata"]["watchmgr"] == {
        "rule_id": "c539afac-c12a-46ed-b1bd-5a5567c9f045",
        "source": "rules/windows/remote_ps.yml",
    }
