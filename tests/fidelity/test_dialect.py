"""The default dialect in real Lucene: each query matches what its Sigma rule says.

The query texts are pinned in tests/conversion/test_sigma_dialect.py; here Lucene judges them
against the documents a rule must and must not match.
"""

from __future__ import annotations

import pytest

from tests.conversion.support import query_of, render_yaml
from tests.conversion.test_query import rule
from tests.conversion.test_sigma_dialect import CORNERS
from tests.fidelity.events import generate
from tests.fidelity.oracle import LuceneOracle
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
