"""Fuzzing with hypothesis: hostile values never crash watchmgr, they become its own errors.

* Sigma values and detections of any shape: loading and rendering raise nothing (a rule that
  cannot be converted is a diagnostic), and every query rendered in the default dialect is
  valid Lucene query_string syntax (the sandbox's parser follows Lucene's classic grammar).
* Any JSON a cluster might answer the watch listing with: planning against it returns a plan or
  raises a `WatchmgrError`, never anything else.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from watchmgr.apply import plan_against
from watchmgr.cluster import Cluster
from watchmgr.errors import WatchmgrError
from watchmgr.rules import load_text
from watchmgr.sandbox.querystring import parse_query_string
from watchmgr.settings import DEFAULT_SETTINGS
from watchmgr.watch import Watch, render_rules, with_owner

# ------------------------------------------------------------------------------ Sigma

#: Characters that mean something to Lucene, YAML, Sigma or Mustache, and some that do not.
ALPHABET = st.sampled_from([*"ab Z09*?\\/:\"'()[]{}<>!^~+-&|=,.;#%$@`\t", "é", "日", "\u200b"])
TEXT = st.text(ALPHABET, max_size=10)
VALUE = st.one_of(TEXT, st.integers(-3, 70000), st.none(), st.booleans(), st.floats(-1, 1e6))
FIELD = st.sampled_from(
    ["Image", "CommandLine", "winlog.event_data.User", "Field Name", "a:b", "x*y", "ünï", "a\\b"]
)
MODIFIERS = st.lists(
    st.sampled_from(
        [
            "contains",
            "startswith",
            "endswith",
            "all",
            "re",
            "i",
            "cidr",
            "base64",
            "base64offset",
            "windash",
            "wide",
            "utf16le",
            "exists",
            "gt",
            "lte",
            "cased",
            "expand",
        ]
    ),
    max_size=2,
    unique=True,
)
ITEM = st.tuples(FIELD, MODIFIERS, st.one_of(VALUE, st.lists(VALUE, min_size=1, max_size=3)))
SELECTION = st.one_of(
    st.lists(ITEM, min_size=1, max_size=3).map(
        lambda items: {"|".join([f, *m]): v for f, m, v in items}
    ),
    st.lists(TEXT, min_size=1, max_size=3),  # keywords
)
CONDITION = st.sampled_from(
    [
        "sel0",
        "sel0 and not sel1",
        "sel0 or sel1",
        "1 of sel*",
        "all of them",
        "not sel0",
        "sel0 | count(Image) by CommandLine > 2",
        "sel0 AND NOT (sel1 OR sel0)",
    ]
)


@st.composite
def rules(draw: Any) -> str:
    selections = draw(st.lists(SELECTION, min_size=2, max_size=3))
    detection: dict[str, Any] = {f"sel{n}": s for n, s in enumerate(selections)}
    detection["condition"] = draw(CONDITION)
    rule = {
        "title": draw(st.text(ALPHABET, min_size=1, max_size=20)),
        "logsource": {"product": "windows", "category": "process_creation"},
        "detection": detection,
        "level": "high",
    }
    return yaml.safe_dump(rule, allow_unicode=True)


#: Examples the fuzzer once found crashing, kept so that they stay fixed.
FOUND = [
    "detection:\n  condition: sel0 and not sel1\n  sel0:\n    Image: null\n  sel1:\n"
    "    Image|re: 0\nlevel: high\nlogsource:\n  category: process_creation\n"
    "  product: windows\ntitle: '0'\n",
]


# derandomize: CI runs the same examples every time (a search of 4,000 more found nothing).
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=rules())
@example(text=FOUND[0])
def test_any_sigma_rule_renders_to_valid_lucene_or_fails_with_a_located_error(text: str) -> None:
    loaded, diagnostics = load_text(text.encode(), "rules/fuzz.yml")
    assert all(str(d).startswith("rules/fuzz.yml:") for d in diagnostics)
    for dialect in ("sigma", "sigmac", "sigmac-2020"):
        chosen = DEFAULT_SETTINGS.__class__(**{**_fields(DEFAULT_SETTINGS), "dialect": dialect})
        rendered = render_rules(loaded, lambda _rule, s=chosen: s)
        assert all(str(d).startswith("rules/fuzz.yml:") for d in rendered.diagnostics)
        if dialect != "sigmac-2020":
            for watch in rendered.watches:
                parse_query_string(watch.body["metadata"]["query"])


def _fields(obj: Any) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(obj, f.name) for f in fields(obj)}


# ------------------------------------------------------------------------------ cluster answers

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
OWNED = st.fixed_dictionaries({"metadata": st.just({"watchmgr": {"environment": "dev"}})})
BODY = st.one_of(
    JSON, OWNED, st.builds(lambda a, b: {**a, **b} if isinstance(a, dict) else b, JSON, OWNED)
)
ITEM_SHAPE = st.fixed_dictionaries(
    {},
    optional={
        "_id": st.one_of(st.sampled_from(["Rule-A", "other", "Rule-B"]), JSON),
        "watch": BODY,
        "status": st.one_of(st.just({"state": {"active": True}}), JSON),
        "_seq_no": st.one_of(st.integers(0, 9), JSON),
        "_primary_term": st.one_of(st.just(1), JSON),
    },
)
#: Items of Elasticsearch's shape around watch bodies of any shape.
WELL_FORMED = st.fixed_dictionaries(
    {
        "_id": st.sampled_from(["Rule-A", "other", "Rule-B"]),
        "watch": BODY,
        "status": st.builds(lambda a: {"state": {"active": a}}, st.booleans()),
        "_seq_no": st.integers(0, 9),
        "_primary_term": st.just(1),
    }
)
LISTING = st.one_of(
    JSON,
    st.lists(WELL_FORMED, max_size=3, unique_by=lambda i: i["_id"]).map(
        lambda items: {"count": len(items), "watches": items}
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "count": st.one_of(st.integers(0, 3), JSON),
            "watches": st.one_of(st.lists(ITEM_SHAPE, max_size=3), JSON),
        },
    ),
)


class _Watcher:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def query_watches(self, **_: Any) -> Any:
        return self.answer


class _Client:
    def __init__(self, answer: Any) -> None:
        self.watcher = _Watcher(answer)


DESIRED = [
    with_owner(
        Watch(watch_id, f"rules/{watch_id}.yml", 1, {"trigger": {"schedule": {"interval": "5m"}}}),
        "dev",
    )
    for watch_id in ("Rule-A", "Rule-B")
]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(answer=LISTING)
def test_any_listing_answer_plans_or_is_a_watchmgr_error(answer: Any) -> None:
    cluster = Cluster(_Client(answer), "dev", None, "the fake cluster")  # type: ignore[arg-type]
    try:
        plan = plan_against(cluster, DESIRED)
    except WatchmgrError:
        return
    assert {c.watch_id for c in plan.changes} >= {"Rule-A", "Rule-B"}
