"""``render --format query [--target T]``: each rule's bare query, one a line: es-qs (the
watch's own query_string, as the seed shows it), or splunk / logpoint through the optional
pySigma backends, with one clear line when a backend is not installed."""

from __future__ import annotations

import codecs
import json
import re
import sys
from pathlib import Path

import pytest

from tests.plan.support import Repo, rule_yaml, show
from watchmgr.errors import ExitCode


def seed(shared: Path, target: str = "es-qs") -> tuple[str, str]:
    """The seed's rule and its query for `target` (the page stored both escaped, as a bytes
    repr)."""
    text = next((shared / "seed").glob("*.txt")).read_text(encoding="utf-8")
    rule = re.search(r"### Sigma rule\s*\n+```\n(.*?)\n```", text, re.DOTALL)
    query = re.search(rf"### {target}\s*\n\s*```\n(.*?)\n```", text, re.DOTALL)
    assert rule is not None and query is not None
    return rule.group(1), codecs.escape_decode(query.group(1).strip().encode())[0].decode()


def test_es_qs_is_the_seeds_query(shared: Path, tmp_path: Path) -> None:
    rule, expected = seed(shared)
    repo = Repo(tmp_path)
    repo.rule("seed", rule)
    # The seed's text is sigmac's of 2020: the dialect that reproduces it byte for byte.
    result = repo.run("render", "--dialect", "sigmac-2020", "--format", "query")
    assert result.exit_code == 0, show(result)
    assert result.stdout == expected + "\n"
    targeted = repo.run(
        "render", "--dialect", "sigmac-2020", "--format", "query", "--target", "es-qs"
    )
    assert targeted.stdout == result.stdout


def test_es_qs_is_each_watchs_query_in_watch_order(repo: Repo) -> None:
    rendered = [json.loads(line) for line in repo.run("render").stdout.splitlines()]
    result = repo.run("render", "--format", "query")
    assert result.stdout.splitlines() == [r["body"]["metadata"]["query"] for r in rendered]


@pytest.mark.parametrize(
    ("target", "module", "package"),
    [
        ("splunk", "sigma.backends.splunk", "pysigma-backend-splunk"),
        ("logpoint", "sigma.backends.logpoint", "pysigma-backend-logpoint"),
    ],
)
def test_a_backend_that_is_not_installed_is_one_line(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, target: str, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # hidden: its import fails
    result = repo.run("render", "--format", "query", "--target", target)
    assert result.exit_code == ExitCode.ERROR, show(result)
    assert result.stderr == (
        f"watchmgr: --target {target} needs the pySigma backend {package}, which is "
        f"not installed (pip install {package})\n"
    ), show(result)
    assert result.stdout == ""


#: What the seed's sigmac (2020) printed for its rule, rewritten step by step into what today's
#: pySigma backend prints, each step with the reason the two differ. None of them changes which
#: events match, except where the reason says so.
BACKEND_DIFFERENCES: dict[str, list[tuple[str, str, str]]] = {
    "splunk": [
        (
            '((EventID="3" (DestinationPort="5985" OR DestinationPort="5986")) NOT ',
            "EventID=3 DestinationPort IN (5985, 5986) NOT ",
            "pySigma leaves numbers unquoted, writes an OR of one field's values as IN "
            "(convert_or_as_in) and drops parentheses its operator precedence does not need",
        ),
        (
            '(User="NT AUTHORITY\\\\NETWORK SERVICE"))',
            'User="NT AUTHORITY\\\\NETWORK SERVICE"',
            "the parentheses, as above; both double the backslash (Splunk reads it as an escape)",
        ),
    ],
    "logpoint": [
        (
            '((event_id="3" DestinationPort IN ["5985", "5986"])  -',
            "EventID=3 DestinationPort IN [5985, 5986] -",
            "sigmac's logpoint backend renamed EventID to event_id itself; pySigma leaves field "
            "names to processing pipelines (logpoint_windows_pipeline renames every field, "
            "'render --target' applies none, as the seed's conversion used no config); numbers "
            "unquoted, no double space, no parentheses precedence does not need",
        ),
        (
            '(User="NT AUTHORITY\\\\NETWORK SERVICE"))',
            'User="NT AUTHORITY\\NETWORK SERVICE"',
            "pySigma's logpoint backend escapes nothing inside quotes (its escape_char is unset), "
            "where sigmac doubled the backslash (which of the two LogPoint reads as one backslash "
            "cannot be checked here: no LogPoint)",
        ),
    ],
}


@pytest.mark.parametrize("target", sorted(BACKEND_DIFFERENCES))
def test_a_backend_prints_the_seeds_query_as_far_as_pysigma_matches_2020(
    shared: Path, tmp_path: Path, target: str
) -> None:
    rule, query_2020 = seed(shared, target)
    expected = query_2020
    for old, new, why in BACKEND_DIFFERENCES[target]:
        assert old in expected, f"{target}: {old!r} not in {expected!r} ({why})"
        expected = expected.replace(old, new)
    repo = Repo(tmp_path)
    repo.rule("seed", rule)
    result = repo.run("render", "--format", "query", "--target", target)
    assert result.exit_code == 0, show(result)
    assert result.stdout == expected + "\n", f"2020: {query_2020}\n{show(result)}"


def test_a_rule_the_backend_refuses_is_one_line_and_the_others_print(repo: Repo) -> None:
    fine = repo.run("render", "--format", "query", "--target", "logpoint")
    assert fine.exit_code == 0, show(fine)
    assert fine.stdout.splitlines() == ['Image="*\\x.exe"'] * 3
    repo.rule("refused", rule_yaml("Refused").replace("Image|endswith: '\\x.exe'", "A|fieldref: B"))
    refused = repo.run("render", "--format", "query", "--target", "logpoint")
    assert refused.exit_code == ExitCode.ERROR, show(refused)
    assert refused.stderr.startswith(
        "rules/refused.yml:1: logpoint: Field reference expression is not supported by backend."
    ), show(refused)
    assert len(refused.stderr.splitlines()) == 1, show(refused)
    assert refused.stdout == fine.stdout


def test_a_splunk_pipeline_stage_stays_on_its_querys_line(repo: Repo) -> None:
    # The backend writes `|re` as a `| regex` stage on a line of its own; one query, one line.
    repo.rule("regex", rule_yaml("Regex").replace("Image|endswith: '\\x.exe'", "A|re: 'b.*c'"))
    result = repo.run("render", "--format", "query", "--target", "splunk", "rules/regex.yml")
    assert result.exit_code == 0, show(result)
    assert result.stdout == '* | regex A="b.*c"\n', show(result)


def test_an_unknown_target_is_a_usage_error(repo: Repo) -> None:
    result = repo.run("render", "--format", "query", "--target", "qradar")
    assert result.exit_code == ExitCode.USAGE, show(result)
    assert result.stderr == (
        "watchmgr: unknown --target 'qradar' (use one of: es-qs, graylog, splunk, logpoint); "
        "see 'watchmgr render --help'\n"
    ), show(result)


COUNTED = """\
title: Failed logons
logsource:
    product: windows
detection:
    selection:
        EventID: 4625
    timeframe: 30s
    condition: selection | count() > 5
"""


@pytest.mark.parametrize("target", ["splunk", "logpoint"])
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            COUNTED,
            "rules/counted.yml:8: {target}: the aggregation 'count() > 5' has no {target} form "
            "here: the query would match every event its search matches, not the count",
        ),
        (
            COUNTED.replace(" | count() > 5", ""),
            "rules/counted.yml:7: {target}: the timeframe '30s' has no {target} form here: the "
            "query would match events at any time, not in the window",
        ),
    ],
    ids=["aggregation", "timeframe"],
)
def test_a_backend_refuses_a_rule_that_counts_in_a_window(
    tmp_path: Path, target: str, rule: str, expected: str
) -> None:
    # pySigma gets the search without the count and the window: `EventID=4625` would fire on
    # every failed logon. Refused as graylog refuses it, one line at the line that says it.
    repo = Repo(tmp_path)
    repo.rule("counted", rule)
    result = repo.run("render", "--format", "query", "--target", target)
    assert result.exit_code == ExitCode.ERROR, show(result)
    assert result.stderr == expected.format(target=target) + "\n", show(result)
    assert result.stdout == "", show(result)


