"""The planner as a pure function: tables of desired × live -> actions, no server."""

from __future__ import annotations

from typing import Any

import pytest

from watchmgr import normalize
from watchmgr.plan import (
    ChangeAction,
    LiveWatch,
    Plan,
    PlanError,
    build_plan,
    check_mass_delete,
    document,
    plan_from_document,
    with_adoptions,
)
from watchmgr.watch import Watch, with_owner

ENV = "test"


def body(
    title: str, rule_id: str | None = None, interval: str = "30m", **meta: Any
) -> dict[str, Any]:
    return {
        "metadata": {
            "title": title,
            "watchmgr": {"rule_id": rule_id, "source": f"rules/{title}.yml"},
            **meta,
        },
        "trigger": {"schedule": {"interval": interval}},
        "input": {"search": {"request": {"body": {"size": 0}, "indices": []}}},
        "condition": {"compare": {"ctx.payload.hits.total": {"not_eq": 0}}},
        "actions": {
            "send_email": {"email": {"to": "root@localhost", "subject": title, "body": "x"}}
        },
    }


def desired(watch_id: str, active: bool = True, env: str = ENV, **kw: Any) -> Watch:
    watch = Watch(watch_id, f"rules/{watch_id}.yml", 1, body(watch_id, **kw), active)
    return with_owner(watch, env)


def live(
    watch: Watch, *, active: bool | None = None, seq_no: int = 7, edit: Any = None
) -> LiveWatch:
    stored = normalize.canonical(watch.body)
    if edit:
        edit(stored)
    return LiveWatch(watch.id, stored, watch.active if active is None else active, seq_no, 1)


def unowned(watch_id: str) -> LiveWatch:
    stored = normalize.canonical(body(watch_id))
    del stored["metadata"]["watchmgr"]
    return LiveWatch(watch_id, stored, True, 3, 1)


def actions(plan: Plan) -> dict[str, str]:
    return {c.watch_id: c.action.value for c in plan.changes}


def test_create_update_delete_noop_sorted_by_id() -> None:
    a, b, c = desired("a"), desired("b"), desired("c")
    changed = desired("b", interval="5m")
    plan = build_plan(ENV, [c, changed, a], [live(a), live(b), live(desired("z"))])
    assert actions(plan) == {"a": "no-op", "b": "update", "c": "create", "z": "delete"}
    assert [ch.watch_id for ch in plan.changes] == ["a", "b", "c", "z"]
    assert plan.summary == {
        "create": 1,
        "update": 1,
        "delete": 1,
        "adopt": 0,
        "no-op": 1,
        "conflict": 0,
    }


def test_an_update_carries_a_field_diff_and_the_live_seq_no() -> None:
    old, new = desired("a"), desired("a", interval="5m")
    (change,) = build_plan(ENV, [new], [live(old, seq_no=41)]).changes
    assert change.action is ChangeAction.UPDATE
    assert [(d.path, d.op, d.old, d.new) for d in change.diff] == [
        ("trigger.schedule.interval", "change", "30m", "5m")
    ]
    assert (change.seq_no, change.primary_term) == (41, 1)
    assert change.reason == "the rule or the environment changed"


def test_the_digest_is_never_compared() -> None:
    watch = desired("a")
    assert actions(
        build_plan(
            ENV, [watch], [live(watch, edit=lambda b: b["metadata"]["watchmgr"].update(digest="0"))]
        )
    ) == {"a": "no-op"}


def test_a_hand_edit_shows_as_drift() -> None:
    watch = desired("a")
    stored = live(watch, edit=lambda b: b["trigger"]["schedule"].update(interval="1m"))
    (change,) = build_plan(ENV, [watch], [stored]).changes
    assert change.action is ChangeAction.UPDATE
    assert change.reason.startswith("drift")
    assert [(d.path, d.old, d.new) for d in change.diff] == [
        ("trigger.schedule.interval", "1m", "30m")
    ]


@pytest.mark.parametrize(
    ("want", "have", "respect", "expected", "after"),
    [
        (True, True, False, "no-op", True),
        (False, True, False, "update", False),
        (True, False, False, "update", True),
        (True, False, True, "no-op", False),  # on-call silenced it; the environment respects that
        (False, True, True, "no-op", True),
    ],
)
def test_active_state_is_part_of_the_plan(
    want: bool, have: bool, respect: bool, expected: str, after: bool
) -> None:
    watch = desired("a", active=want)
    (change,) = build_plan(
        ENV, [watch], [live(watch, active=have)], respect_remote_active=respect
    ).changes
    assert change.action.value == expected
    assert change.after_active is after
    if expected == "update":
        assert change.state_only
        assert [(d.path, d.old, d.new) for d in change.diff] == [("active", have, want)]


