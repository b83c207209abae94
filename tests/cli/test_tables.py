"""Plans never shorten a new watch's fields, and tables never break an id or a path: long cells
wrap between words, and when even that does not fit, they move under their row."""

from __future__ import annotations

import io

from rich.console import Console

from tests.plan.support import Repo, rule_yaml, show
from watchmgr.apply import Outcome, Report, Result
from watchmgr.output.plan import render_report, render_text
from watchmgr.plan import Change, ChangeAction, Plan

LONG_ID = "Suspicious-PowerShell-Download-and-Execute-Pattern-Via-Invoke-Expression-WebClient"
LONG_PATH = "rules/windows/powershell/powershell_script/posh_ps_susp_download_and_execute.yml"


def text_of(plan: Plan, width: int) -> str:
    out = io.StringIO()
    render_text([plan], Console(file=out, width=width, color_system=None, soft_wrap=True))
    return out.getvalue()


def test_a_new_watch_is_never_shortened_even_inside_arrays(repo: Repo) -> None:
    values = "".join(f"            - '\\tool{i:02}.exe'\n" for i in range(40))
    text = rule_yaml("Many").replace("Image|endswith: '\\x.exe'", f"Image|endswith:\n{values}")
    repo.rule("many", text)
    result = repo.run("plan", "--env", "dev")
    assert result.exit_code == 0, show(result)
    must = next(line for line in result.stdout.splitlines() if ".bool.must:" in line)
    assert len(must) > 300 and must.endswith('"}}]'), must
    assert all(f"tool{i:02}" in must for i in range(40)), must
    assert "…" not in result.stdout, show(result)


def test_on_80_columns_ids_and_paths_stay_whole() -> None:
    change = Change(
        LONG_ID, ChangeAction.CREATE, source=LONG_PATH, reason="no such watch on the cluster"
    )
    text = text_of(Plan("dev", (change,)), 80)
    lines = text.splitlines()
    assert f"+  create  {LONG_ID}" in lines, text
    assert f"    {LONG_PATH}" in lines, text
    assert "    no such watch on the cluster" in lines, text


def test_a_table_that_fits_keeps_one_row_per_change() -> None:
    change = Change("Short", ChangeAction.CREATE, source="rules/a.yml", reason="no such watch")
    lines = text_of(Plan("dev", (change,)), 80).splitlines()
    assert any(
        line.split() == ["+", "create", "Short", "rules/a.yml", "no", "such", "watch"]
        for line in lines
    ), lines


def test_a_long_reason_wraps_between_words_and_the_id_stays_on_its_row() -> None:
    reason = "edited on the cluster since the plan was made " * 3
    change = Change("W-1", ChangeAction.CONFLICT, source="rules/w.yml", reason=reason.strip())
    lines = text_of(Plan("dev", (change,)), 80).splitlines()
    row = next(line for line in lines if "W-1" in line)
    assert "rules/w.yml" in row
    words = " ".join(line.strip() for line in lines if "cluster" in line or "plan" in line)
    assert "edited on the cluster since the plan was made" in words


def test_the_apply_report_keeps_ids_whole_on_a_narrow_terminal() -> None:
    report = Report(
        "dev", (Result(LONG_ID, ChangeAction.UPDATE, Outcome.CONFLICT, "edited meanwhile"),), 0
    )
    out = io.StringIO()
    render_report(report, Console(file=out, width=60, color_system=None, soft_wrap=True))
    lines = out.getvalue().splitlines()
    assert f"{LONG_ID}  update  conflict" in lines, lines
    assert "    edited meanwhile" in lines, lines


def test_off_a_terminal_a_path_too_long_for_the_table_is_not_split(repo: Repo) -> None:
    deep = "/".join(["a-rather-long-folder-name"] * 6)
    repo.rule(f"{deep}/rule", rule_yaml("Deep"))
    result = repo.run("plan", "--env", "dev")
    assert result.exit_code == 0, show(result)
    assert f"    rules/{deep}/rule.yml" in result.stdout.splitlines(), show(result)


def test_status_on_a_narrow_terminal_names_the_cells_it_cannot_head() -> None:
    from watchmgr.output.status import render_status_text

    record = {
        "health": "never run",
        "id": LONG_ID,
        "last_checked": None,
        "last_met_condition": None,
        "last_throttled": None,
        "acked": [],
        "error": None,
    }
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None, soft_wrap=True)
    render_status_text("dev", [record], console)
    lines = out.getvalue().splitlines()
    assert lines[1] == (
        f"never run  {LONG_ID}  last checked: -  last met: -  last throttled: -  acked: -"
    ), lines
