"""The sigmac query dialects, corner by corner: rule detection in, query_string text out."""

from __future__ import annotations

import pytest

from tests.conversion.support import query_of, render_yaml
from watchmgr.query import to_lucene_regex


def rule(detection: str, extra: str = "") -> str:
    body = "\n".join("    " + line for line in detection.strip("\n").splitlines())
    return (
        "title: Corner\nid: 5d6c9a43-0f5e-4f57-9d1b-3f4c1c2b8a11\nstatus: test\n"
        "logsource:\n    product: windows\n    category: process_creation\n"
        f"detection:\n{body}\nlevel: high\n{extra}"
    )


CORNERS = [
    # name, detection, query
    (
        "plain value is a quoted phrase",
        "sel:\n    Image: cmd.exe\ncondition: sel",
        'Image:"cmd.exe"',
    ),
    ("numbers are quoted too", "sel:\n    EventID: 4688\ncondition: sel", 'EventID:"4688"'),
    (
        "spaces and Lucene specials are escaped",
        "sel:\n    CommandLine: 'a b:(c)/d+e-f=g!h{i}[j]^k~l'\ncondition: sel",
        'CommandLine:"a\\ b\\:\\(c\\)\\/d\\+e\\-f\\=g\\!h\\{i\\}\\[j\\]\\^k\\~l"',
    ),
    (
        "backslashes are doubled",
        "sel:\n    User: 'NT AUTHORITY\\SYSTEM'\ncondition: sel",
        'User:"NT\\ AUTHORITY\\\\SYSTEM"',
    ),
    (
        "a wildcard moves the term to .keyword, unquoted",
        "sel:\n    Image|endswith: '\\cmd.exe'\ncondition: sel",
        "Image.keyword:*\\\\cmd.exe",
    ),
    (
        "a backslash before a modifier's wildcard stays a backslash",
        "sel:\n    TargetObject|contains: '\\SYSTEM\\'\ncondition: sel",
        "TargetObject.keyword:*\\\\SYSTEM\\\\*",
    ),
    (
        "an escaped wildcard is a literal star",
        "sel:\n    CommandLine: 'a\\*b'\ncondition: sel",
        'CommandLine:"a\\*b"',
    ),
    (
        "< and > are kept",
        "sel:\n    CommandLine|contains: 'echo x > y'\ncondition: sel",
        "CommandLine.keyword:*echo\\ x\\ \\>\\ y*",
    ),
    (
        "value lists are ORed in one term",
        "sel:\n    EventID:\n        - 1\n        - 2\ncondition: sel",
        'EventID:("1" OR "2")',
    ),
    (
        "a single-element list keeps its parentheses",
        "sel:\n    Image:\n        - rasdial\ncondition: sel",
        'Image:("rasdial")',
    ),
    (
        "one wildcard in a list puts the whole list on .keyword",
        "sel:\n    Image:\n        - a.exe\n        - '*b.exe'\ncondition: sel",
        "Image.keyword:(a.exe OR *b.exe)",
    ),
    ("null is a missing field", "sel:\n    Parent: null\ncondition: sel", "NOT _exists_:Parent"),
    (
        "an empty string is two quotes",
        "sel:\n    Description: ''\ncondition: sel",
        'Description:""',
    ),
    (
        "several fields are ANDed in parentheses",
        "sel:\n    A: 1\n    B: 2\ncondition: sel",
        '(A:"1" AND B:"2")',
    ),
    (
        "not wraps its search in parentheses",
        "sel:\n    A: 1\nfilter:\n    B: 2\ncondition: sel and not filter",
        '(A:"1" AND (NOT (B:"2")))',
    ),
    (
        "|all gives one term per value",
        "sel:\n    CommandLine|contains|all:\n        - '-a'\n        - '-b'\ncondition: sel",
        "(CommandLine.keyword:*\\-a* AND CommandLine.keyword:*\\-b*)",
    ),
    (
        "keyword lists search every keyword sub-field",
        "keywords:\n    - mimikatz\n    - 'sekurlsa::'\ncondition: keywords",
        "\\*.keyword:(*mimikatz* OR *sekurlsa\\:\\:*)",
    ),
    (
        "1 of a pattern ORs the matching searches",
        "sel_a:\n    A: 1\nsel_b:\n    B: 2\ncondition: 1 of sel_*",
        '(A:"1" OR B:"2")',
    ),
    (
        "all of them ANDs every search",
        "sel_a:\n    A: 1\nsel_b:\n    B: 2\ncondition: all of them",
        '(A:"1" AND B:"2")',
    ),
    (
        "terms common to every OR branch are factored out (as sigmac did)",
        "a:\n    EventID: 1\n    X: x\nb:\n    EventID: 1\n    Y: y\ncondition: a or b",
        '(EventID:"1" AND (X:"x" OR Y:"y"))',
    ),
    (
        "upper-case operators are read like sigmac did",
        "sel:\n    A: 1\nfilter:\n    B: 2\ncondition: sel AND NOT filter",
        '(A:"1" AND (NOT (B:"2")))',
    ),
    (
        "regexes go to .keyword, unanchored",
        "sel:\n    CommandLine|re: 'x\\d+y'\ncondition: sel",
        "CommandLine.keyword:/.*(x[0-9]+y).*/",
    ),
    (
        "regex flags i: both cases",
        "sel:\n    CommandLine|re|i: 'ab'\ncondition: sel",
        "CommandLine.keyword:/.*([aA][bB]).*/",
    ),
    (
        "regex lists are ORed terms",
        "sel:\n    F|re:\n        - '^a'\n        - 'b$'\ncondition: sel",
        "(F.keyword:/(a).*/ OR F.keyword:/.*(b)/)",
    ),
    (
        "base64offset is a list of the three encodings",
        "sel:\n    F|base64offset|contains: 'ab'\ncondition: sel",
        "F.keyword:(*YW* OR *Fi* OR *hY*)",
    ),
    (
        "windash expands - and /",
        "sel:\n    CommandLine|windash|contains: '-enc'\ncondition: sel",
        "CommandLine.keyword:(*\\-enc* OR *\\/enc* OR *–enc* OR *—enc* OR *―enc*)",
    ),
    (
        "cidr",
        "sel:\n    DestinationIp|cidr: '10.0.0.0/8'\ncondition: sel",
        "DestinationIp:10.0.0.0\\/8",
    ),
    (
        "utf16 base64 starts with UTF-16's byte-order mark (FF FE), as the spec and sigmac say",
        "sel:\n    CommandLine|utf16|base64: 'ping'\ncondition: sel",
        'CommandLine:"\\/\\/5wAGkAbgBnAA\\=\\="',
    ),
    (
        "utf16le is the spec's name for wide",
        "sel:\n    CommandLine|utf16le|base64offset|contains: 'ping'\ncondition: sel",
        "CommandLine.keyword:(*cABpAG4AZw* OR *AAaQBuAGcA* OR *wAGkAbgBnA*)",
    ),
    (
        "utf16 base64offset counts the mark's bytes",
        "sel:\n    CommandLine|utf16|base64offset|contains: 'ping'\ncondition: sel",
        "CommandLine.keyword:(*\\/\\/5wAGkAbgBnA* OR *\\/\\+cABpAG4AZw* OR *\\/\\/nAAaQBuAGcA*)",
    ),
    ("exists", "sel:\n    User|exists: true\ncondition: sel", "_exists_:User"),
    ("gt", "sel:\n    Count|gt: 5\ncondition: sel", "Count:>5"),
    ("lte", "sel:\n    Count|lte: 5\ncondition: sel", "Count:<=5"),
    ("cased goes to .keyword", "sel:\n    Name|cased: Evil\ncondition: sel", "Name.keyword:Evil"),
]