def test_an_unowned_watch_at_a_desired_id_is_a_conflict_or_with_adopt_an_adoption() -> None:
    watch = desired("a")
    other = unowned("a")
    (conflict,) = build_plan(ENV, [watch], [], [other]).changes
    assert conflict.action is ChangeAction.CONFLICT
    assert "--adopt" in conflict.reason
    (adopt,) = build_plan(ENV, [watch], [], [other], adopt=True).changes
    assert adopt.action is ChangeAction.ADOPT
    assert (adopt.seq_no, adopt.primary_term) == (3, 1)
    assert (
        with_adoptions(build_plan(ENV, [watch], [], [other])).changes[0].action
        is ChangeAction.ADOPT
    )


def test_a_watch_of_another_environment_is_never_adopted() -> None:
    theirs = live(desired("a", env="prod"))
    (change,) = build_plan(ENV, [desired("a")], [], [theirs], adopt=True).changes
    assert change.action is ChangeAction.CONFLICT
    assert "'prod'" in change.reason


def test_a_new_title_of_the_same_rule_is_a_rename() -> None:
    old = desired("Old-Title", rule_id="r1")
    new = desired("New-Title", rule_id="r1")
    plan = build_plan(ENV, [new], [live(old)])
    by_id = {c.watch_id: c for c in plan.changes}
    assert by_id["New-Title"].action is ChangeAction.CREATE
    assert by_id["New-Title"].renamed == "Old-Title"
    assert by_id["Old-Title"].action is ChangeAction.DELETE
    assert by_id["Old-Title"].renamed == "New-Title"


def test_prune_false_keeps_unwanted_watches() -> None:
    plan = build_plan(ENV, [], [live(desired("a"))], prune=False)
    assert plan.changes == ()
    assert plan.kept == ("a",)


@pytest.mark.parametrize(
    ("owned", "deleted", "refused"),
    [
        (10, 5, False),
        (10, 6, True),
        (100, 20, False),
        (100, 21, True),
        (3, 3, True),
        (3, 2, False),
        (1, 1, True),
    ],
)
def test_mass_deletes_are_refused_without_the_flag(owned: int, deleted: int, refused: bool) -> None:
    watches = [desired(f"w{i:03}") for i in range(owned)]
    plan = build_plan(ENV, watches[deleted:], [live(w) for w in watches])
    if refused:
        with pytest.raises(PlanError, match="--allow-mass-delete"):
            check_mass_delete(plan, allow=False)
    else:
        check_mass_delete(plan, allow=False)
    check_mass_delete(plan, allow=True)


def test_renames_do_not_count_as_mass_deletes() -> None:
    olds = [desired(f"old{i}", rule_id=f"r{i}") for i in range(3)]
    news = [desired(f"new{i}", rule_id=f"r{i}") for i in range(3)]
    check_mass_delete(build_plan(ENV, news, [live(w) for w in olds]), allow=False)


def test_with_owner_names_the_environment_and_keeps_the_key_order() -> None:
    watch = desired("a")
    owner = watch.body["metadata"]["watchmgr"]
    assert owner["environment"] == ENV
    assert list(owner) == ["rule_id", "source", "environment", "digest"]
    assert list(watch.body) == ["metadata", "trigger", "input", "condition", "actions"]
    assert with_owner(watch, ENV) == watch


def test_the_plan_document_round_trips() -> None:
    a = desired("a")
    plan = build_plan(
        ENV, [desired("a", interval="5m"), desired("b")], [live(a)], cluster_uuid="u1"
    )
    data = document([plan])
    assert data["format_version"] == 1
    assert plan_from_document(data, ENV, "plan.json") == plan


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format_version": 2, "environments": []}, "newer than this watchmgr"),
        ({"format_version": 1, "environments": [{"name": "prod", "changes": []}]}, "not 'test'"),
        ({"environments": []}, "not a watchmgr plan file"),
    ],
)
def test_bad_plan_documents(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_from_document(data, ENV, "plan.json")
