"""GET after PUT equals the normalized form, for each rule of watcher-api.md §2 (one test each)."""

from __future__ import annotations

from typing import Any

import pytest
from elasticsearch import BadRequestError, Elasticsearch
from rules_table import ABSENT, RULES, Keys, Rejected, example_body

from watchmgr.sandbox import Sandbox, SandboxConfig
from watchmgr.sandbox.javamap import hashmap_order, java_string_hash

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


_DEFAULT_YEAR = {"in": ["JAN"], "on": [1], "at": [{"hour": [0], "minute": [0]}]}

# §2.2 S11 as ES's YearTimes / Month / MonthTimes / DayTimes read and write it:
# (what is PUT under "yearly", what GET returns under "yearly")
YEARLY: list[tuple[str, Any, list[dict[str, Any]]]] = [
    ("nothing given: JAN, the 1st, 00:00", {}, [_DEFAULT_YEAR]),
    ("an empty array is the default too", [], [_DEFAULT_YEAR]),
    ("empty lists are the defaults", {"in": [], "on": [], "at": []}, [_DEFAULT_YEAR]),
    (
        "months: names, 3 letters, numbers, first/last; any case; a set in calendar order",
        {"in": ["December", "first", "last", 7, "Sep", "7"]},
        [{**_DEFAULT_YEAR, "in": ["JAN", "JUL", "SEP", "DEC"]}],
    ),
    (
        "days: sorted unique ints; first_day 1, last_day 32, in any case; 32 as a number",
        {"on": ["LAST_DAY", 15, "15", "first_day", 32]},
        [{**_DEFAULT_YEAR, "on": [1, 15, 32]}],
    ),
    (
        "the deprecated names month / day / time feed in / on / at",
        {"month": "feb", "day": 2, "time": "17:30", "on": 1},
        [{"in": ["FEB"], "on": [1, 2], "at": ["17:30"]}],
    ),
    (
        "at strings are kept; objects get int arrays, duplicate hours kept",
        {"at": {"hour": [9, 9]}},
        [{**_DEFAULT_YEAR, "at": [{"hour": [9, 9], "minute": [0]}]}],
    ),
    (
        "`hours` is not a key of a time: dropped, hour stays 0 (S13)",
        {"at": {"hours": 9, "minute": 30}},
        [{**_DEFAULT_YEAR, "at": [{"hour": [0], "minute": [30]}]}],
    ),
    (
        "an unknown key with a plain value is skipped",
        {"in": "mar", "every": "year"},
        [{**_DEFAULT_YEAR, "in": ["MAR"]}],
    ),
    (
        "several entries keep their order",
        [{"in": "feb"}, {"in": "jan"}],
        [{**_DEFAULT_YEAR, "in": ["FEB"]}, _DEFAULT_YEAR],
    ),
]


@pytest.mark.parametrize(("put", "got"), [c[1:] for c in YEARLY], ids=[c[0] for c in YEARLY])
def test_yearly_schedule_is_stored_as_es_writes_it(es: Any, put: Any, got: Any) -> None:
    es.watcher.put_watch(id="yearly", trigger={"schedule": {"yearly": put}})
    yearly = es.watcher.get_watch(id="yearly").body["watch"]["trigger"]["schedule"]["yearly"]
    assert yearly == got
    assert all(list(entry) == ["in", "on", "at"] for entry in yearly), yearly


@pytest.mark.parametrize(
    ("put", "reason"),
    [({"in": "jam"}, "unknown value [jam]"), ({"on": 33}, "value must be between 1 and 32")],
    ids=["unknown month", "day past 32"],
)
def test_yearly_schedule_rejects_what_es_rejects(es: Any, put: Any, reason: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.watcher.put_watch(id="yearly-bad", trigger={"schedule": {"yearly": put}})
    assert reason in str(caught.value.body), caught.value.body