@pytest.mark.parametrize(("name", "detection", "query"), CORNERS, ids=[c[0] for c in CORNERS])
def test_query_corner(name: str, detection: str, query: str) -> None:
    assert query_of(rule(detection), dialect="sigmac") == query, name


LEGACY = [
    (
        "2020 escaped the star after a trailing backslash",
        "sel:\n    TargetObject|contains: '\\SYSTEM\\'\ncondition: sel",
        "TargetObject.keyword:*\\\\SYSTEM\\*",
    ),
    (
        "2020 deleted < and >",
        "sel:\n    C|contains: 'a > b'\ncondition: sel",
        "C.keyword:*a\\ \\ b*",
    ),
    (
        "2020 put regexes on the field as written",
        "sel:\n    C|re: 'x\\d'\ncondition: sel",
        "C:/x\\d/",
    ),
]


@pytest.mark.parametrize(("name", "detection", "query"), LEGACY, ids=[c[0] for c in LEGACY])
def test_sigmac_2020_dialect_keeps_the_2020_text(name: str, detection: str, query: str) -> None:
    assert query_of(rule(detection), dialect="sigmac-2020") == query, name


@pytest.mark.parametrize(
    ("pattern", "lucene"),
    [
        ("abc", ".*(abc).*"),
        ("^abc$", "(abc)"),
        ("(?i)ab", ".*([aA][bB]).*"),
        ("[a-c]x", ".*([a-c]x).*"),
        ("a|b", "(.*(a).*)|(.*(b).*)"),
        ("(^|/)x", "(()|.*\\/)x.*"),
        ("\\bword\\b", "(.*[^a-zA-Z0-9_])?(word)([^a-zA-Z0-9_].*)?"),
        ("a.*?b", ".*(a.*b).*"),
        ("(?:ab)+", ".*((ab)+).*"),
        ("x@y&z<1>~#", ".*(x\\@y\\&z\\<1\\>\\~\\#).*"),
        ("\\s\\d\\w", ".*([\t-\r ][0-9][a-zA-Z0-9_]).*"),
        ("\\S\\t", ".*([^\t-\r ]\t).*"),
    ],
)
def test_pcre_patterns_become_whole_value_lucene_patterns(pattern: str, lucene: str) -> None:
    assert to_lucene_regex(pattern) == lucene


