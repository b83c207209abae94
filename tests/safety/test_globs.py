"""No input may hang a run: path globs match in time linear in the glob and the path.

A glob compiled into one regular expression needs an optional group per ``**/``; with many of
them, a deep path that almost matches makes the regex engine try every way of splitting the
path among them. These inputs are that worst case: before the fix each took longer than any
test run (30 ``**/`` on a 60-directory path); now they are answered at once.
"""

from __future__ import annotations

import pytest

from watchmgr.selection import Glob, is_valid_glob

DEEP = "rules/" + "a/" * 60 + "y.yml"

PATHOLOGICAL = [
    ("rules/" + "**/" * 30 + "x.yml", DEEP, False),
    ("rules/" + "**/a/" * 30 + "x.yml", DEEP, False),
    ("rules/" + "**/a/" * 30 + "y.yml", DEEP, True),
    ("**/" * 30 + "a/" * 61 + "y.yml", DEEP, False),
    ("rules/**/" + "*a" * 30 + "b.yml", "rules/" + "a" * 200 + ".yml", False),
    ("rules/" + "**/*a*/" * 30 + "*.yml", DEEP, True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATHOLOGICAL)
def test_a_glob_with_many_double_stars_on_a_deep_path_is_answered(
    pattern: str, path: str, expected: bool
) -> None:
    assert Glob(pattern).matches(path) is expected


SEMANTICS = [
    ("rules/**", "rules/a.yml", True),
    ("rules/**", "rules", False),  # `**` at the end needs something below the directory
    ("rules/**/**/a.yml", "rules/a.yml", True),  # consecutive `**` are one
    ("rules/**/x/**/a.yml", "rules/x/a.yml", True),
    ("rules/**/x/**/a.yml", "rules/p/x/q/r/a.yml", True),
    ("rules/**/x/**/a.yml", "rules/p/q/r/a.yml", False),
    ("rules/a**.yml", "rules/abc.yml", True),  # `**` inside a segment is a `*`
    ("rules/a**.yml", "rules/a/b.yml", False),
    ("rules/*.yml", "rules/.hidden.yml", True),  # no dot-file special case
    ("rules/[a-c]?.yml", "rules/bz.yml", True),
    ("rules/[!a-c]?.yml", "rules/bz.yml", False),
]


def test_a_reversed_range_is_an_invalid_glob_not_one_that_matches_nothing() -> None:
    assert not is_valid_glob("rules/[z-a]/*.yml")
    assert is_valid_glob("rules/[a-z]/*.yml")


@pytest.mark.parametrize(("pattern", "path", "expected"), SEMANTICS)
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert Glob(pattern).matches(path) is expected
