"""The real-Lucene oracle as a session fixture, skipped with a message where it cannot run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fidelity.oracle import LuceneOracle, OracleUnavailable


@pytest.fixture(scope="session")
def lucene(shared: Path) -> Iterator[LuceneOracle]:
    try:
        oracle = LuceneOracle(shared / "tools" / "lucene-oracle")
    except OracleUnavailable as unavailable:
        pytest.skip(f"real Lucene is not available here: {unavailable}")
    with oracle:
        yield oracle
