"""The oracle answers as its README documents: the ground truth the other fidelity tests rely on."""

from __future__ import annotations

from tests.fidelity.oracle import LuceneOracle, Question


def test_a_backslash_in_a_wildcard_term_is_an_escape_and_keyword_is_case_sensitive(
    lucene: LuceneOracle,
) -> None:
    docs = [{"Image": "C:\\Windows\\cmd.exe"}, {"Image": "C:\\WINDOWS\\CMD.EXE"}]
    answer = lucene.match("Image.keyword:*\\\\cmd.exe", docs)
    assert answer.parse_error is None
    assert answer.matches == {0}


def test_values_over_ignore_above_are_not_in_keyword(lucene: LuceneOracle) -> None:
    docs = [{"CommandLine": "a" * 300 + " evil"}, {"CommandLine": "short evil"}]
    assert lucene.match("CommandLine.keyword:*evil", docs).matches == {1}


def test_a_syntax_error_is_reported_not_raised(lucene: LuceneOracle) -> None:
    answer = lucene.match("Image:(unclosed", [{"Image": "x"}])
    assert answer.parse_error is not None
    assert answer.matches == frozenset()


def test_many_questions_are_answered_in_order(lucene: LuceneOracle) -> None:
    docs = [{"n": str(i)} for i in range(50)]
    questions = [Question(f"n:{i}", docs) for i in range(500)]
    answers = list(lucene.match_many(questions))
    assert [answer.matches for answer in answers] == [
        frozenset({i}) if i < 50 else frozenset() for i in range(500)
    ]
