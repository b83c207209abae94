"""Render-time refusals are Lucene's own: the checker and real Lucene agree on every regex.

Real Lucene reports an unparsable or too complex regex as the query's error; the checker
(`watchmgr.query.lucene`) must refuse exactly those. The table has each kind of refusal; the
corpus part takes every `|re` of SigmaHQ as the default dialect translates it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fidelity.oracle import LuceneOracle, Question
from watchmgr.query import UnsupportedRegex, to_lucene_regex
from watchmgr.query.lucene import COSTLY_STATES, RegexRejected, check_regex
from watchmgr.rules import load_paths

REGEXES = [
    ".*([aA][bB]).*",
    "(a|())b",
    "[^\\\\]+x",
    "a{2,}",
    "a(b",
    "a{2",
    "[z-a]",
    "x\\\\",
    "(a))",
    "a{,3}",
    'a"b',
    ".*a.{0,12}b.*",
    ".*([ \\t][A-Za-z0-9+\\/=]{64}).*",
    ".*([A-Za-z0-9+\\/=]{64}).*",
    "x" * 1001,
]


def _refused(regex: str) -> bool:
    try:
        check_regex(regex)
    except RegexRejected:
        return True
    return False


def _lucene_refuses(lucene: LuceneOracle, regexes: list[str]) -> list[bool]:
    questions = [Question(f"F.keyword:/{r}/", [{"F": "x"}]) for r in regexes]
    return [answer.parse_error is not None for answer in lucene.match_many(questions)]


@pytest.mark.parametrize("regex", REGEXES)
def test_the_checker_refuses_what_lucene_refuses(lucene: LuceneOracle, regex: str) -> None:
    assert _refused(regex) == _lucene_refuses(lucene, [regex])[0]


@pytest.mark.slow
def test_the_checker_agrees_with_lucene_on_every_sigmahq_regex(
    lucene: LuceneOracle, shared: Path
) -> None:
    from sigma.types import SigmaRegularExpression

    regexes: set[str] = set()
    for rule in load_paths([shared / "corpus" / "sigmahq"], shared).rules:
        for detection in rule.sigma.detection.detections.values():
            stack = list(detection.detection_items)
            while stack:
                item = stack.pop()
                if hasattr(item, "detection_items"):
                    stack.extend(item.detection_items)
                    continue
                for value in item.value:
                    if isinstance(value, SigmaRegularExpression):
                        flags = {flag.name for flag in value.flags}
                        try:
                            regexes.add(
                                to_lucene_regex(
                                    value.regexp.to_plain_regex(), "IGNORECASE" in flags
                                )
                            )
                        except UnsupportedRegex:
                            continue
    # Lucene 8 minimizes at every step: regexes this large take it minutes. They are accepted
    # by both where they fit (the checker warns of their cost instead).
    judged = sorted(r for r in regexes if _refused(r) or check_regex(r) <= COSTLY_STATES)
    assert len(judged) > 100
    ours = [_refused(r) for r in judged]
    theirs = _lucene_refuses(lucene, judged)
    disagree = [
        (r, mine) for r, mine, lucenes in zip(judged, ours, theirs, strict=True) if mine != lucenes
    ]
    assert disagree == []
