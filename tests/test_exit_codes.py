"""Exit codes: defined once (`errors.ExitCode`), one meaning per member, the numbers users see."""

from __future__ import annotations

from watchmgr.errors import ExitCode


def test_the_numbers_users_see() -> None:
    assert [(code.name, int(code)) for code in ExitCode] == [
        ("OK", 0),
        ("ERROR", 1),
        ("USAGE", 2),
        ("CHANGES_PENDING", 2),
        ("USAGE_DETAILED", 64),
        ("BROKEN_PIPE", 141),
    ]


def test_members_that_share_a_number_are_not_one_member() -> None:
    assert ExitCode.CHANGES_PENDING is not ExitCode.USAGE
    assert repr(ExitCode.CHANGES_PENDING) == "<ExitCode.CHANGES_PENDING: 2>"
    assert ExitCode.CHANGES_PENDING == 2 == ExitCode.USAGE


def test_every_member_says_what_it_means_and_no_two_say_the_same() -> None:
    meanings = [code.meaning for code in ExitCode]
    assert all(meanings) and len(set(meanings)) == len(meanings)
    assert "changes" in ExitCode.CHANGES_PENDING.meaning
    assert "usage" in ExitCode.USAGE.meaning


def test_the_help_lists_every_code_with_its_meaning() -> None:
    from typer.testing import CliRunner

    from watchmgr.cli import app

    shown = " ".join(CliRunner().invoke(app, ["--help"]).output.split())
    for code in ExitCode:
        assert f"{int(code)} {code.meaning}" in shown
