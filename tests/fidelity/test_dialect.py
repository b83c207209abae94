"""The default dialect in real Lucene: each query matches what its Sigma rule says.

The query texts are pinned in tests/conversion/test_sigma_dialect.py; here Lucene judges them
against the documents a rule must and must not match.
"""

from __future__ import annotations

import re

import pytest

from tests.conversion.support import query_of, render_yaml
from tests.conversion.test_query import rule
from tests.conversion.test_sigma_dialect import CORNERS
from tests.fidelity.events import generate
from tests.fidelity.oracle import LuceneOracle
from watchmgr.query.regex import slashed, to_lucene_regex
from watchmgr.rules import load_text

# name, detection, documents that must match, documents that must not
CASES = [
    (
        "contains matches any case",
        "sel:\n    Signature|contains: MeteTool\ncondition: sel",
        [{"Signature": "XMETETOOL"}, {"Signature": "a metetool b"}],
        [{"Signature": "MeteToo"}],
    ),
    (
        "startswith matches any case",
        "sel:\n    TargetUserName|startswith: Admin\ncondition: sel",
        [{"TargetUserName": "ADMIN"}, {"TargetUserName": "administrator"}],
        [{"TargetUserName": "xAdmin"}],
    ),
    (
        "equality is the whole value",
        "sel:\n    eventName: DeleteGuardrail\ncondition: sel",
        [{"eventName": "deleteguardrail"}],
        [{"eventName": "pre DeleteGuardrail post"}],
    ),
    (
        "punctuation counts",
        "sel:\n    Status: 'Sucess- Property'\ncondition: sel",
        [{"Status": "Sucess- Property"}],
        [{"Status": "Sucess Property"}],
    ),
    (
        "a filter on a whole value does not drop values that only contain it",
        "sel:\n    EventID: 11\nfilter:\n    TargetFilename: '/etc/nsswitch.conf'\n"
        "condition: sel and not filter",
        [{"EventID": 11, "TargetFilename": "ab-9 /etc/nsswitch.conf"}],
        [{"EventID": 11, "TargetFilename": "/etc/nsswitch.conf"}],
    ),
    (
        "OR NOT exists matches both branches",
        "sel:\n    errorCode: Success\nnone:\n    errorCode: null\ncondition: sel or none",
        [{"errorCode": "success"}, {"other": "x"}],
        [{"errorCode": "Failure"}],
    ),
    (
        "an empty value matches the empty value only",
        "sel:\n    c-useragent: ''\ncondition: sel",
        [{"c-useragent": ""}],
        [{"c-useragent": "curl"}, {"other": ""}],
    ),
    (
        "a value ending in a backslash",
        "sel:\n    CurrentDirectory: 'C:\\Windows\\'\nor:\n    Image: x\ncondition: sel or or",
        [{"CurrentDirectory": "c:\\windows\\"}, {"Image": "X"}],
        [{"CurrentDirectory": "C:\\Windows"}],
    ),
    (
        "a value of punctuation only is not dropped",
        "sel:\n    Flag: '-'\ncondition: sel",
        [{"Flag": "-"}],
        [{"Flag": "x"}],
    ),
    (
        "CIDR matches the addresses of the network",
        "sel:\n    DestinationIp|cidr: '172.16.0.0/12'\ncondition: sel",
        [{"DestinationIp": "172.20.1.1"}, {"DestinationIp": "172.31.255.254"}],
        [{"DestinationIp": "172.32.0.1"}, {"DestinationIp": "10.172.16.1"}],
    ),
    (
        "a network ending inside the last octet",
        "sel:\n    DestinationIp|cidr: '13.107.6.152/31'\ncondition: sel",
        [{"DestinationIp": "13.107.6.153"}],
        [{"DestinationIp": "13.107.6.154"}, {"DestinationIp": "13.107.6.15"}],
    ),
    (
        "every alternative of a filter excludes, |all ones too",
        "sel:\n    A: x\nfilter:\n    - F: a\n    - F|contains|all:\n        - b\n        - c\n"
        "condition: sel and not filter",
        [{"A": "x", "F": "b"}],
        [{"A": "x", "F": "a"}, {"A": "x", "F": "bc"}],
    ),
    (
        "IPv6 CIDR",
        "sel:\n    DestinationIp|cidr: 'fe80::/10'\ncondition: sel",
        [{"DestinationIp": "fe80::1"}, {"DestinationIp": "FEBF:0:0:0:0:0:0:1"}],
        [{"DestinationIp": "fec0::1"}],
    ),
    (
        "cased is case-sensitive",
        "sel:\n    Name|cased: Evil\ncondition: sel",
        [{"Name": "Evil"}],
        [{"Name": "EVIL"}],
    ),
    (
        "a value over 256 characters (not in .keyword) is found by its words",
        "sel:\n    CommandLine|contains: 'Invoke-Mimikatz'\ncondition: sel",
        [{"CommandLine": "x" * 300 + " Invoke-Mimikatz -DumpCreds"}],
        [{"CommandLine": "x" * 300 + " Invoke-Other"}],
    ),
    (
        "keywords match anywhere in any field, any case",
        "keywords:\n    - 'sekurlsa::'\ncondition: keywords",
        [{"message": "x SEKURLSA::logonpasswords"}, {"CommandLine": "sekurlsa::"}],
        [{"message": "sekurlsa"}],
    ),
]


