"""One place for each decision: the comparison of desired and live, and watchmgr's mark.

`normalize.compare` is the only answer to "is this watch as desired?" (the planner, a saved
plan's staleness check and apply all ask it), and `watch.Ownership` the only reader and writer
of ``metadata.watchmgr``. The last tests check the source so that no second copy creeps back.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from watchmgr import normalize
from watchmgr.plan import LiveWatch, as_planned, build_plan
from watchmgr.watch import Ownership, Watch, with_owner

PACKAGE = Path(__file__).resolve().parents[2] / "watchmgr"


def body(**metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"title": "t", **metadata},
        "trigger": {"schedule": {"interval": "30m"}},
        "input": {"search": {"request": {"body": {"size": 0}, "indices": ["logs-*"]}}},
        "condition": {"compare": {"ctx.payload.hits.total": {"not_eq": 0}}},
        "actions": {
            "hook": {
                "webhook": {
                    "url": "https://example.org/x",
                    "auth": {"basic": {"username": "u", "password": "secret"}},
                }
            }
        },
    }


def owned(environment: str = "dev", **metadata: Any) -> Watch:
    mark = Ownership("r1", "rules/a.yml").to_metadata()
    return with_owner(Watch("a", "rules/a.yml", 1, body(watchmgr=mark, **metadata)), environment)


# ------------------------------------------------------------------------------ the comparison


def test_a_stored_body_compares_the_same_as_the_body_it_was_made_from() -> None:
    watch = owned()
    comparison = normalize.compare(watch.body, normalize.canonical(watch.body))
    assert comparison.same
    assert comparison.desired == comparison.live


def test_the_digest_never_makes_a_difference_but_the_rest_of_the_mark_does() -> None:
    watch = owned()
    stored = normalize.canonical(watch.body)
    stored["metadata"]["watchmgr"]["digest"] = "something else"
    assert normalize.same(watch.body, stored)
    stored["metadata"]["watchmgr"]["environment"] = "prod"
    assert not normalize.same(watch.body, stored)


def test_both_sides_are_shown_without_the_digest() -> None:
    watch = owned()
    comparison = normalize.compare(watch.body, normalize.canonical(watch.body))
    for side in (comparison.desired, comparison.live):
        assert side is not None and "digest" not in side["metadata"]["watchmgr"]


def test_a_hidden_secret_reads_as_the_desired_value_on_the_live_side() -> None:
    watch = owned()
    stored = normalize.canonical(watch.body)
    stored["actions"]["hook"]["webhook"]["auth"]["basic"]["password"] = normalize.REDACTED
    comparison = normalize.compare(watch.body, stored)
    assert comparison.same
    assert comparison.live is not None
    assert comparison.live["actions"]["hook"]["webhook"]["auth"]["basic"]["password"] == "secret"


def test_a_missing_side_is_none_and_the_other_is_still_canonical() -> None:
    watch = owned()
    create = normalize.compare(watch.body, None)
    delete = normalize.compare(None, watch.body)
    assert create.live is None and delete.desired is None
    assert create.desired == delete.live
    assert create.desired is not None and create.desired["input"]["search"]["request"][
        "search_type"
    ] == ("query_then_fetch")


def test_live_was_tells_a_moved_watch_from_one_as_planned() -> None:
    watch = owned()
    stored = normalize.canonical(watch.body)
    before = normalize.compare(watch.body, stored).live
    assert normalize.compare(watch.body, stored).live_was(before)
    stored["trigger"]["schedule"]["interval"] = "1m"
    assert not normalize.compare(watch.body, stored).live_was(before)


def test_the_planner_and_the_staleness_check_agree_with_the_comparison() -> None:
    watch = owned()
    stored = normalize.canonical(watch.body)
    stored["metadata"]["watchmgr"]["digest"] = "0"  # a digest never differs
    live = LiveWatch("a", stored, True, 4, 1)
    (change,) = build_plan("dev", [watch], [live]).changes
    assert change.action.value == "no-op"
    assert as_planned(change, live)
    edited = dict(stored, trigger={"schedule": {"interval": "1m"}})
    assert not as_planned(change, LiveWatch("a", edited, True, 5, 1))


# ------------------------------------------------------------------------------ ownership


def test_the_mark_is_written_in_one_key_order_and_read_back() -> None:
    mark = Ownership("r1", "rules/a.yml", "dev", "abc")
    assert list(mark.to_metadata()) == ["rule_id", "source", "environment", "digest"]
    assert Ownership.of({"metadata": {"watchmgr": mark.to_metadata()}}) == mark


def test_a_mark_without_environment_or_digest_leaves_them_out() -> None:
    assert Ownership(None, "rules/a.yml").to_metadata() == {
        "rule_id": None,
        "source": "rules/a.yml",
    }


@pytest.mark.parametrize(
    "watch_body",
    [
        None,
        {},
        {"metadata": "not an object"},
        {"metadata": {"title": "deployed by sigmac"}},
        {"metadata": {"watchmgr": ["not", "an", "object"]}},
    ],
)
def test_a_watch_without_a_mark_has_no_ownership(watch_body: dict[str, Any] | None) -> None:
    assert Ownership.of(watch_body) is None


def test_fields_of_the_wrong_type_read_as_absent() -> None:
    mark = {"rule_id": 7, "source": "rules/a.yml", "environment": ["dev"], "digest": None}
    assert Ownership.of({"metadata": {"watchmgr": mark}}) == Ownership(None, "rules/a.yml")


def test_stamping_keeps_the_mark_where_it_was_and_copies_the_body() -> None:
    original = body(watchmgr={"rule_id": "r1"}, tags=["x"])
    stamped = Ownership("r1", "rules/a.yml", "dev").stamp(original)
    assert list(stamped["metadata"]) == ["title", "watchmgr", "tags"]
    assert stamped["metadata"]["watchmgr"]["environment"] == "dev"
    assert original["metadata"]["watchmgr"] == {"rule_id": "r1"}


def test_with_owner_signs_the_body_and_a_live_watch_reads_its_owner() -> None:
    watch = owned("prod")
    mark = Ownership.of(watch.body)
    assert mark is not None and mark.environment == "prod" and mark.digest
    assert LiveWatch("a", watch.body, True, 1, 1).environment == "prod"
    assert with_owner(watch, "prod") == watch


def test_unmarked_drops_only_watchmgrs_key() -> None:
    shown = Ownership.unmarked(owned().body)
    assert shown["metadata"] == {"title": "t"}
    assert "metadata" not in Ownership.unmarked({"metadata": {"watchmgr": {}}})


# ------------------------------------------------------------------------------ no second copy


def _product_modules() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(PACKAGE.parent)): ast.parse(p.read_text("utf-8"))
        for p in PACKAGE.rglob("*.py")
        if "sandbox" not in p.relative_to(PACKAGE).parts
    }


def _calls(tree: ast.Module, name: str) -> int:
    """How many calls of a function or method called `name` the module makes."""
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    )


def test_only_the_normalizer_makes_the_canonical_form() -> None:
    # Comparing canonical forms anywhere else would be a second comparison.
    found = {m for m, tree in _product_modules().items() if _calls(tree, "canonical")}
    assert found == {"watchmgr/normalize.py"}


def _touches_the_mark(tree: ast.Module) -> bool:
    """Whether a module reads or writes ``metadata.watchmgr`` itself: the key as a literal
    subscript or ``.get`` argument, `Ownership.KEY`, or a constant of its own for it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "OWNER_KEY":
            return True
        if isinstance(node, ast.Attribute) and ast.unparse(node) == "Ownership.KEY":
            return True
        key = None
        if isinstance(node, ast.Subscript):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and node.args
        ):
            key = node.args[0]
        if isinstance(key, ast.Constant) and key.value == "watchmgr":
            return True
    return False


def test_only_the_ownership_type_reads_or_writes_the_mark() -> None:
    found = {m for m, tree in _product_modules().items() if _touches_the_mark(tree)}
    assert found == {"watchmgr/watch.py"}
