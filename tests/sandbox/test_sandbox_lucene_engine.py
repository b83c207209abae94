"""The sandbox's Lucene engine without Java: patterns, documents and boolean rules.

Its agreement with real Lucene is tested in tests/fidelity/ (test_sandbox_lucene_cases.py and
the corpus differential); these are the pieces' own contracts.
"""

from __future__ import annotations

import pytest

from watchmgr.sandbox.automaton import MAX_DETERMINIZED_STATES, RegexError, regexp, wildcard
from watchmgr.sandbox.lucene import Document, compile_query_string, flatten
from watchmgr.sandbox.query import compile_query
from watchmgr.sandbox.querystring import Node, QueryStringError, parse_query_string


@pytest.mark.parametrize(
    ("pattern", "term", "matches"),
    [
        ("*\\\\cmd.exe", "c:\\x\\cmd.exe", True),
        ("*\\\\cmd.exe", "cmd.exe", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("*[x]*", "a[x]b", True),
        ("*[x]*", "axb", False),
        ("\\*", "*", True),
        ("a*b*c", "abbbc", True),
        ("a*b*c", "acb", False),
        ("*ab*ab*", "abab", True),
        ("*aa*", "a", False),
    ],
)
def test_wildcards_have_escapes_and_no_classes(pattern: str, term: str, matches: bool) -> None:
    assert wildcard(pattern)(term) is matches


@pytest.mark.parametrize(
    ("pattern", "term", "matches"),
    [
        ("<1-100>", "007", True),
        ("<1-100>", "101", False),
        ("<01-10>", "1", False),
        ("~(a.*)", "ba", True),
        ("~(a.*)", "ab", False),
        ("(a|b)+&.*b", "aab", True),
        ("(a|b)+&.*b", "aba", False),
        ('"a.b"', "a.b", True),
        ('"a.b"', "axb", False),
        ("\\d\\.", "d.", True),  # Lucene 8.7 has no shorthand classes
        ("\\d", "1", False),
        ("[^a-c]x", "ax", False),
        ("^a$", "^a$", True),  # no anchors: ^ and $ are characters
        ("a#", "a", False),
        ("@", "anything", True),
    ],
)
def test_lucene_regexp_syntax(pattern: str, term: str, matches: bool) -> None:
    assert regexp(pattern).matches(term) is matches


@pytest.mark.parametrize("pattern", ["(a", "[z-a]", "a{", "a{2", "<foo>", "a|", "[a"])
def test_regexes_lucene_refuses_are_errors(pattern: str) -> None:
    with pytest.raises(RegexError):
        regexp(pattern)


def test_a_regex_over_the_state_limit_is_an_error() -> None:
    with pytest.raises(RegexError, match=str(MAX_DETERMINIZED_STATES)):
        regexp(".*a.{20}")


def test_a_regex_that_backtracks_elsewhere_is_one_pass_here() -> None:
    # exponential for a backtracking engine; a DFA walks the term once
    assert regexp("(a|aa)*c").matches("a" * 50_000) is False


def test_dotted_names_and_objects_are_one_field() -> None:
    assert flatten({"a": {"b": 1}, "a.c": [2, None], "d": [{"e": "x"}, {"e": "y"}]}) == {
        "a.b": [1],
        "a.c": [2],
        "d.e": ["x", "y"],
    }
    term = compile_query({"term": {"a.b.keyword": "v"}})
    assert term({"a": {"b": "v"}}) and term({"a.b": "v"})


def test_keyword_holds_no_value_over_256_characters() -> None:
    doc = Document({"c": ["x" * 257, "short"]})
    assert doc.keyword_terms("c") == ["short"]
    assert compile_query({"term": {"c.keyword": "x" * 257}})({"c": "x" * 257}) is False


def test_a_clause_with_no_token_is_left_out_of_its_group() -> None:
    def leaf(node: Node) -> bool | None:
        return None if node.value == "-" else node.value == "yes"

    assert parse_query_string('a:"-" OR a:yes').evaluate(leaf) is True
    assert parse_query_string('a:"-"').evaluate(leaf) is None
    assert parse_query_string('NOT a:"-"').evaluate(leaf) is None
    assert parse_query_string("NOT a:no").evaluate(leaf) is True  # pure negative: match-all


def test_term_kinds_follow_lucenes_lexer() -> None:
    assert parse_query_string("f:ab*").kind == "prefix"
    assert parse_query_string("f:a*b").kind == "wildcard"
    assert parse_query_string("f:a\\*").kind == "term"
    assert parse_query_string("f:ab~1").kind == "fuzzy"
    assert parse_query_string("f:*").kind == "exists"
    assert parse_query_string("*").kind == "match_all"
    assert parse_query_string("_exists_:x").kind == "exists"


def test_a_regex_longer_than_max_regex_length_fails_the_search() -> None:
    with pytest.raises(QueryStringError, match=r"index\.max_regex_length"):
        compile_query_string("f:/" + "a" * 1001 + "/")
    longest = compile_query_string("f.keyword:/" + "a?" * 500 + "/")
    assert longest.matches(Document({"f": "aaa"}))


def test_fractional_edit_distances_are_refused() -> None:
    with pytest.raises(QueryStringError, match="Fractional"):
        parse_query_string("f:abc~1.5")
