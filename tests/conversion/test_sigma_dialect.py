"""The default `sigma` dialect, corner by corner: what Sigma means, as query_string text.

What each text matches in real Lucene is asserted in tests/fidelity/test_dialect.py.
"""

from __future__ import annotations

import pytest

from tests.conversion.support import query_of, render_yaml
from tests.conversion.test_query import rule

CORNERS = [
    # name, detection, query
    (
        "equality is a case-insensitive whole-value regex on the exact field",
        "sel:\n    Image: cmd.exe\ncondition: sel",
        "(Image.keyword:/[cC][mM][dD]\\.[eE][xX][eE]/ "
        'OR (Image:"cmd.exe" AND NOT _exists_:Image.keyword))',
    ),
    (
        "contains is the same with .* at both ends",
        "sel:\n    Image|contains: '\\SYSTEM\\'\ncondition: sel",
        "(Image.keyword:/.*\\\\[sS][yY][sS][tT][eE][mM]\\\\.*/ "
        'OR (Image:"\\\\SYSTEM\\\\" AND NOT _exists_:Image.keyword))',
    ),
    (
        "a single-character wildcard is one character",
        "sel:\n    Image: 'a?c'\ncondition: sel",
        '(Image.keyword:/[aA].[cC]/ OR (Image:("a" AND "c") AND NOT _exists_:Image.keyword))',
    ),
    (
        "every other character is escaped in the regex",
        "sel:\n    CommandLine: 'a b/(c)\"<>'\ncondition: sel",
        '(CommandLine.keyword:/[aA]\\ [bB]\\/\\([cC]\\)\\"\\<\\>/ '
        'OR (CommandLine:"a b/(c)\\"<>" AND NOT _exists_:CommandLine.keyword))',
    ),
    (
        "a regex ending in a backslash ends in a class, or query_string would read its slash",
        "sel:\n    Dir: 'C:\\'\ncondition: sel",
        '(Dir.keyword:/[cC]:[\\\\]/ OR (Dir:"C:\\\\" AND NOT _exists_:Dir.keyword))',
    ),
    (
        "a value without letters is a plain wildcard",
        "sel:\n    Path|endswith: '\\1.2'\ncondition: sel",
        '(Path.keyword:*\\\\1.2 OR (Path:"\\\\1.2" AND NOT _exists_:Path.keyword))',
    ),
    (
        "and a plain exact term without wildcards",
        "sel:\n    Path: '\\-'\ncondition: sel",
        'Path.keyword:"\\\\-"',
    ),
    (
        "numbers: exact on the keyword sub-field, or on the field where it has none (numeric)",
        "sel:\n    EventID:\n        - 4688\n        - '4689'\ncondition: sel",
        '(EventID.keyword:("4688" OR "4689") OR '
        '(EventID:("4688" OR "4689") AND NOT _exists_:EventID.keyword))',
    ),
    (
        "booleans too",
        "sel:\n    Enabled: true\ncondition: sel",
        '(Enabled.keyword:/[tT][rR][uU][eE]/ OR (Enabled:"true" AND NOT _exists_:Enabled.keyword))',
    ),
    (
        "values of one field share it, others are ORed beside it",
        "sel:\n    F:\n        - a\n        - 7\n        - '*b'\ncondition: sel",
        '((F.keyword:(/[aA]/ OR /.*[bB]/) OR (F.keyword:"7" '
        'OR (F:"7" AND NOT _exists_:F.keyword))) OR (F:("a" OR "b") AND NOT _exists_:F.keyword))',
    ),
    (
        "|cased values are matched as written",
        "sel:\n    Name|cased:\n        - Evil\n        - '*Ev\"il*'\ncondition: sel",
        '(Name.keyword:("Evil" OR *Ev\\"il*) OR (Name:("Evil" '
        'OR "Ev\\"il") AND NOT _exists_:Name.keyword))',
    ),
    (
        "an empty value is the empty exact term",
        "sel:\n    Description: ''\ncondition: sel",
        'Description.keyword:""',
    ),
    (
        "null is a parenthesized negative group, so that OR NOT works",
        "sel:\n    errorCode: Success\nempty:\n    errorCode: null\ncondition: sel or empty",
        "((errorCode.keyword:/[sS][uU][cC][cC][eE][sS][sS]/ "
        'OR (errorCode:"Success" AND NOT _exists_:errorCode.keyword)) '
        "OR (NOT _exists_:errorCode))",
    ),
    (
        "exists: false likewise",
        "sel:\n    A: x\nnone:\n    User|exists: false\ncondition: sel or none",
        '((A.keyword:/[xX]/ OR (A:"x" AND NOT _exists_:A.keyword)) OR (NOT _exists_:User))',
    ),
    (
        "keywords are searched in every exact field, case-insensitively",
        "keywords:\n    - mimikatz\n    - 4688\ncondition: keywords",
        "\\*.keyword:(/.*[mM][iI][mM][iI][kK][aA][tT][zZ].*/ OR *4688*)",
    ),
    (
        "a lone keyword too",
        "sel:\n    A: x\nkw:\n    - 'x y'\ncondition: sel and kw",
        "((A.keyword:/[xX]/ "
        'OR (A:"x" AND NOT _exists_:A.keyword)) AND \\*.keyword:(/.*[xX]\\ [yY].*/))',
    ),
    (
        "regexes keep their own case rules",
        "sel:\n    CommandLine|re: 'x\\d+y'\ncondition: sel",
        "CommandLine.keyword:/.*(x[0-9]+y).*/",
    ),
    (
        "IPv4 CIDR: the network for ip fields, the address text on the exact field",
        "sel:\n    DestinationIp|cidr: '172.16.0.0/14'\ncondition: sel",
        '(DestinationIp:"172.16.0.0/14" OR DestinationIp.keyword:/172\\.(16|17|18|19)\\..*/)',
    ),
    (
        "IPv6 CIDR",
        "sel:\n    Ip|cidr:\n        - 'fe80::/10'\n        - '::1/128'\n"
        "        - '2a01:111:f403::/48'\ncondition: sel",
        '(Ip:("fe80::/10" OR "::1/128" OR "2a01:111:f403::/48") OR Ip.keyword:('
        "/[fF][eE][89aAbB][0-9a-fA-F]:.*/ OR /::1/ OR /2[aA]01:111:[fF]403:.*/))",
    ),
    (
        "comparisons and exists are as in sigmac",
        "sel:\n    Count|gt: 5\n    User|exists: true\ncondition: sel",
        "(Count:>5 AND _exists_:User)",
    ),
]


