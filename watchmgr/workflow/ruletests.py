"""`watchmgr test`: each rule's test events indexed in a scratch index and searched by the
rule's own watches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchmgr.errors import Diagnostic, Diagnostics, WatchmgrError
from watchmgr.workflow.conversion import convert_environment, convert_rules
from watchmgr.workflow.inputs import DEFAULT_TUNING, Choices, Tuning, environment

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.rules import Rule
    from watchmgr.ruletest import RuleResult, TestCase, TestRun
    from watchmgr.watch import Watch

#: Opens the cluster `watchmgr test` indexes events in: the environment's, or (None) an
#: embedded one the edge starts.
OpenTestCluster = Callable[["Environment | None"], AbstractContextManager["Cluster"]]
#: Events per bulk request.
BULK_SIZE = 1000
#: Searches per ``_msearch`` request.
SEARCHES_PER_REQUEST = 200


@dataclass(frozen=True, slots=True)
class _Tested:
    """A rule file with tests: its watches, its cases and their events (renamed, with ids)."""

    source: str
    watches: tuple[Watch, ...]
    cases: tuple[TestCase, ...]
    docs: tuple[tuple[tuple[str, dict[str, Any]], ...], ...]  # per case: (id, event)


def test_rules(
    root: Path,
    paths: Sequence[Path],
    env_name: str | None,
    choices: Choices,
    report: Diagnostics,
    open_cluster: OpenTestCluster,
    *,
    tests_root: Path | None = None,
    tuning: Tuning = DEFAULT_TUNING,
) -> TestRun:
    """Run the tests of the rules under `paths` against their watches (`watchmgr test`).

    The events go into a scratch index, created for the run and deleted after it however it
    ends; each watch's own search (its time range lifted) runs over each test's events.
    """
    from watchmgr.ruletest import TestRun
    from watchmgr.settings import DEFAULT_SETTINGS

    env = environment(root, env_name, report) if env_name is not None else None
    if env is not None:
        conversion = convert_environment(env, paths, choices, report, tuning=tuning)
    else:
        conversion = convert_rules(root, paths, None, choices, report, tuning=tuning)
    by_source: dict[str, list[Watch]] = {}
    for watch in conversion.watches:
        by_source.setdefault(watch.source, []).append(watch)
    tested = [
        t
        for n, (source, watches) in enumerate(sorted(by_source.items()))
        if (t := _tests_of(root, env, source, watches, n, report, tests_root)) is not None
    ]
    untested = len(by_source) - len(tested)
    if not tested:
        return TestRun((), untested, "")
    settings = env.watch if env is not None else choices.over(DEFAULT_SETTINGS)
    suffix = settings.keyword_suffix if settings is not None else ""
    with open_cluster(env) as cluster:
        mappings = _target_mappings(cluster, tested, suffix, report) if env is not None else None
        results = _run_tests(cluster, tested, suffix, report, mappings)
        return TestRun(tuple(results), untested, cluster.describe)


def _tests_of(
    root: Path,
    env: Environment | None,
    source: str,
    watches: list[Watch],
    number: int,
    report: Diagnostics,
    tests_root: Path | None,
) -> _Tested | None:
    """The tests of one rule file, its events renamed as `env`'s pipelines rename fields."""
    from watchmgr.rules import load_file
    from watchmgr.ruletest import find_tests, regression_key, rename_fields

    path = Path(source) if Path(source).is_absolute() else root / source
    # The conversion read the file already; only its regression_tests_path is needed here.
    raw, line = regression_key(path.read_bytes())
    found = find_tests(path, source, raw, line, tests_root)
    report.extend(found.diagnostics)
    if not found.cases:
        return None
    renames = _renames(env, load_file(path, source)[0]) if env is not None else {}
    docs = tuple(
        tuple(
            (f"r{number}-t{c}-e{e}", rename_fields(event, renames))
            for e, event in enumerate(case.events)
        )
        for c, case in enumerate(found.cases)
    )
    return _Tested(source, tuple(watches), found.cases, docs)


