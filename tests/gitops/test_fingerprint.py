"""The plan's fingerprint: a hash of what apply would do, blind to layout and to what moves by
itself on a cluster, and the hidden marker that carries it in a pull-request comment."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.plan.test_plan import ENV, body, desired, live
from watchmgr.fingerprint import (
    Marker,
    difference,
    fingerprint,
    marker_of,
    parse_markers,
    render_marker,
)
from watchmgr.output.plan import render_json
from watchmgr.plan import Plan, build_plan, plan_from_document
from watchmgr.watch import Watch, with_owner


def reviewed() -> Plan:
    """One create, one update, one delete and one no-op."""
    same, old = desired("same"), desired("changed")
    return build_plan(
        ENV,
        [same, desired("changed", interval="5m"), desired("new")],
        [live(same), live(old), live(desired("gone"))],
    )


def test_the_fingerprint_is_a_sha256_of_the_change_set() -> None:
    value = fingerprint(reviewed())
    assert value.startswith("sha256:") and len(value) == len("sha256:") + 64
    assert value == fingerprint(reviewed())


def test_a_plan_file_read_back_has_the_same_fingerprint_however_it_is_laid_out() -> None:
    plan = reviewed()
    data = json.loads(render_json([plan]))
    assert data["environments"][0]["fingerprint"] == fingerprint(plan)
    relaid = json.loads(json.dumps(data, indent=None, separators=(" ,", " :  ")))
    assert fingerprint(plan_from_document(relaid, ENV, "plan.json")) == fingerprint(plan)


def _reordered(watch: Watch) -> Watch:
    def flip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: flip(node[k]) for k in reversed(list(node))}
        return node

    return replace(watch, body=flip(watch.body))


def test_key_order_of_the_bodies_does_not_change_it() -> None:
    same, old = desired("same"), desired("changed")
    flipped = build_plan(
        ENV,
        [_reordered(w) for w in (same, desired("changed", interval="5m"), desired("new"))],
        [live(same), live(_reordered(old)), live(_reordered(desired("gone")))],
    )
    assert fingerprint(flipped) == fingerprint(reviewed())


def test_values_that_move_on_their_own_do_not_change_it() -> None:
    plan = reviewed()
    moved = replace(
        plan,
        changes=tuple(
            replace(c, seq_no=(c.seq_no or 0) + 40, primary_term=9, reason="for people")
            for c in plan.changes
        ),
        owned=plan.owned + 3,
    )
    assert fingerprint(moved) == fingerprint(plan)


def test_a_watch_that_ran_meanwhile_does_not_change_it() -> None:
    same, old = desired("same"), desired("changed")

    def ran(stored: dict[str, Any]) -> None:
        stored["status"] = {"state": {"active": True}, "last_checked": "2026-12-02T10:00:00Z"}

    plan = build_plan(
        ENV,
        [same, desired("changed", interval="5m"), desired("new")],
        [live(same, seq_no=99, edit=ran), live(old, seq_no=12, edit=ran), live(desired("gone"))],
    )
    assert fingerprint(plan) == fingerprint(reviewed())


def test_no_op_watches_are_not_part_of_it() -> None:
    extra = desired("also-same")
    same, old = desired("same"), desired("changed")
    plan = build_plan(
        ENV,
        [same, extra, desired("changed", interval="5m"), desired("new")],
        [live(same), live(extra), live(old), live(desired("gone"))],
    )
    assert fingerprint(plan) == fingerprint(reviewed())


def _other_rule_text() -> Plan:
    same, old = desired("same"), desired("changed")
    return build_plan(
        ENV,
        [same, desired("changed", interval="10m"), desired("new")],
        [live(same), live(old), live(desired("gone"))],
    )


def _live_edited_by_hand() -> Plan:
    same, old = desired("same"), desired("changed")

    def edit(stored: dict[str, Any]) -> None:
        stored["metadata"]["title"] = "edited by hand"

    return build_plan(
        ENV,
        [same, desired("changed", interval="5m"), desired("new")],
        [live(same), live(old, edit=edit), live(desired("gone"))],
    )


def _deactivated() -> Plan:
    same, old = desired("same"), desired("changed")
    return build_plan(
        ENV,
        [same, desired("changed", interval="5m"), desired("new", active=False)],
        [live(same), live(old), live(desired("gone"))],
    )


def _one_more_delete() -> Plan:
    same, old = desired("same"), desired("changed")
    return build_plan(
        ENV,
        [same, desired("changed", interval="5m"), desired("new")],
        [live(same), live(old), live(desired("gone")), live(desired("gone-too"))],
    )


def _same_watch_was_changed_out_of_band() -> Plan:
    same, old = desired("same"), desired("changed")

    def edit(stored: dict[str, Any]) -> None:
        stored["trigger"]["schedule"]["interval"] = "1h"

    return build_plan(
        ENV,
        [same, desired("changed", interval="5m"), desired("new")],
        [live(same, edit=edit), live(old), live(desired("gone"))],
    )


def _another_environment() -> Plan:
    return replace(reviewed(), environment="prod")


def _whitespace_inside_a_value(spaces: int = 2) -> Plan:
    # Whitespace *inside* a value is a real change (in a query it searches for something else).
    same, old = desired("same"), desired("changed")
    new = body("new")
    new["metadata"]["note"] = "two" + " " * spaces + "spaces"
    return build_plan(
        ENV,
        [same, desired("changed", interval="5m"), with_owner(Watch("new", "r", 1, new), ENV)],
        [live(same), live(old), live(desired("gone"))],
    )


@pytest.mark.parametrize(
    "changed",
    [
        _other_rule_text,
        _live_edited_by_hand,
        _deactivated,
        _one_more_delete,
        _same_watch_was_changed_out_of_band,
        _another_environment,
        _whitespace_inside_a_value,
    ],
)
def test_any_real_change_changes_it(changed: Any) -> None:
    assert fingerprint(changed()) != fingerprint(reviewed())


def test_whitespace_inside_a_value_counts() -> None:
    one, two = _whitespace_inside_a_value(1), _whitespace_inside_a_value(2)
    assert fingerprint(one) != fingerprint(two)


# ------------------------------------------------------------------------------ the marker


def test_the_marker_says_environment_fingerprint_counts_and_each_change() -> None:
    plan = reviewed()
    (marker,) = parse_markers(f"text before\n{render_marker(marker_of(plan))}\ntext after")
    assert marker.environment == ENV
    assert marker.fingerprint == fingerprint(plan)
    assert marker.summary == {"create": 1, "update": 1, "delete": 1, "adopt": 0, "conflict": 0}
    assert marker.changes is not None
    assert sorted(marker.changes) == ["changed", "gone", "new"]
    assert marker.changes["gone"].startswith("delete:")


def test_no_watch_id_can_close_the_marker_early() -> None:
    marker = Marker(ENV, "sha256:" + "0" * 64, {"create": 1}, {"a --> <!-- b": "create:1"})
    text = render_marker(marker)
    assert text.count("-->") == 1 and text.endswith("-->")
    assert parse_markers(text) == [marker]


def test_malformed_markers_are_ignored() -> None:
    texts = [
        "<!-- watchmgr:plan {not json} -->",
        '<!-- watchmgr:plan {"environment": "x"} -->',
        '<!-- watchmgr:plan {"environment": "x", "fingerprint": "md5:1", "summary": {}} -->',
    ]
    assert parse_markers("\n".join(texts)) == []


def test_a_marker_of_a_huge_plan_keeps_the_fingerprint_but_not_the_list() -> None:
    plan = build_plan(ENV, [desired(f"watch-{i:05}") for i in range(2000)], [])
    marker = marker_of(plan)
    assert marker.changes is None and marker.fingerprint == fingerprint(plan)
    assert len(render_marker(marker)) < 1000


def test_the_difference_names_each_watch_that_differs() -> None:
    lines = difference(marker_of(reviewed()), marker_of(_one_more_delete()))
    assert lines[0].startswith("reviewed sha256:")
    assert lines[1:] == ["gone-too: no change in the reviewed plan, delete now"]
    lines = difference(marker_of(reviewed()), marker_of(_live_edited_by_hand()))
    assert lines[1:] == ["changed: update, but of another body or live state"]
    assert difference(marker_of(reviewed()), marker_of(reviewed())) == []


def test_the_difference_of_huge_plans_gives_the_counts() -> None:
    big = build_plan(ENV, [desired(f"watch-{i:05}") for i in range(2000)], [])
    lines = difference(marker_of(reviewed()), marker_of(big))
    assert "2000 create" in lines[0] and "1 delete" in lines[0]
    assert "too many changes" in lines[1]
