"""GET after PUT equals the normalized form, for each rule of watcher-api.md §2 (one test each)."""

from __future__ import annotations

from typing import Any

import pytest
from elasticsearch import BadRequestError, Elasticsearch

from watchmgr.sandbox import Sandbox, SandboxConfig
from watchmgr.sandbox.javamap import hashmap_order, java_string_hash
from watchmgr.sandbox.rules_table import ABSENT, RULES, Keys, Rejected, example_body

_MISSING = object()


def _lookup(body: Any, path: str) -> Any:
    current = body
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


@pytest.fixture(scope="module")
def es() -> Any:
    with (
        Sandbox(SandboxConfig(es_version="9.1.0")) as sandbox,
        Elasticsearch(sandbox.url, max_retries=0) as client,
    ):
        yield client


def test_rule_ids_are_unique_and_cited_in_the_normalizer() -> None:
    from pathlib import Path

    import watchmgr.sandbox.normalize as normalize

    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    source = Path(normalize.__file__).read_text("utf-8")
    numbered = [i for i in ids if i[0] in "TSQCAW" and i[1:].isdigit()]
    uncited = [i for i in numbered if f" {i}" not in source]
    assert not uncited, f"rules without an implementation comment in normalize.py: {uncited}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_get_after_put_is_normalized(es: Any, rule: Any) -> None:
    watch_id = f"rule-{rule.id.lower()}"
    body = example_body(rule)
    if isinstance(rule.expect, Rejected):
        with pytest.raises(BadRequestError) as caught:
            es.watcher.put_watch(id=watch_id, body=body)
        error = caught.value.body["error"]
        assert error["type"] == rule.expect.type, error
        assert rule.expect.reason in error["reason"] or any(
            rule.expect.reason in str(c.get("reason")) for c in [error.get("caused_by") or {}]
        ), error
        return
    es.watcher.put_watch(id=watch_id, body=body)
    got = es.watcher.get_watch(id=watch_id).body
    for path, expected in rule.expect.items():
        actual = _lookup(got, path)
        if expected == ABSENT:
            assert actual is _MISSING, f"{rule.id}: {path} should be absent, got {actual!r}"
        elif isinstance(expected, Keys):
            assert tuple(actual) == expected.names, f"{rule.id}: {path} keys {list(actual)}"
        else:
            assert actual == expected, f"{rule.id}: {path} = {actual!r}, expected {expected!r}"


def test_java_string_hash_matches_known_values() -> None:
    # Values of "".hashCode(), "a".hashCode(), "hello".hashCode(), "polygenelubricants" (MIN_VALUE)
    assert java_string_hash("") == 0
    assert java_string_hash("a") == 97
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -(2**31)


def test_metadata_comes_back_in_hashmap_order(es: Any) -> None:
    # Java HashMap buckets (16 slots): "zz".hashCode() = 3904 -> 0, "a" = 97 -> 1, "b" = 98 -> 2.
    meta = {"zz": 1, "b": 2, "a": 3}
    es.watcher.put_watch(id="order", trigger={"schedule": {"interval": "1m"}}, metadata=meta)
    got = es.watcher.get_watch(id="order").body["watch"]["metadata"]
    assert list(got) == list(hashmap_order(meta)) == ["zz", "a", "b"]
