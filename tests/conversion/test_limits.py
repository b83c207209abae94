"""What Elasticsearch would refuse at every run is a path:line error at render time.

Whether these verdicts are Lucene's own is asserted in tests/fidelity/test_limits.py.
"""

from __future__ import annotations

import pytest

from tests.conversion.support import render_yaml
from tests.conversion.test_query import rule
from watchmgr.query import to_lucene_regex
from watchmgr.query.lucene import RegexRejected, check_regex, min_length


def errors_of(detection: str) -> list[str]:
    _, lines = render_yaml(rule(detection))
    return [line for line in lines if ": warning: " not in line]


def warnings_of(detection: str) -> list[str]:
    _, lines = render_yaml(rule(detection))
    return [line for line in lines if ": warning: " in line]


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("a(b", "expected ')' at position 3"),
        ("a{2", "expected '}' at position 3"),
        ("[z-a]", "invalid range: from (122) cannot be > to (97)"),
        ("x\\", "unexpected end-of-string"),
        ("(a))", "end-of-string expected at position 3"),
        ("a{,3}", "integer expected at position 2"),
        # Lucene scans to the end for the closing quote before it fails
        ('a"b', "expected '\"' at position 3"),
        ("<abc>", "'abc' not found"),
        ("<1-x>", "interval syntax error at position 4"),
        (".*a.{0,40}b.*", "determinizing it needs more than 10,000 states"),
        ("x" * 1001, "1,001 characters long, over Elasticsearch's index.max_regex_length of 1,000"),
    ],
)
def test_lucene_would_refuse(regex: str, message: str) -> None:
    with pytest.raises(RegexRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_regex(regex)


@pytest.mark.parametrize(
    "regex", [".*([aA][bB]).*", "(a|())b", "[^\\\\]+", "a{2,}", "\\d+\\s\\w", "@&~(a)", "<1-5>"]
)
def test_lucene_accepts(regex: str) -> None:
    check_regex(regex)


def test_the_states_a_regex_needs_are_counted() -> None:
    assert check_regex("abc") == 4
    assert check_regex("a.{0,9}", determinize=False) == 0


@pytest.mark.parametrize(
    ("regex", "length"), [("abc", 3), ("a.*b", 2), ("(ab|c)d?", 1), ("x{3}", 3), ("", 0)]
)
def test_the_fewest_characters_a_regex_matches(regex: str, length: int) -> None:
    assert min_length(regex) == length


def test_an_empty_alternative_is_written_so_lucene_parses_it() -> None:
    assert to_lucene_regex("cmd(?:\\s|)/c") == ".*(cmd([\t-\r ]|())\\/c).*"
    assert to_lucene_regex("https?://(\\.|\\b)x") == ".*(https?:\\/\\/(\\.|())x).*"
    check_regex(to_lucene_regex("cmd(?:\\s|)/c"))


def test_a_regex_lucene_cannot_parse_is_an_error_at_its_line() -> None:
    # Python (and PCRE 10.43) read `{,3}` as "at most 3"; Lucene wants the lower bound.
    errors = errors_of("sel:\n    CommandLine|re: 'ab{,3}'\ncondition: sel")
    assert errors == [
        "rules/test.yml:9: Elasticsearch would refuse this query at every run: integer "
        "expected at position 6 (simplify the regular expression or split the rule)"
    ]


def test_a_regex_too_complex_to_determinize_is_an_error() -> None:
    # Every "ping -n" of the last 64 characters is a thread of the subset construction.
    errors = errors_of("sel:\n    CommandLine|re: 'ping\\s+-n.{6,64}echo'\ncondition: sel")
    assert len(errors) == 1 and "more than 10,000 states" in errors[0], errors


def test_whitespace_is_not_the_letters_of_its_escapes() -> None:
    # `[ \t\n]` is the space and the letters t and n to Lucene: a 64-character hex run after
    # such a "whitespace" could start at every t or n, which was too complex.
    assert warnings_of("sel:\n    CommandLine|re: '\\s[a-fA-F0-9]{64}'\ncondition: sel") == []


def test_a_costly_regex_is_a_warning() -> None:
    regex = "(?:ProgramData|\\\\AppData\\\\(?:Local|Roaming))\\\\[^\\\\]{1,256}$"
    warnings = warnings_of(f"sel:\n    CommandLine|re: '{regex}'\ncondition: sel")
    assert any("automaton states" in w for w in warnings), warnings


def test_too_many_clauses_is_an_error_and_many_a_warning() -> None:
    # Numbers: they are never packed into regexes of alternatives (below).
    many = "\n".join(f"        - {i}" for i in range(1100))
    warnings = warnings_of(f"sel:\n    F:\n{many}\ncondition: sel")
    assert any("1,100 clauses" in w and "1,024" in w for w in warnings), warnings
    too_many = "\n".join(f"        - {i}" for i in range(4100))
    errors = errors_of(f"sel:\n    F:\n{too_many}\ncondition: sel")
    assert errors == [
        "rules/test.yml:7: the query has 4,100 clauses, more than the 4,096 a search on a "
        "1 GB-heap Elasticsearch node allows (split the rule's value lists)"
    ]


def test_a_value_list_over_the_clause_floor_is_packed_into_regexes_of_alternatives() -> None:
    values = "\n".join(f"        - 'MD5={i:032x}'" for i in range(4500))
    result, lines = render_yaml(rule(f"sel:\n    Hashes|contains:\n{values}\ncondition: sel"))
    query = result.watches[0].body["metadata"]["query"]
    regexes = query.split(" OR ")
    assert len(regexes) < 1024, len(regexes)
    assert all(len(r[r.index("/") + 1 : r.rindex("/")]) <= 1000 for r in regexes)
    assert regexes[0].startswith("Hashes.keyword:(/.*[mM][dD]5=" + "0" * 30 + "(00|01|")
    assert len(lines) == 1 and "4,500 values are searched as regexes of alternatives" in lines[0]


def test_many_leading_wildcards_are_a_warning_of_cost() -> None:
    values = "\n".join(f"        - 'x{i}'" for i in range(501))
    warnings = warnings_of(f"sel:\n    F|contains:\n{values}\ncondition: sel")
    assert any("501 values with a leading wildcard" in w for w in warnings), warnings