@pytest.mark.parametrize(
    ("regex", "query"),
    [
        ("a\\nb", "A.keyword:/.*(a\\nb).*/"),
        ("a\\sb", "A.keyword:/.*(a[\t-\\r ]b).*/"),
        ("a\\rb", "A.keyword:/.*(a\\rb).*/"),
    ],
)
def test_a_query_with_a_newline_or_carriage_return_stays_on_its_line(
    tmp_path: Path, regex: str, query: str
) -> None:
    # Lucene's regexes have no escape for them: the watch holds the raw character, the
    # query line the escape.
    repo = Repo(tmp_path)
    repo.rule("regex", rule_yaml("Regex").replace("Image|endswith: '\\x.exe'", f"A|re: '{regex}'"))
    result = repo.run("render", "--format", "query")
    assert result.exit_code == 0, show(result)
    assert result.stdout.splitlines() == [query], show(result)
    (watch,) = [json.loads(line) for line in repo.run("render").stdout.splitlines()]
    raw = query.replace("\\n", "\n").replace("\\r", "\r")
    assert watch["body"]["metadata"]["query"] == raw


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target", "graylog"],
            "--target goes with --format query (not --format ndjson)",
        ),
        (
            ["--format", "json", "--target", "es-qs"],
            "--target goes with --format query (not --format json)",
        ),
        *(
            (
                ["--format", fmt, "--out", "watches"],
                f"--out writes one <id>.json body per watch (--format ndjson or json); "
                f"--format {fmt} prints to stdout (redirect it to a file)",
            )
            for fmt in ("query", "curl")
        ),
        *(
            (
                ["--format", "query", "--target", target, *given],
                f"{names} with --target es-qs only: --target {target} converts the rules as "
                "written, without environment or watch settings",
            )
            for target in ("graylog", "splunk", "logpoint")
            for given, names in [
                (["--env", "dev"], "--env goes"),
                (["--dialect", "sigmac"], "--dialect goes"),
                (["--id-scheme", "sigma-id"], "--id-scheme goes"),
                (["--id-prefix", "x-"], "--id-prefix goes"),
                (["--dialect", "sigma", "--id-prefix", "x-"], "--dialect, --id-prefix go"),
            ]
        ),
    ],
)
def test_an_option_render_would_ignore_is_a_usage_error(
    repo: Repo, args: list[str], message: str
) -> None:
    result = repo.run("render", *args)
    assert result.exit_code == ExitCode.USAGE, show(result)
    assert result.stderr == f"watchmgr: {message}\n", show(result)
    assert result.stdout == "", show(result)
    assert not (repo.root / "watches").exists()
