"""Corpus invariants over the 3,780 current SigmaHQ rules: they render, or fail by name."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchmgr.cli import app
from watchmgr.sandbox.querystring import QueryStringError, parse_query_string

#: What query_string cannot express, and what Elasticsearch would refuse at every run (4 regexes
#: too complex to determinize), and nothing else, may stop a SigmaHQ rule.
NAMED_FAILURES = (
    r"placeholder %[^%]+% has no value",
    r"modifier 'fieldref' cannot be expressed in query_string",
    r"Elasticsearch would refuse this query at every run: the regex is too complex",
)


@pytest.mark.slow
def test_sigmahq_corpus_renders_with_named_errors_only(shared: Path) -> None:
    corpus = shared / "corpus" / "sigmahq"
    result = CliRunner().invoke(app, ["render", str(corpus)])
    assert "Traceback" not in result.output and "internal error" not in result.output
    watches = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [line for line in result.stderr.splitlines() if ": warning: " not in line]
    kinds = Counter(next((k for k in NAMED_FAILURES if re.search(k, e)), e) for e in errors)
    print(f"\nSigmaHQ: {len(watches)} watches from 3,780 rules; failures: {dict(kinds)}")
    assert len(watches) >= 3746
    assert kinds[NAMED_FAILURES[-1]] == 4
    assert set(kinds) <= set(NAMED_FAILURES)
    assert all(re.match(r"\S+\.yml:\d+: ", e) for e in errors)
    assert result.exit_code == 1
    assert len({w["id"] for w in watches}) == len(watches)
    # Every body is the seed's shape plus the ownership key.
    for watch in watches:
        body = watch["body"]
        assert list(body)[:5] == ["metadata", "trigger", "input", "condition", "actions"]
        assert body["input"]["search"]["request"]["body"]["size"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["corpus/sigmahq", "conformance/sigmac-2020"])
def test_every_query_is_valid_lucene_query_string_syntax(shared: Path, corpus: str) -> None:
    # The sandbox's parser follows Lucene's classic grammar, as ES's query_string does.
    result = CliRunner().invoke(app, ["render", str(shared / corpus)])
    unparsable = []
    for line in result.stdout.splitlines():
        watch = json.loads(line)
        try:
            parse_query_string(watch["body"]["metadata"]["query"])
        except QueryStringError as err:
            unparsable.append(f"{watch['source']}: {err}")
    assert unparsable == []
