"""SigmaHQ's regression data (../shared/corpus/sigmahq-regression/) reads without a problem:
every rule that names a test here gets its events, flattened with the fields rules name."""

from __future__ import annotations

from pathlib import Path

from watchmgr.ruletest import find_tests, regression_key


def test_every_regression_test_in_the_subset_is_read_with_its_events(shared: Path) -> None:
    rules, regression = shared / "corpus" / "sigmahq", shared / "corpus" / "sigmahq-regression"
    read = 0
    for rule in sorted(rules.rglob("*.yml")):
        raw, line = regression_key(rule.read_bytes())
        if not raw or not (regression / raw["regression_tests_path"]).is_file():
            continue
        found = find_tests(rule, str(rule), raw, line, regression)
        assert found.diagnostics == (), found.diagnostics
        assert found.cases, rule
        for case in found.cases:
            assert case.events and all("EventID" in e and "Channel" in e for e in case.events)
            assert case.expect.fires
        read += 1
    assert read == 101  # the subset's README: 101 of the 202 rules' tests
