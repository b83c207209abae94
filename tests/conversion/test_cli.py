"""`watchmgr render` and `validate` as a user runs them: formats, files, exit codes, start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from watchmgr.cli import app
from watchmgr.output.watches import file_name

RULE = """\
title: {title}
logsource:
    product: windows
detection:
    sel:
        Image: '*\\{exe}'
    condition: sel
"""


def _rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.yml").write_text(RULE.format(title="Zeta $HOME Rule", exe="z.exe"))
    (folder / "sub" / "a.yaml").write_text(RULE.format(title="Alpha / Rule", exe="a.exe"))
    (folder / "notes.txt").write_text("not a rule")
    return folder


def test_ndjson_is_one_sorted_line_per_watch(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", str(_rules(tmp_path))])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["Alpha-/-Rule", "Zeta-$HOME-Rule"]
    assert list(records[0]) == ["id", "source", "body"]
    assert records[0]["source"].endswith("rules/sub/a.yaml")


def test_json_is_the_same_records_as_one_array(tmp_path: Path) -> None:
    folder = _rules(tmp_path)
    ndjson = CliRunner().invoke(app, ["render", str(folder)]).stdout.splitlines()
    array = json.loads(CliRunner().invoke(app, ["render", str(folder), "--format", "json"]).stdout)
    assert array == [json.loads(line) for line in ndjson]


def test_curl_puts_each_watch_with_an_encoded_id_and_a_quoted_here_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", str(_rules(tmp_path)), "-f", "curl"])
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "curl -s -XPUT -H 'Content-Type: application/json' --data-binary @- "
        "localhost:9200/_watcher/watch/Alpha-%2F-Rule <<'EOF'"
    )
    assert lines.count("EOF") == 2
    script = tmp_path / "put.sh"
    # A fake curl that prints what it would send proves the shell passes each body untouched.
    script.write_text("curl() { cat; echo; }\n" + result.stdout)
    ran = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True)
    sent = json.loads("[" + ran.stdout.strip().replace("}\n\n{", "},{") + "]")
    assert [b["metadata"]["title"] for b in sent] == ["Alpha / Rule", "Zeta $HOME Rule"]


def test_out_writes_one_body_per_watch_with_safe_names(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["render", str(_rules(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0
    names = sorted(p.name for p in out.glob("*.json"))
    assert names == sorted([file_name("Alpha-/-Rule"), "Zeta-$HOME-Rule.json"])
    assert "/" not in file_name("Alpha-/-Rule") and file_name("a/b") != file_name("a_b")
    body = json.loads((out / "Zeta-$HOME-Rule.json").read_text())
    assert body["metadata"]["title"] == "Zeta $HOME Rule"


def test_unknown_format_and_dialect_are_usage_errors(tmp_path: Path) -> None:
    folder = str(_rules(tmp_path))
    bad_format = CliRunner().invoke(app, ["render", folder, "--format", "yaml"])
    assert bad_format.exit_code == 2
    assert "unknown format 'yaml' (use one of: ndjson, json, curl, query)" in bad_format.stderr
    bad_dialect = CliRunner().invoke(app, ["render", folder, "--dialect", "splunk"])
    assert bad_dialect.exit_code == 2


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys, watchmgr.cli as c\n"
        "heavy = [m for m in ('sigma', 'elasticsearch', 'deepdiff', 'yaml') if m in sys.modules]\n"
        "print(heavy)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]"