def _renames(env: Environment | None, rules: Sequence[Rule]) -> dict[str, set[str]]:
    """Sigma field -> the fields `env`'s pipelines map it to in these rules' queries."""
    renames: dict[str, set[str]] = {}
    if env is None or env.pipeline is None:
        return renames
    for rule in rules:
        try:
            env.prepare(rule)
        except WatchmgrError:
            continue  # the conversion reported it; the rule has no watch
        for name, targets in dict(getattr(env.pipeline, "field_mappings", {}) or {}).items():
            if isinstance(name, str):
                renames.setdefault(name, set()).update(str(t) for t in targets)
    return renames


def _target_mappings(
    cluster: Cluster, tested: Sequence[_Tested], suffix: str, report: Diagnostics
) -> dict[str, Any] | None:
    """The mappings the watches' own indices give the fields their queries name, for the
    scratch index: a test then searches fields mapped as the watch's real targets map them."""
    from watchmgr.ruletest import base_field, query_fields, scratch_mappings, watch_query

    indices: set[str] = set()
    fields: set[str] = set()
    for watch in (w for t in tested for w in t.watches):
        request = watch.body.get("input", {}).get("search", {}).get("request", {})
        indices.update(request.get("indices") or [])
        for use in query_fields(watch_query(watch.body)):
            fields.update((use.field, base_field(use.field, suffix)))
    if not indices or not fields:
        return None
    try:
        found = cluster.field_mappings(sorted(indices), sorted(fields))
    except WatchmgrError as err:
        report.warning(f"the events are indexed with dynamic mapping: {err}")
        return None
    return scratch_mappings(found)


def _run_tests(
    cluster: Cluster,
    tested: Sequence[_Tested],
    suffix: str,
    report: Diagnostics,
    mappings: dict[str, Any] | None = None,
) -> list[RuleResult]:
    import secrets

    index = f"watchmgr-test-{secrets.token_hex(6)}"
    cluster.create_index(index, mappings)
    try:
        everything = [doc for t in tested for case in t.docs for doc in case]
        for start in range(0, len(everything), BULK_SIZE):
            cluster.bulk_index(index, everything[start : start + BULK_SIZE])
        matched = _search_all(cluster, index, tested, report)
        return [_result(t, matched, suffix) for t in tested]
    finally:
        try:
            cluster.delete_index(index)
        except WatchmgrError as err:
            report.warning(f"the scratch index {index!r} was not deleted ({err}); delete it")


def _search_all(
    cluster: Cluster, index: str, tested: Sequence[_Tested], report: Diagnostics
) -> dict[tuple[str, int], set[str]]:
    """(rule file, test number) -> the ids of its events that any of the rule's watches match;
    the searches go in ``_msearch`` batches, and one the cluster refuses is an error at its
    watch."""
    from watchmgr.ruletest import search_of

    keys: list[tuple[tuple[str, int], Watch]] = []
    bodies: list[dict[str, Any]] = []
    for t in tested:
        for number, docs in enumerate(t.docs):
            ids = [doc_id for doc_id, _ in docs]
            for watch in t.watches:
                keys.append(((t.source, number), watch))
                bodies.append(search_of(watch.body, ids))
    answers: list[list[str] | str] = []
    for start in range(0, len(bodies), SEARCHES_PER_REQUEST):
        answers += cluster.search_many(index, bodies[start : start + SEARCHES_PER_REQUEST])
    matched: dict[tuple[str, int], set[str]] = {key: set() for key, _ in keys}
    for (key, watch), answer in zip(keys, answers, strict=True):
        if isinstance(answer, str):
            report.extend([Diagnostic(watch.location, f"its search failed: {answer}")])
        else:
            matched[key].update(answer)
    return matched


def _result(tested: _Tested, matched: dict[tuple[str, int], set[str]], suffix: str) -> RuleResult:
    """How the tests of one rule file went, from the ids its watches matched."""
    from watchmgr.ruletest import CaseResult, RuleResult, mattered, watch_query

    cases = tuple(
        CaseResult(c.name, c.location, c.expect, len(d), len(matched[(tested.source, n)]))
        for n, (c, d) in enumerate(zip(tested.cases, tested.docs, strict=True))
    )
    queries = tuple(watch_query(w.body) for w in tested.watches)
    events = [event for docs in tested.docs for _, event in docs]
    return RuleResult(
        tested.source,
        tuple(w.id for w in tested.watches),
        queries,
        mattered(queries, events, suffix),
        len(events),
        cases,
    )
