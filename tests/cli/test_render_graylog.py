"""``render --format query --target graylog``: the text sigmac's graylog backend printed (2020).

That backend printed sigmac's condition tree (the same parentheses as es-qs) with its own
tokens: every value a quoted phrase on the field as written, value lists separated by spaces,
its own escaping (whitespace, ``=``, ``<`` and ``>`` left as they are), no regular expressions,
no aggregations. The seed has its output for the seed's rule; for the 2020 corpus only the es-qs
text exists, so it is rewritten with the graylog tokens and compared.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_render_query import seed
from tests.plan.support import Repo, show
from watchmgr import workflow
from watchmgr.errors import Diagnostics, ExitCode


def test_the_seeds_rule_prints_the_seeds_graylog_query(shared: Path, tmp_path: Path) -> None:
    rule, expected = seed(shared, "graylog")
    repo = Repo(tmp_path)
    repo.rule("seed", rule)
    result = repo.run("render", "--format", "query", "--target", "graylog")
    assert result.exit_code == 0, show(result)
    assert result.stdout == expected + "\n"
    assert expected == (
        '((EventID:"3" AND DestinationPort:("5985" "5986")) AND '
        '(NOT (User:"NT AUTHORITY\\\\NETWORK SERVICE")))'
    )
    # The corpus test's rewriting of es-qs into graylog tokens, checked where both exist.
    assert graylog_from_es_qs(seed(shared, "es-qs")[1]) == expected


def rule(detection: str, condition: str = "selection") -> str:
    return (
        "title: T\nid: 5b0b2a2e-8d7e-4a55-9a4b-0c2b6a0b5d11\nlogsource: {product: windows}\n"
        f"detection:\n{detection}\n  condition: {condition}\n"
    )


@pytest.mark.parametrize(
    ("detection", "condition", "query"),
    [
        # every value is a quoted phrase, a number too, on the field as written (no .keyword)
        ("  selection: {EventID: 4688}", "selection", 'EventID:"4688"'),
        ("  selection: {Image|endswith: '\\cmd.exe'}", "selection", 'Image:"*\\\\cmd.exe"'),
        # a value list: no OR between the values
        ("  selection: {EventID: [1, 2]}", "selection", 'EventID:("1" "2")'),
        # whitespace, `=`, `<` and `>` are not escaped; Lucene's other specials are
        (
            "  selection: {CommandLine: 'a b=c > d:(e)'}",
            "selection",
            'CommandLine:"a b=c > d\\:\\(e\\)"',
        ),
        # a keyword is a quoted phrase too (no \\*.keyword field)
        ("  keywords: ['*mimikatz*', 'x y']", "keywords", '("*mimikatz*" OR "x y")'),
        ("  selection: {User: null}", "selection", "NOT _exists_:User"),
    ],
)
def test_graylog_tokens(tmp_path: Path, detection: str, condition: str, query: str) -> None:
    repo = Repo(tmp_path)
    repo.rule("r", rule(detection, condition))
    result = repo.run("render", "--format", "query", "--target", "graylog")
    assert result.exit_code == 0, show(result)
    assert result.stdout == query + "\n"


@pytest.mark.parametrize(
    ("detection", "condition", "error"),
    [
        (
            "  selection: {CommandLine|re: 'a.*b'}",
            "selection",
            "rules/r.yml:5: graylog: a regular expression ('|re') has no graylog form: sigmac's "
            "graylog backend had no type modifiers",
        ),
        (
            "  selection: {EventID: 1}\n  timeframe: 5m",
            "selection | count() by Image > 3",
            "rules/r.yml:7: graylog: the aggregation 'count() by Image > 3' has no graylog form: "
            "sigmac's graylog backend printed searches only",
        ),
    ],
)
def test_what_sigmacs_graylog_backend_could_not_print_is_one_line(
    tmp_path: Path, detection: str, condition: str, error: str
) -> None:
    repo = Repo(tmp_path)
    repo.rule("r", rule(detection, condition))
    repo.rule("s", rule("  selection: {EventID: 1}").replace("5b0b", "6c0b"))
    result = repo.run("render", "--format", "query", "--target", "graylog")
    assert result.exit_code == ExitCode.ERROR, show(result)
    assert result.stderr == error + "\n", show(result)
    assert result.stdout == 'EventID:"1"\n'


# ------------------------------------------------------------------------ the 2020 corpus

#: A bare (unquoted) es-qs value: escaped characters, or anything but space and parentheses.
_BARE = r"(?:\\.|[^\s()\\])+"
_KEYWORD_TERM = re.compile(rf"((?:\\.|[\w.@-])+)\.keyword:(\((?:{_BARE}(?: OR |\)))+|{_BARE})")


def graylog_from_es_qs(es_qs: str) -> str:
    """The graylog text of a 2020 es-qs query: the same tree, the graylog backend's tokens.

    ``F.keyword:V`` (a wildcard value) becomes ``F:"V"``; whitespace and ``=`` lose their
    escaping; a field's value list loses its ORs.
    """

    def keyword_term(match: re.Match[str]) -> str:
        field, value = match.groups()
        if value.startswith("("):
            return f"{field}:(" + " OR ".join(f'"{v}"' for v in value[1:-1].split(" OR ")) + ")"
        return f'{field}:"{value}"'

    text = _KEYWORD_TERM.sub(keyword_term, es_qs)
    text = re.sub(r"\\(\s|=)", r"\1", text)
    out: list[str] = []
    at = 0
    while (start := text.find(':("', at)) != -1:  # a field's value list, to its `)`
        end = start + 2
        quoted = False
        while quoted or text[end] != ")":
            if text[end] == "\\":
                end += 1
            elif text[end] == '"':
                quoted = not quoted
            end += 1
        out += [text[at : start + 2], text[start + 2 : end].replace('" OR "', '" "')]
        at = end
    return "".join([*out, text[at:]])


#: Rules whose graylog text is not the es-qs one rewritten, and why.
GRAYLOG_DIFFERS = {
    # es-qs deleted `<` and `>` from values (its reClear); the graylog backend had no reClear.
    "win_alert_mimikatz_keywords": "< and > kept",
    "win_malware_dtrack": "< and > kept",
    "win_malware_formbook": "< and > kept",
    # es-qs printed a lone keyword bare after a .keyword term; graylog quotes every value.
    "win_malware_notpetya": "lone keyword quoted",
}
#: Rules sigmac's graylog backend could not print (ATC ran it with --ignore-backend-errors).
GRAYLOG_REFUSES = {
    "regular expression": [
        "powershell_invoke_obfuscation_obfuscated_iex",
        "win_invoke_obfuscation_obfuscated_iex_commandline",
        "win_invoke_obfuscation_obfuscated_iex_services",
        "win_mal_creddumper",
    ],
    "aggregation": [
        "sysmon_mimikatz_inmemory_detection",
        "sysmon_possible_dns_rebinding",
        "win_multiple_suspicious_cli",
        "win_rare_schtask_creation",
        "win_rare_schtasks_creations",
        "win_rare_service_installs",
        "win_susp_commands_recon_activity",
        "win_susp_failed_logons_single_source",
        "win_susp_samr_pwset",
    ],
}


def test_the_2020_corpus_is_its_es_qs_text_in_graylog_tokens(shared: Path) -> None:
    corpus = shared / "conformance" / "sigmac-2020"
    report = Diagnostics()
    found = workflow.backend_queries(corpus, [corpus], "graylog", report)
    refused = {d.location.path.split("/")[0]: d.message for d in report if d.severity == "error"}
    assert {
        kind: sorted(name for name, message in refused.items() if kind in message)
        for kind in GRAYLOG_REFUSES
    } == GRAYLOG_REFUSES
    assert len(refused) == sum(map(len, GRAYLOG_REFUSES.values()))
    by_rule: dict[str, list[str]] = {}
    for path, query in found:
        by_rule.setdefault(path.split("/")[0], []).append(query)
    compared = same = 0
    differs = set()
    for name, queries in sorted(by_rule.items()):
        es_qs = (corpus / name / "es-qs.txt").read_text(encoding="utf-8").splitlines()
        assert len(queries) == len(es_qs), name
        for query, old in zip(queries, es_qs, strict=True):
            if "\\*.keyword" in old:
                continue  # keyword lists on every field: no field style to compare
            compared += 1
            if query == graylog_from_es_qs(old):
                same += 1
            else:
                differs.add(name)
    assert differs == set(GRAYLOG_DIFFERS)
    assert (compared, same) == (386, 382)
