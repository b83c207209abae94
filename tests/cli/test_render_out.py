"""``render --out`` writes into a folder watchmgr owns: a file is refused, and the files an
earlier render wrote for watches that are gone are removed (and only those)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.plan.support import Repo, rule_yaml, show


def rendered(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("*.json"))


def test_out_into_a_file_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule("a", rule_yaml("A"))
    target = tmp_path / "build.json"
    target.write_text("keep me")
    result = repo.run("render", "--out", str(target))
    assert result.exit_code == 1, show(result)
    assert result.stderr == (
        f"watchmgr: --out {target} is a file; give a folder (watchmgr writes one <id>.json per "
        "watch into it and removes the ones it wrote before that are gone)\n"
    )
    assert target.read_text() == "keep me"


def test_a_deleted_rule_leaves_no_file_behind_and_other_files_stay(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    for title in ("A", "B", "C"):
        repo.rule(title.lower(), rule_yaml(title))
    out = tmp_path / "build"
    first = repo.run("render", "--out", str(out))
    assert first.exit_code == 0, show(first)
    assert first.stderr == f"wrote 3 watches to {out}\n"
    (out / "hand-made.json").write_text("{}")
    (out / "README").write_text("deploy with: for f in *.json ...")
    repo.remove("b")
    second = repo.run("render", "--out", str(out))
    assert second.exit_code == 0, show(second)
    assert second.stderr == f"wrote 2 watches to {out}, removed 1 of deleted rules\n"
    assert rendered(out) == ["A.json", "C.json", "hand-made.json"]
    assert (out / "README").exists()
    assert json.loads((out / "A.json").read_text())["metadata"]["title"] == "A"


def test_one_watch_is_counted_in_the_singular(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule("a", rule_yaml("A"))
    result = repo.run("render", "--out", str(tmp_path / "out"))
    assert result.stderr == f"wrote 1 watch to {tmp_path / 'out'}\n", show(result)
    validated = repo.run("validate")
    assert validated.stderr.splitlines()[-1] == "1 rule, 1 watch, 0 errors, 0 warnings"
