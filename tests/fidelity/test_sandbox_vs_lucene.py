"""The sandbox matches what real Lucene matches: corpus queries x generated and real events.

Every query rendered from the SigmaHQ and 2020 corpora is asked, over the events generated from
its rule (positives, case variants, negatives: `events.py`), and every regression rule over its
real events (`regression.py`), both of the oracle and of the sandbox's query engine (the
`query_string` a watch's search runs); the matched sets must agree on at least 99.5 % of the
(query, document) pairs, and a query ES fails must fail in both. Lucene's answers are the ones
the corpus fidelity test judges by, asked once per session (conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fidelity.measure import Answers, RegressionAnswers
from tests.fidelity.oracle import Answer, Question
from watchmgr.sandbox.errors import EsError
from watchmgr.sandbox.query import compile_query


@dataclass(frozen=True)
class Pair:
    source: str
    query: str
    doc: dict[str, Any]
    lucene: str  # "match", "no match" or "error"
    sandbox: str


def sandbox_answer(query: str, docs: Sequence[Mapping[str, Any]]) -> tuple[frozenset[int], bool]:
    """What the sandbox's search matches (by index), and whether it fails the search."""
    try:
        predicate = compile_query({"query_string": {"query": query}})
    except EsError:
        return frozenset(), True
    return frozenset(i for i, doc in enumerate(docs) if predicate(dict(doc))), False


def compare(source: str, question: Question, lucene: Answer) -> list[Pair]:
    matched, failed = sandbox_answer(question.query, question.docs)

    def verdict(error: bool, matches: frozenset[int], i: int) -> str:
        return "error" if error else "match" if i in matches else "no match"

    return [
        Pair(
            source,
            question.query,
            dict(doc),
            verdict(lucene.parse_error is not None, lucene.matches, i),
            verdict(failed, matched, i),
        )
        for i, doc in enumerate(question.docs)
    ]


@pytest.mark.slow
def test_the_sandbox_agrees_with_lucene_on_corpus_queries_and_events(
    corpus_answers: Answers, regression_answers: RegressionAnswers
) -> None:
    pairs: list[Pair] = []
    for asked in corpus_answers.asked:
        pairs.extend(compare(asked.rule, asked.question, asked.answer))
    regression = regression_answers
    for owner, question, answer in zip(
        regression.owners, regression.questions, regression.answers, strict=True
    ):
        pairs.extend(compare(str(regression.cases[owner].rule), question, answer))
    wrong = [p for p in pairs if p.lucene != p.sandbox]
    agreement = 1 - len(wrong) / len(pairs)
    listing = "\n".join(
        f"{p.source}: {p.query[:200]} on {json.dumps(p.doc)[:200]}: "
        f"Lucene {p.lucene}, sandbox {p.sandbox}"
        for p in wrong[:100]
    )
    print(f"\nsandbox vs Lucene: {len(pairs) - len(wrong)}/{len(pairs)} pairs agree")
    assert len(pairs) >= 20_000
    assert agreement >= 0.995, f"{len(wrong)} of {len(pairs)} pairs disagree:\n{listing}"


def test_a_failed_search_is_one_verdict_for_every_document() -> None:
    question = Question("a:/[z-a]/", [{"a": "x"}, {"a": "y"}])
    pairs = compare("t", question, Answer("IllegalArgumentException: invalid range", frozenset()))
    assert [(p.lucene, p.sandbox) for p in pairs] == [("error", "error")] * 2