def test_numbers_with_keyword_typed_fields_are_plain_terms() -> None:
    detection = "sel:\n    EventID: 4688\ncondition: sel"
    assert query_of(rule(detection), keyword_suffix="") == 'EventID:"4688"'


@pytest.mark.parametrize(("name", "detection", "query"), CORNERS, ids=[c[0] for c in CORNERS])
def test_sigma_dialect_corner(name: str, detection: str, query: str) -> None:
    assert query_of(rule(detection)) == query, name


def test_sigma_is_the_default_dialect() -> None:
    detection = "sel:\n    Image: cmd.exe\ncondition: sel"
    assert query_of(rule(detection)) == query_of(rule(detection), dialect="sigma")


def test_keyword_typed_fields_use_the_field_itself_and_cidr_as_a_term() -> None:
    detection = "sel:\n    Image|endswith: '\\cmd.exe'\n    Ip|cidr: '10.0.0.0/8'\ncondition: sel"
    assert query_of(rule(detection), keyword_suffix="") == (
        '(Image:/.*\\\\[cC][mM][dD]\\.[eE][xX][eE]/ AND Ip:"10.0.0.0/8")'
    )
    keywords = "keywords:\n    - evil\ncondition: keywords"
    assert query_of(rule(keywords), keyword_suffix="") == "\\*:(/.*[eE][vV][iI][lL].*/)"


def test_a_value_too_long_for_a_regex_is_matched_as_written_with_a_warning() -> None:
    long = "a" * 300
    result, lines = render_yaml(rule(f"sel:\n    F|contains: '{long}'\ncondition: sel"))
    assert result.watches[0].body["metadata"]["query"].startswith(f"(F.keyword:*{long}* OR ")
    assert any("matched case-sensitively" in line for line in lines), lines


def test_long_values_are_searched_by_their_words_where_keyword_has_none_but_not_under_not() -> None:
    detection = (
        "sel:\n    CommandLine|contains: 'Invoke-Mimikatz'\n"
        "filter:\n    ParentImage|endswith: '\\sccm.exe'\ncondition: sel and not filter"
    )
    assert query_of(rule(detection)) == (
        "((CommandLine.keyword:/.*[iI][nN][vV][oO][kK][eE]\\-[mM][iI][mM][iI][kK][aA][tT][zZ].*/"
        " OR "
        '(CommandLine:"Invoke-Mimikatz" AND NOT _exists_:CommandLine.keyword)) AND '
        "(NOT (ParentImage.keyword:/.*\\\\[sS][cC][cC][mM]\\.[eE][xX][eE]/)))"
    )


def test_a_network_ending_inside_the_last_octet_lists_its_addresses() -> None:
    detection = "sel:\n    Ip|cidr: '13.107.6.152/31'\ncondition: sel"
    assert query_of(rule(detection)) == (
        '(Ip:"13.107.6.152/31" OR Ip.keyword:/13\\.107\\.6\\.(152|153)/)'
    )


def test_all_values_under_a_not_keep_their_parentheses() -> None:
    detection = (
        "sel:\n    A: x\nfilter:\n    - F: a\n    - F|contains|all:\n        - b\n        - c\n"
        "condition: sel and not filter"
    )
    query = query_of(rule(detection))
    assert "(NOT ((F.keyword:/[aA]/) OR (F.keyword:/.*[bB].*/ AND F.keyword:/.*[cC].*/)))" in (
        query
    ), query
