"""Reading environment files: no input hangs a run, and base files are known by what they are."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.config.support import config_error, env_from, write
from watchmgr.cli import app
from watchmgr.config import MAX_EXPANDED_VALUES, MissingTarget, list_environments, load_environment

#: "Billion laughs": nine levels of nine aliases, 9^9 values once expanded, in 9 short lines.
BOMB = "sandbox: {}\nmapping:\n  placeholders:\n" + "".join(
    f"    {name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for name, prev in zip("abcdefghi", ["", *"abcdefgh"], strict=True)
)
#: The first value of BOMB that expands beyond the bound by itself: f, 9^5 lists and more.
BOMB_LINE = 9


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`'s result, failing the test (rather than hanging it) after `seconds`."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as err:  # handed to the test below
            outcome.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds}s: the input hangs the run"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def test_the_bomb_expands_far_beyond_the_bound() -> None:
    assert 1000 * MAX_EXPANDED_VALUES < 9**9


def test_an_alias_bomb_is_one_error_at_the_value_it_blows_up(tmp_path: Path) -> None:
    message = _within(10, lambda: config_error(tmp_path, BOMB))
    assert message == (
        f"{tmp_path}/environments/test.yaml:{BOMB_LINE}: YAML aliases expand this value to more "
        f"than {MAX_EXPANDED_VALUES:,} values (an alias bomb?): write the values out or use "
        "fewer aliases"
    )


def test_an_alias_bomb_in_a_base_file_is_reported_in_that_file(tmp_path: Path) -> None:
    message = _within(
        10,
        lambda: config_error(tmp_path, "extends: base.yaml\n", **{"environments/base.yaml": BOMB}),
    )
    assert message.startswith(f"{tmp_path}/environments/base.yaml:{BOMB_LINE}: YAML aliases")


def test_validate_with_an_alias_bomb_exits_1_with_one_line(tmp_path: Path) -> None:
    write(tmp_path, {"environments/dev.yaml": BOMB, "rules/.keep": ""})
    args = ["validate", "--root", str(tmp_path), "--env", "dev"]
    result = _within(10, lambda: CliRunner().invoke(app, args))
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and f"dev.yaml:{BOMB_LINE}: YAML aliases expand" in lines[0], lines
    assert "Traceback" not in result.output


def test_environments_lists_a_bomb_as_invalid(tmp_path: Path) -> None:
    write(tmp_path, {"environments/dev.yaml": BOMB})
    (info,) = _within(10, lambda: list_environments(tmp_path))
    assert info.target.startswith("invalid: ") and "YAML aliases expand" in info.target


def test_anchors_and_aliases_within_the_bound_still_load(tmp_path: Path) -> None:
    env = env_from(
        tmp_path,
        "sandbox: {}\nmapping:\n  placeholders:\n    admins: &admins [root, admin]\n"
        "    users: *admins\n",
    )
    assert env.placeholders == (("admins", ("root", "admin")), ("users", ("root", "admin")))


def test_a_recursive_alias_is_one_error_at_its_line(tmp_path: Path) -> None:
    message = _within(10, lambda: config_error(tmp_path, "sandbox: {}\ndescription: &d [*d]\n"))
    assert message == (
        f"{tmp_path}/environments/test.yaml:2: a YAML alias here refers to a value that holds "
        "it: write the values out"
    )


# -- base files -----------------------------------------------------------------------------


def test_a_file_without_a_target_fails_with_its_own_error_type(tmp_path: Path) -> None:
    write(tmp_path, {"environments/base.yaml": "watch: {interval: 5m}\n"})
    with pytest.raises(MissingTarget) as caught:
        load_environment(tmp_path, "base")
    assert caught.value.location is not None and caught.value.location.line == 1


def test_a_base_file_is_left_out_whatever_its_message_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchmgr.config import validation

    # Rewording the error must not turn base.yaml into a listed (broken) environment.
    original = validation.MissingTarget.__init__

    def reworded(self: MissingTarget, message: str, *args: Any) -> None:
        original(self, "no target here", *args)

    monkeypatch.setattr(validation.MissingTarget, "__init__", reworded)
    write(
        tmp_path,
        {
            "environments/base.yaml": "watch: {interval: 5m}\n",
            "environments/dev.yaml": "extends: base.yaml\nsandbox: {}\n",
            "environments/lone.yaml": "watch: {interval: 5m}\n",
        },
    )
    infos = {i.name: i.target for i in list_environments(tmp_path)}
    assert set(infos) == {"dev", "lone"}
    assert infos["lone"].endswith("lone.yaml:1: no target here")


def test_values_nested_100k_deep_are_one_error(tmp_path: Path) -> None:
    deep = "sandbox: {}\ndescription:\n  " + "[" * 100_000 + "]" * 100_000 + "\n"
    message = _within(10, lambda: config_error(tmp_path, deep))
    assert message == (
        f"{tmp_path}/environments/test.yaml:3: values nested too deeply for YAML to read: "
        "environment files are a few levels deep"
    )