@pytest.mark.parametrize(("name", "detection", "hits", "misses"), CASES, ids=[c[0] for c in CASES])
def test_lucene_matches_what_the_rule_says(
    lucene: LuceneOracle, name: str, detection: str, hits: list[dict], misses: list[dict]
) -> None:
    query = query_of(rule(detection))
    answer = lucene.match(query, [*hits, *misses])
    assert answer.parse_error is None, (name, query, answer.parse_error)
    assert answer.matches == set(range(len(hits))), (name, query)


def test_keyword_typed_fields_match_too(lucene: LuceneOracle) -> None:
    # Lucene's oracle indexes `F` as text and `F.keyword` as keyword; an ECS mapping's keyword
    # field is the latter, so the query for keyword_suffix "" is judged on `.keyword` docs.
    query = query_of(
        rule("sel:\n    Image|endswith: '\\cmd.exe'\ncondition: sel"), keyword_suffix=""
    )
    on_keyword = query.replace("Image:", "Image.keyword:")
    answer = lucene.match(on_keyword, [{"Image": "C:\\WINDOWS\\CMD.EXE"}, {"Image": "cmd.exe"}])
    assert answer.matches == {0}, on_keyword


#: Lucene's classic parser has no `F:>5` (an Elasticsearch extension); the oracle cannot judge it.
JUDGED = [corner for corner in CORNERS if ":>" not in corner[2]]


@pytest.mark.parametrize(("name", "detection", "query"), JUDGED, ids=[c[0] for c in JUDGED])
def test_every_corner_matches_its_generated_events(
    lucene: LuceneOracle, name: str, detection: str, query: str
) -> None:
    rules, _ = load_text(rule(detection).encode(), "rules/t.yml")
    events = generate(rules[0], rules[0].conditions[0])
    docs = [*events.positives, *events.case_variants, *events.negatives]
    answer = lucene.match(query, docs)
    assert answer.parse_error is None, (name, query, answer.parse_error)
    expected = set(range(len(events.positives) + len(events.case_variants)))
    missed = [docs[i] for i in sorted(expected - answer.matches)]
    wrong = [docs[i] for i in sorted(answer.matches - expected)]
    assert not missed and not wrong, (name, query, missed, wrong)


def test_the_sigmac_dialect_misses_what_the_default_dialect_finds(lucene: LuceneOracle) -> None:
    detection = "sel:\n    Signature|contains: MeteTool\ncondition: sel"
    docs = [{"Signature": "XMETETOOL"}]
    assert lucene.match(query_of(rule(detection), dialect="sigmac"), docs).matches == set()
    assert lucene.match(query_of(rule(detection)), docs).matches == {0}


def test_a_too_long_value_is_still_found_as_written(lucene: LuceneOracle) -> None:
    value = "A" * 300
    result, _ = render_yaml(rule(f"sel:\n    F|contains: '{value}'\ncondition: sel"))
    query = result.watches[0].body["metadata"]["query"]
    answer = lucene.match(query, [{"F": value}], ignore_above=1024)
    assert answer.parse_error is None and answer.matches == {0}


# The filter of proc_creation_win_susp_obfuscated_ip_download and ..._via_cli: "a valid
# dotted address". Its `\b` can only hold after the fourth number; Lucene has no `\b`.
VALID_IP = "https?://(?:(?:25[0-5]|(?:2[0-4]|1\\d|[1-9])?\\d)(?:\\.|\\b)){4}"
#: the rules' own examples (their selections' comments) and the neighbours of a boundary
URLS = [
    "http://0.0.0000",
    "http://81.4.31754",
    "http://81.293898",
    "http://1359248394",
    "http://0121.04.0174.012",
    "http://012101076012",
    "http://10.0.0.1",
    "curl http://10.0.0.1/x -o y",
    "https://192.168.1.1:8080",
    "http://1.2.3.4.",
    "http://1.2.3.4a",
    "http://1.2.3.4_",
    "http://1.2.3.45",
    "http://256.1.1.1",
    "http://1.2.3",
    "wget http://8.8.8.8\tx",
]


