"""The real-Lucene oracle as a session fixture, skipped with a message where it cannot run,
and its answers for the corpora, asked once for the tests that judge by them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fidelity.measure import Answers, RegressionAnswers, ask, ask_regression, corpus_rules
from tests.fidelity.oracle import LuceneOracle, OracleUnavailable


@pytest.fixture(scope="session")
def lucene(shared: Path) -> Iterator[LuceneOracle]:
    try:
        oracle = LuceneOracle(shared / "tools" / "lucene-oracle")
    except OracleUnavailable as unavailable:
        pytest.skip(f"real Lucene is not available here: {unavailable}")
    with oracle:
        yield oracle


@pytest.fixture(scope="session")
def corpus_answers(lucene: LuceneOracle, shared: Path) -> Answers:
    """Lucene's answers for every default-dialect query of SigmaHQ and the 2020 corpus over
    its rule's generated events, asked once per session: the corpus fidelity test judges the
    rules by them and the sandbox differential compares the sandbox with them. Queries the
    renderer warns are extreme in cost are left out (Lucene 8 needs minutes for some)."""
    rules = [
        *corpus_rules(shared / "corpus" / "sigmahq"),
        *corpus_rules(shared / "conformance" / "sigmac-2020"),
    ]
    return ask(lucene, rules, skip_costly=True)


@pytest.fixture(scope="session")
def regression_answers(lucene: LuceneOracle, shared: Path) -> RegressionAnswers:
    """Lucene's answers for SigmaHQ's regression rules over their real events, asked once."""
    return ask_regression(lucene, shared / "corpus", "sigma")
