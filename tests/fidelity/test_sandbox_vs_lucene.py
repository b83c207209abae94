"""The sandbox matches what real Lucene matches: corpus queries x generated and real events.

Every query rendered from the SigmaHQ and 2020 corpora is asked, over events generated from its
own rule (positives, case variants, negatives: `events.py`), and every regression rule over its
real events (`regression.py`), both of the oracle and of the sandbox's query engine (the
`query_string` a watch's search runs); the matched sets must agree on at least 99.5 % of the
(query, document) pairs, and a query ES fails must fail in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fidelity.events import CannotGenerate, generate
from tests.fidelity.oracle import Answer, LuceneOracle, Question
from tests.fidelity.regression import load_cases
from watchmgr.cli import app
from watchmgr.rules import load_file
from watchmgr.sandbox.errors import EsError
from watchmgr.sandbox.query import compile_query

#: documents per query: the first positives, case variants and negatives, in turn
DOCS_PER_QUERY = 6
#: Lucene needs about two minutes to build one of these automata (`[^\\]{1,256}`); the
#: sandbox's regex limits are checked against the oracle in test_sandbox_lucene_cases.py.
SLOW_FOR_LUCENE = re.compile(r"\{\d+,\d{3,}\}|\{\d{3,},\}")


@dataclass(frozen=True)
class Pair:
    source: str
    query: str
    doc: dict[str, Any]
    lucene: str  # "match", "no match" or "error"
    sandbox: str


def sandbox_answer(query: str, docs: Sequence[dict[str, Any]]) -> tuple[frozenset[int], bool]:
    """What the sandbox's search matches (by index), and whether it fails the search."""
    try:
        predicate = compile_query({"query_string": {"query": query}})
    except EsError:
        return frozenset(), True
    return frozenset(i for i, doc in enumerate(docs) if predicate(doc)), False


def rendered(shared: Path, corpus: str) -> dict[str, list[str]]:
    """Rule file -> the queries of its watches, as `watchmgr render` writes them."""
    result = CliRunner().invoke(app, ["render", str(shared / corpus)])
    queries: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        watch = json.loads(line)
        queries.setdefault(watch["source"], []).append(watch["body"]["metadata"]["query"])
    return queries


def generated_docs(rule_file: str) -> list[dict[str, Any]]:
    rules, _ = load_file(Path(rule_file), rule_file)
    kinds: list[list[dict[str, Any]]] = [[], [], []]
    for rule in rules:
        for condition in rule.conditions:
            try:
                events = generate(rule, condition)
            except CannotGenerate:
                continue
            kinds[0] += events.positives
            kinds[1] += events.case_variants
            kinds[2] += events.negatives
    docs: list[dict[str, Any]] = []
    for k in range(max(map(len, kinds), default=0)):
        for kind in kinds:
            if k < len(kind) and kind[k] not in docs and len(docs) < DOCS_PER_QUERY:
                docs.append(kind[k])
    return docs


def questions(shared: Path) -> Iterator[tuple[str, Question]]:
    for corpus in ("corpus/sigmahq", "conformance/sigmac-2020"):
        for rule_file, queries in rendered(shared, corpus).items():
            docs = generated_docs(rule_file)
            for query in queries:
                if docs and not SLOW_FOR_LUCENE.search(query):
                    yield rule_file, Question(query, docs)
    sigmahq = rendered(shared, "corpus/sigmahq")
    for case in load_cases(shared / "corpus"):
        for query in sigmahq.get(str(case.rule), []):
            yield str(case.rule), Question(query, list(case.events))


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
    shared: Path, lucene: LuceneOracle
) -> None:
    asked = list(questions(shared))
    pairs: list[Pair] = []
    answers = lucene.match_many(question for _, question in asked)
    for (source, question), answer in zip(asked, answers, strict=True):
        pairs.extend(compare(source, question, answer))
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