@pytest.mark.parametrize(
    "pattern", [VALID_IP, "x(?:\\.|\\b)", "a\\b-", "-\\bx", "\\bfoo\\b", "(?:ab\\b|c)d"]
)
def test_a_word_boundary_matches_in_lucene_what_it_matches_in_python(
    lucene: LuceneOracle, pattern: str
) -> None:
    values = [*URLS, "x.", "x", "xy", "x-", "a-", "ab-", "-x", "--x", "foo", "a foo.", "food"]
    values += ["abd", "ab d", "cd", "ab-cd"]
    notes: list[str] = []
    query = f"F.keyword:{slashed(to_lucene_regex(pattern, False, notes))}"
    answer = lucene.match(query, [{"F": v} for v in values])
    assert answer.parse_error is None, (query, answer.parse_error)
    expected = {i for i, v in enumerate(values) if re.search(pattern, v)}
    assert {values[i] for i in answer.matches} == {values[i] for i in expected}, query
    assert notes == [], notes


def test_the_obfuscated_ip_rules_keep_the_hits_their_filter_does_not_name(
    lucene: LuceneOracle,
) -> None:
    detection = (
        "sel:\n    CommandLine|contains: 'wget '\n"
        "ip:\n    CommandLine|re: 'https?://[0-9]{1,3}\\.[0-9]{1,3}\\.0[0-9]{3,4}'\n"
        f"filter:\n    CommandLine|re: '{VALID_IP}'\n"
        "condition: sel and ip and not filter"
    )
    result, lines = render_yaml(rule(detection))
    assert lines == []
    query = result.watches[0].body["metadata"]["query"]
    # The first is what the rules look for (the filter with its `\b` dropped matched it too);
    # the second names a valid address as well, which the filter drops.
    docs = [
        {"CommandLine": "wget http://0.0.0000"},
        {"CommandLine": "wget http://1.2.0123 http://1.2.3.4"},
    ]
    assert lucene.match(query, docs).matches == {0}, query


def test_whitespace_is_whitespace_and_not_the_letters_of_its_escapes(
    lucene: LuceneOracle,
) -> None:
    regex = "net\\s+user\\S"
    query = query_of(rule(f"sel:\n    CommandLine|re: '{regex}'\ncondition: sel"))
    values = ["net userx", "net\tuserx", "net\r\nuserx", "netnusert", "net user ", "net usert"]
    answer = lucene.match(query, [{"CommandLine": v} for v in values])
    assert (
        answer.matches == {0, 1, 2, 5} == {i for i, v in enumerate(values) if re.search(regex, v)}
    )


@pytest.mark.parametrize(
    "regex",
    [
        # proc_creation_win_malware_snake_installer_cli_args
        "\\s[a-fA-F0-9]{64}\\s[a-fA-F0-9]{16}",
        # both proc_creation_win_apt_mint_sandstorm_* rules
        "[-/–][Ee^]{1,2}[ncodema^]*\\s[A-Za-z0-9+/=]{15,}",
    ],
)
def test_rules_once_too_complex_render_and_match(lucene: LuceneOracle, regex: str) -> None:
    query = query_of(rule(f"sel:\n    CommandLine|re: '{regex}'\ncondition: sel"))
    hexes = "a" * 64 + " " + "F" * 16
    values = [f"jpsetup.exe {hexes}", f"x\t{hexes}x", "p -enc " + "A" * 15, "p /e\tQUJD" * 4]
    values += ["jpsetup.exe t" + hexes[1:], "p -encA" + "A" * 15, "p -enc " + "A" * 14]
    answer = lucene.match(query, [{"CommandLine": v} for v in values])
    assert answer.parse_error is None, answer.parse_error
    expected = {i for i, v in enumerate(values) if re.search(regex, v)}
    assert expected and answer.matches == expected, query


def test_a_value_list_packed_into_regexes_matches_each_value_in_any_case(
    lucene: LuceneOracle,
) -> None:
    hashes = [f"MD5={i * 7919:032x}" for i in range(1100)]
    values = "\n".join(f"        - '{h}'" for h in hashes)
    query = query_of(rule(f"sel:\n    Hashes|contains:\n{values}\ncondition: sel"))
    assert query.count("/") < 2 * 1024
    hits = [f"SHA1=1,{h.upper()},X" for h in hashes[::97]] + [hashes[-1].lower(), hashes[0]]
    misses = [hashes[5][:-1], hashes[5].replace("=", ":"), "MD5=" + "f" * 32]
    answer = lucene.match(query, [{"Hashes": v} for v in [*hits, *misses]])
    assert answer.parse_error is None, answer.parse_error
    assert answer.matches == set(range(len(hits)))
