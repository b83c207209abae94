"""Bad rule files: one line each (path:line: what, and how to fix it), exit 1, the rest rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchmgr.cli import app

GOOD = """\
title: Good Rule
id: 0b6f7a2e-3c2d-4a8e-9a61-0f2b8e7d1c11
status: test
logsource:
    product: windows
detection:
    sel:
        Image: good.exe
    condition: sel
level: low
"""

BAD = [
    ("malformed YAML", "title: x\ndetection: [unclosed\n", b"", r"z\.yml:3: malformed YAML"),
    (
        "a YAML file that is not a rule",
        "just: data\nother: 1\n",
        b"",
        r"z\.yml:1: not a Sigma rule",
    ),
    ("an empty file", "", b"", r"z\.yml:1: empty file"),
    ("a binary file", "", b"\x89PNG\r\n\x1a\n\x00\x00", r"z\.yml:1: binary file"),
    (
        "a missing detection",
        "title: No Detection\nlogsource:\n    product: windows\nlevel: low\n",
        b"",
        r"z\.yml:1: missing 'detection'",
    ),
    (
        "a condition naming an unknown search identifier",
        "title: Unknown Id\nlogsource:\n    product: windows\ndetection:\n    sel:\n"
        "        A: 1\n    condition: sel and not filter\n",
        b"",
        r"z\.yml:7: condition names search identifier 'filter'",
    ),
    (
        "an unknown modifier",
        "title: Typo\nlogsource:\n    product: windows\ndetection:\n    sel:\n"
        "        CommandLine|contians: x\n    condition: sel\n",
        b"",
        r"z\.yml:6: unknown modifier 'contians' \(did you mean 'contains'\?\)",
    ),
    (
        "an active that is not true or false",
        "title: Half On\nactive: maybe\nlogsource:\n    product: windows\ndetection:\n"
        "    sel:\n        A: 1\n    condition: sel\n",
        b"",
        r"z\.yml:2: 'active' must be true or false, not 'maybe' \(active: false deploys",
    ),
    (
        "a python object tag",
        "title: !!python/object:os.system x\nlogsource: {}\n",
        b"",
        r"z\.yml:1: YAML tag '!!python/object:os.system' is not allowed",
    ),
    (
        "a duplicate rule id",
        GOOD.replace("Good Rule", "Other Title"),
        b"",
        r"z\.yml:2: duplicate rule id 0b6f7a2e-3c2d-4a8e-9a61-0f2b8e7d1c11 "
        r"\(also in .*good\.yml:2\)",
    ),
    (
        "colliding watch ids",
        GOOD.replace(
            "0b6f7a2e-3c2d-4a8e-9a61-0f2b8e7d1c11", "1c7e8b3f-4d3e-4b9f-8b72-1f3c9f8e2d22"
        ),
        b"",
        r"z\.yml:1: watch id 'Good-Rule' is also made by .*good\.yml:1",
    ),
]


@pytest.mark.parametrize(("case", "text", "data", "line"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_the_other_rules_still_render(
    tmp_path: Path, case: str, text: str, data: bytes, line: str
) -> None:
    (tmp_path / "z.yml").write_bytes(data or text.encode())  # sorted after good.yml
    (tmp_path / "good.yml").write_text(GOOD)
    result = CliRunner().invoke(app, ["render", str(tmp_path)])
    problems = result.stderr.splitlines()
    assert result.exit_code == 1, (case, result.output)
    assert len(problems) == 1, (case, problems)
    assert re.search(line, problems[0]), (case, problems[0])
    assert "Traceback" not in result.output
    rendered = [json.loads(x) for x in result.stdout.splitlines()]
    assert [w["id"] for w in rendered] == ["Good-Rule"], case


def test_invalid_metadata_is_a_warning_with_its_line_not_a_failure(tmp_path: Path) -> None:
    lenient = GOOD.replace(
        "status: test", "status: production\ndate: 27/10/2019\ntags:\n    - t1059"
    )
    (tmp_path / "rule.yml").write_text(lenient)
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(re.search(r"rule\.yml:3: warning: 'production' is not a valid", x) for x in lines), (
        lines
    )
    assert any(
        re.search(r"rule\.yml:4: warning: Rule date '27/10/2019' is invalid", x) for x in lines
    )
    assert any(
        x.endswith(
            "rule.yml:6: warning: tag 't1059' has no namespace; write it as "
            "'attack.t1059' (Sigma tags are namespace.name)"
        )
        for x in lines
    )
    assert lines[-1] == "1 rule, 1 watch, 0 errors, 3 warnings"


def test_validate_reports_every_error_and_exits_1(tmp_path: Path) -> None:
    for name, text, data, _ in BAD[:4]:
        (tmp_path / f"{name.replace(' ', '_')}.yml").write_bytes(data or text.encode())
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "0 rules, 0 watches, 4 errors, 0 warnings"


def test_a_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("nope: no such file or directory (check the path)")


def test_a_condition_with_a_syntax_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "rule.yml").write_text(GOOD.replace("condition: sel", "condition: sel and (sel"))
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert re.match(r".*rule\.yml:9: invalid condition: ", first), result.stderr