@pytest.mark.parametrize(
    ("pattern", "lucene"),
    [
        # between a word character and another character it always holds
        ("a\\b-", ".*(a-).*"),
        ("-\\bx", ".*(-x).*"),
        # between two word characters never: that alternative goes
        ("(?:a(?:-|\\b)){2}", "(.*(a-a-).*)|(.*(a-a)([^a-zA-Z0-9_].*)?)"),
        # at the end after a word character: the end, or a non-word character
        ("x(?:\\.|\\b)", "(.*(x\\.).*)|(.*(x)([^a-zA-Z0-9_].*)?)"),
    ],
)
def test_a_word_boundary_with_known_neighbours_is_decided(pattern: str, lucene: str) -> None:
    notes: list[str] = []
    assert to_lucene_regex(pattern, notes=notes) == lucene
    assert notes == []


def test_a_word_boundary_with_unknown_neighbours_is_dropped_with_a_note() -> None:
    notes: list[str] = []
    assert to_lucene_regex("(?:a|-)\\bx", notes=notes) == ".*((a|-)x).*"
    assert notes == ["'\\b' inside the pattern is dropped (the watch may match more)"]


@pytest.mark.parametrize(
    ("detection", "message"),
    [
        (
            "sel:\n    A|fieldref: B\ncondition: sel",
            "rules/test.yml:9: modifier 'fieldref' cannot be expressed in query_string",
        ),
        (
            "sel:\n    A|re: '(?=x)y'\ncondition: sel",
            "rules/test.yml:9: regular expression cannot be expressed in Lucene syntax",
        ),
        (
            "sel:\n    A|expand: '%admins%'\ncondition: sel",
            "rules/test.yml:9: placeholder %admins% has no value",
        ),
    ],
)
def test_what_query_string_cannot_express_is_a_named_error(detection: str, message: str) -> None:
    result, lines = render_yaml(rule(detection))
    assert result.watches == ()
    assert len(lines) == 1 and lines[0].startswith(message), lines
