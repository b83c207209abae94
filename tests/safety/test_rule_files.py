"""Rule files that used to slip through or be misreported: the lock's id, a non-string id,
symbolic links that loop or point nowhere. Each is one `path:line` error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.plan.support import rule_yaml
from watchmgr.convert import convert
from watchmgr.rules import discover, load_paths
from watchmgr.settings import DEFAULT_SETTINGS


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(root: Path, **settings: str) -> list[str]:
    chosen = DEFAULT_SETTINGS
    if settings:
        from dataclasses import replace

        chosen = replace(DEFAULT_SETTINGS, **settings)
    result = convert([root / "rules"], lambda _rule: chosen, base=root)
    return [str(d) for d in result.errors]


def test_a_title_that_makes_the_lock_id_is_an_error_at_its_line(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "lock.yml", rule_yaml("watchmgr lock prod"))
    write(tmp_path / "rules" / "ok.yml", rule_yaml("Fine rule"))
    result = convert([tmp_path / "rules"], base=tmp_path)
    assert [str(d) for d in result.errors] == [
        "rules/lock.yml:1: watch id 'watchmgr-lock-prod' starts with 'watchmgr-lock-', which "
        "watchmgr reserves for the apply lock of each environment; change the rule's title or "
        "the id prefix"
    ]
    assert [w.id for w in result.watches] == ["Fine-rule"]


def test_an_id_prefix_that_makes_the_lock_id_points_at_the_id_line(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "a.yml", rule_yaml("A", "0e0b1c8e-3f1c-4f7a-9d4a-2b6c8e0f1a2b"))
    (error,) = messages(tmp_path, id_scheme="sigma-id", id_prefix="watchmgr-lock-")
    assert error.startswith("rules/a.yml:2: watch id 'watchmgr-lock-0e0b1c8e-")
    assert error.endswith("change the rule's id or the id prefix")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("id: 123", "rules/a.yml:2: 'id' must be a UUID, not a number (123)"),
        ("id: [a, b]", "rules/a.yml:2: 'id' must be a UUID, not a list (['a', 'b'])"),
        ("id: {a: b}", "rules/a.yml:2: 'id' must be a UUID, not a mapping ({'a': 'b'})"),
        ("id: true", "rules/a.yml:2: 'id' must be a UUID, not true or false (True)"),
    ],
)
def test_a_non_string_id_is_reported_at_its_own_line(
    tmp_path: Path, line: str, message: str
) -> None:
    text = rule_yaml("A").splitlines()
    text[1] = line
    write(tmp_path / "rules" / "a.yml", "\n".join(text) + "\n")
    (error,) = messages(tmp_path)
    assert error == f"{message}; quote it if it is meant as text"


def test_a_directory_link_is_followed_and_one_that_loops_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    write(rules / "a.yml", rule_yaml("A"))
    write(tmp_path / "shared-rules" / "b.yml", rule_yaml("B"))
    os.symlink("../shared-rules", rules / "linked")
    (rules / "loop").mkdir()
    os.symlink("..", rules / "loop" / "up")
    monkeypatch.chdir(tmp_path)
    found, problems = discover([Path("rules")])
    assert found == [Path("rules/a.yml"), Path("rules/linked/b.yml")]
    assert [str(p) for p in problems] == [
        "rules/loop/up: symbolic link loop: it leads back to a directory it is in (remove the link)"
    ]


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"x.yml": "y.yml", "y.yml": "x.yml"}, "symbolic link loop: the link leads back to itself"),
        ({"x.yml": "nowhere.yml"}, "broken symbolic link: what it points to does not exist"),
    ],
)
def test_a_rule_file_link_that_loops_or_dangles_is_an_error_not_skipped(
    tmp_path: Path, links: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, target in links.items():
        os.symlink(target, rules / name)
    monkeypatch.chdir(tmp_path)
    result = load_paths([Path("rules")])
    assert [str(d) for d in result.errors] == [
        f"rules/{name}: {message} (remove or fix it)" for name in sorted(links)
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "not a number (0); quote it"),
        ("[a, null]", "not null (None); quote it"),
        ("[]", "not an empty list"),
    ],
)
def test_a_regular_expression_that_is_not_text_is_an_error_at_its_line(
    tmp_path: Path, value: str, message: str
) -> None:
    """Found by the fuzzer: pySigma keeps `Image|re: 0` a number, which rendering then
    crashed on (an internal error instead of a located one)."""
    text = rule_yaml("A").replace("Image|endswith: '\\x.exe'", f"Image|re: {value}")
    write(tmp_path / "rules" / "a.yml", text)
    (error,) = messages(tmp_path)
    assert error == f"rules/a.yml:10: 'Image|re': a regular expression must be text, {message}"
