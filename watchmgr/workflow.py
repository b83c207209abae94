"""The flows every command runs, from options already parsed to values and diagnostics.

`convert_rules` (render, validate), `environment`, `desired`, `plan` and `plan_environments`
(plan), `saved_plan`, `plan_to_apply` and `apply` (apply). Each returns values and puts every
error and warning it does not raise into the `Diagnostics` it is given, in the order found; a
`WatchmgrError` it raises stops the command. Nothing here prints, parses options, decides an
exit code or knows which cluster it talks to: the edge (`watchmgr.cli`) passes a `Connect`, or
a `Cluster` it opened.

There is one conversion for every command (`_convert_environment`): the environment's settings
with the command line's over them, the conversion cache keyed on both, the environment's
warnings and its overrides that match no rule reported. How it runs (cache, worker processes) is
a `Tuning` the edge gives; nothing here reads the process environment.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchmgr.errors import Diagnostic, Diagnostics, WatchmgrError

if TYPE_CHECKING:
    from watchmgr.apply import Progress, Report
    from watchmgr.cluster import Cluster, LockState
    from watchmgr.config import Environment
    from watchmgr.convert import Conversion
    from watchmgr.plan import Change, LiveWatch, Plan
    from watchmgr.rules import Rule
    from watchmgr.ruletest import RuleResult, TestCase, TestRun
    from watchmgr.settings import WatchSettings
    from watchmgr.watch import Watch

#: Opens the cluster of an environment for the length of a `with` block.
Connect = Callable[["Environment"], AbstractContextManager["Cluster"]]


@dataclass(frozen=True, slots=True)
class Choices:
    """Watch settings given on the command line; None leaves the environment's (or seed's)."""

    dialect: str | None = None
    id_scheme: str | None = None
    id_prefix: str | None = None

    def given(self) -> dict[str, Any]:
        """The settings given, by their `WatchSettings` field name."""
        fields = (("dialect", self.dialect), ("id_scheme", self.id_scheme))
        return {k: v for k, v in (*fields, ("id_prefix", self.id_prefix)) if v is not None}

    def over(self, settings: WatchSettings | None) -> WatchSettings | None:
        """`settings` with the given ones in their place (None stays None: rule not deployed)."""
        given = self.given()
        return replace(settings, **given) if settings is not None and given else settings


@dataclass(frozen=True, slots=True)
class Tuning:
    """How a conversion runs; it never changes what the conversion gives.

    The CLI makes it from its options and environment variables (`cli.options.tuning`).
    """

    cache: bool = True  # reuse files converted before (.watchmgr/cache/)
    jobs: int | None = None  # worker processes; None: one per core for large rule sets


# ------------------------------------------------------------------------------ converting


def convert_rules(
    root: Path,
    paths: Sequence[Path],
    env_name: str | None,
    choices: Choices,
    report: Diagnostics,
    *,
    tuning: Tuning = Tuning(),
) -> Conversion:
    """The watches of the rules under `paths` (default: the environment's, or ``rules/``).

    With an environment, as it says; without, with the seed's settings.
    """
    from watchmgr.cache import cache_for
    from watchmgr.convert import convert
    from watchmgr.settings import DEFAULT_SETTINGS

    if env_name is not None:
        env = environment(root, env_name, report)
        return _convert_environment(env, paths, choices, report, tuning)
    settings = choices.over(DEFAULT_SETTINGS)
    cache = cache_for(root, repr(settings)) if tuning.cache else None
    chosen = list(paths) or [root / "rules"]
    result = convert(chosen, lambda _rule: settings, None, jobs=tuning.jobs, base=root, cache=cache)
    report.extend(result.diagnostics)
    schedules = schedule_warnings(None, result.watches)
    report.extend(schedules)
    return replace(result, diagnostics=(*result.diagnostics, *schedules))


def convert_environment(
    env: Environment,
    paths: Sequence[Path],
    choices: Choices,
    report: Diagnostics,
    *,
    tuning: Tuning = Tuning(),
) -> Conversion:
    """The watches of `env`'s rules (or of the rules under `paths`), as `env` says."""
    return _convert_environment(env, paths, choices, report, tuning)


def endpoint(env: Environment) -> str | None:
    """The URL of `env`'s cluster as a program without the client would use it (the first host,
    or the Elastic Cloud endpoint of its cloud_id); None for a sandbox environment."""
    from watchmgr.cluster import cloud_endpoint
    from watchmgr.config import ElasticsearchTarget

    target = env.target
    if not isinstance(target, ElasticsearchTarget):
        return None
    if target.hosts:
        return target.hosts[0]
    return cloud_endpoint(target.cloud_id or "", target.location)


_INTERVAL = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_LOOK_BACK = re.compile(r"now-(\d+)(s|m|h|d|w)(/[smhdw])?")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def schedule_warnings(env: Environment | None, watches: Sequence[Watch]) -> list[Diagnostic]:
    """A warning for each way `watches` run at an interval their search's range disagrees with:
    a range shorter than the interval never searches some events; one of twice the interval or
    more alerts on each event again at every run it covers. (A range a little longer than the
    interval is the usual allowance for late events and is not warned about.) The range is not
    derived from the interval: the seed's watches keep sigmac's 30m range beside a rule's
    timeframe, and watchmgr reproduces them.

    One warning at the environment's setting (`watch.interval` or a level's) for the watches
    that take both from it; one at the rule for a watch whose interval is its own timeframe.
    """
    from watchmgr.errors import SourceLocation

    origins = dict(env.origins) if env is not None else {}
    configured = {}
    if env is not None:
        configured[env.watch.interval, env.watch.range] = "watch"
        for level, patch in reversed(env.by_level):
            settings = patch.apply(env.watch)
            configured.setdefault((settings.interval, settings.range), f"watch.by_level.{level}")
    found: dict[tuple[str, str], list[Watch]] = {}
    for watch in watches:
        schedule = _schedule(watch.body)
        if schedule is not None and _disagree(*schedule):
            found.setdefault(schedule, []).append(watch)
    warnings = []
    for (interval, look_back), group in sorted(found.items()):
        key = configured.get((interval, look_back))
        if key is not None and env is not None:
            where = origins.get(f"{key}.interval") or origins.get(f"{key}.range") or env.path
            path, _, line = where.rpartition(":")
            location = SourceLocation(path, int(line)) if line.isdigit() else SourceLocation(where)
            what = f"{key}: interval {interval} and range {look_back} disagree"
            count = f"{len(group)} watch{'es' if len(group) > 1 else ''}"
            advice = f"set {key}.range: now-{interval}/m, or an interval that matches"
            message = f"{what} ({count}): {_effect(interval, look_back)}; {advice}"
            warnings.append(Diagnostic(location, message, "warning"))
            continue
        for watch in group:
            message = (
                f"the watch runs every {interval} (its rule's timeframe or an override) but "
                f"searches from {look_back}: {_effect(interval, look_back)}; give this rule "
                f"range: now-{interval}/m (an environment's override can)"
            )
            warnings.append(Diagnostic(watch.location, message, "warning"))
    return warnings


def _schedule(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """A watch body's (interval, range lower bound), when it has the seed's shape."""
    try:
        interval = body["trigger"]["schedule"]["interval"]
        ranges = body["input"]["search"]["request"]["body"]["query"]["bool"]["filter"]["range"]
        (bounds,) = ranges.values()
        look_back = bounds["gte"]
    except (KeyError, TypeError, ValueError):
        return None
    return (
        (interval, look_back) if isinstance(interval, str) and isinstance(look_back, str) else None
    )


def _disagree(interval: str, look_back: str) -> bool:
    every, back = _seconds(interval, _INTERVAL), _seconds(look_back, _LOOK_BACK)
    return every is not None and back is not None and not every <= back < 2 * every


def _effect(interval: str, look_back: str) -> str:
    every, back = _seconds(interval, _INTERVAL) or 1, _seconds(look_back, _LOOK_BACK) or 0
    if back < every:
        return "events in the rest of each interval are never searched"
    return f"each event is alerted on up to {math.ceil(back / every)} times"


def _seconds(text: str, pattern: re.Pattern[str]) -> float | None:
    match = pattern.fullmatch(text)
    return int(match.group(1)) * _SECONDS[match.group(2)] if match else None


def environment(root: Path, name: str, report: Diagnostics) -> Environment:
    """The environment `name` under `root`, its warnings reported."""
    from watchmgr.config import load_environment

    env = load_environment(root, name)
    report.extend(env.warnings)
    return env


def _convert_environment(
    env: Environment,
    paths: Sequence[Path],
    choices: Choices,
    report: Diagnostics,
    tuning: Tuning,
) -> Conversion:
    from watchmgr.cache import cache_for
    from watchmgr.convert import convert

    given = choices.given()
    cache = cache_for(env.root, f"{env.fingerprint()} {given}") if tuning.cache else None

    def settings_for(rule: Rule) -> WatchSettings | None:
        return choices.over(env.settings_for(rule))

    chosen = list(paths) or list(env.rule_paths())
    result = convert(
        chosen, settings_for, env.prepare, jobs=tuning.jobs, base=env.root, cache=cache
    )
    report.extend(result.diagnostics)
    # An override that matches no rule is most likely a typo in its id or glob.
    unused = (*env.unused_overrides(result.refs), *schedule_warnings(env, result.watches))
    report.extend(unused)
    return replace(result, diagnostics=(*result.diagnostics, *unused))


def desired(env: Environment, report: Diagnostics, tuning: Tuning = Tuning()) -> list[Watch]:
    """The environment's watches, each owned by it; a rule that fails refuses the whole plan."""
    from watchmgr.watch import with_owner

    result = _convert_environment(env, (), Choices(), report, tuning)
    if result.errors:
        raise WatchmgrError(
            f"{len(result.errors)} error(s) loading the rules (above), so nothing is planned "
            f"for environment {env.name!r}: their watches would look deleted; fix them first"
        )
    return [with_owner(w, env.name, w.source) for w in result.watches]


# ------------------------------------------------------------------------------ planning


def plan(
    env: Environment,
    cluster: Cluster,
    watches: Sequence[Watch],
    *,
    adopt: bool = False,
    with_uuid: bool = False,
) -> Plan:
    """The plan of `watches` (`desired`) against the cluster, with the environment's options."""
    from watchmgr.apply import plan_against

    return plan_against(
        cluster,
        watches,
        prune=env.prune,
        respect_remote_active=env.respect_remote_active,
        adopt=adopt,
        with_uuid=with_uuid,
    )


class Targets:
    """``--target``: the rules and watches a plan is limited to (Terraform's -target), each a
    watch id, a Sigma rule id, or a rule path or glob (relative to the working directory or the
    root; globs as in an environment's ``rules.exclude``). A change is kept when its watch or
    its rule is targeted, so deletes reach only targeted watches and a rename keeps both halves.
    """

    def __init__(self, given: Sequence[str], root: Path) -> None:
        from watchmgr.rules import root_relative
        from watchmgr.selection import Glob

        self.given = tuple(dict.fromkeys(given))
        self._globs = {}
        for target in self.given:
            path = root_relative(target, root)
            if Path(target).is_dir() and not path.endswith("/"):
                path += "/"
            self._globs[target] = Glob(path)
        self.matched: set[str] = set()

    def of(self, planned: Plan) -> Plan:
        """`planned` with only the targeted changes (and notes which targets matched)."""
        kept = []
        for change in planned.changes:
            hits = {t for t in self.given if self._hits(t, change)}
            self.matched |= hits
            if hits:
                kept.append(change)
        return replace(planned, changes=tuple(kept))

    def unmatched(self) -> list[str]:
        return [t for t in self.given if t not in self.matched]

    def _hits(self, target: str, change: Change) -> bool:
        from watchmgr.watch import Ownership

        if target == change.watch_id:
            return True
        for body in (change.after, change.before):
            owner = Ownership.of(body)
            if owner is not None and owner.rule_id == target:
                return True
        return change.source is not None and self._globs[target].matches(change.source)


@dataclass(frozen=True, slots=True)
class Plans:
    """The plans of several environments; `failed`: how many could not be planned."""

    plans: tuple[Plan, ...]
    failed: int

    @property
    def has_changes(self) -> bool:
        return any(p.has_changes for p in self.plans)


def plan_environments(
    root: Path,
    names: Sequence[str],
    connect: Connect,
    report: Diagnostics,
    *,
    with_uuid: bool = False,
    tuning: Tuning = Tuning(),
    adopt: bool = False,
    targets: Targets | None = None,
) -> Plans:
    """Plan each environment in `names` (default: every one); one that fails does not stop
    the others: its error is reported and counted. A plan that apply would refuse for the
    deletes it makes is kept, with a warning."""
    from watchmgr.config import list_environments
    from watchmgr.plan import PlanError, check_mass_delete

    if not names:
        names = [info.name for info in list_environments(root)]
        if not names:
            raise WatchmgrError(f"no environments in {root / 'environments'}")
    plans: list[Plan] = []
    failed = 0
    for name in dict.fromkeys(names):
        try:
            env = environment(root, name, report)
            with connect(env) as cluster:
                wanted = desired(env, report, tuning)
                planned = plan(env, cluster, wanted, with_uuid=with_uuid, adopt=adopt)
                plans.append(targets.of(planned) if targets is not None else planned)
        except WatchmgrError as err:
            report.failure(err)
            failed += 1
            continue
        try:
            check_mass_delete(plans[-1], allow=False)
        except PlanError as err:
            report.warning(str(err))
    return Plans(tuple(plans), failed)


def refusal(planned: Plan) -> str | None:
    """Why apply would refuse part of `planned` as it stands (watches in conflict), or None.

    A plan that deletes too many watches is a warning (`plan_environments`), not a refusal:
    apply takes it with ``--allow-mass-delete``, which says that the deletes are meant.
    """
    conflicts = planned.summary["conflict"]
    if not conflicts:
        return None
    return (
        f"apply would refuse the plan for environment {planned.environment!r}: {conflicts} "
        f"watch{'es' if conflicts > 1 else ''} in conflict (see why above; --adopt takes over "
        "watches no environment owns)"
    )


# ------------------------------------------------------------------------------ applying


def saved_plan(path: Path, env: Environment) -> Plan:
    """The plan saved at `path` by ``plan --out``, refused unless it is `env`'s."""
    from watchmgr.plan import PlanError, plan_from_document

    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PlanError(f"{path}: cannot read the plan file: {err.strerror}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise PlanError(f"{path}:{line}: not a plan file: not UTF-8 text") from err
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise PlanError(f"{path}:{err.lineno}: not a JSON plan file: {err.msg}") from err
    except RecursionError as err:
        raise PlanError(_too_deep(path)) from err
    if _depth(data) > MAX_PLAN_DEPTH:
        raise PlanError(_too_deep(path))
    saved = plan_from_document(data, env.name, str(path))
    # In the order a fresh plan lists them, whatever order the file holds them in.
    return replace(saved, changes=tuple(sorted(saved.changes, key=lambda c: c.watch_id)))


def stale_plan(cluster: Cluster, saved: Plan, where: Path) -> None:
    """Refuse a saved plan any of whose watches changed on the cluster since it was made, in
    one line naming every one of them (grouped by what happened to them)."""
    from watchmgr.apply import moved_since_plan
    from watchmgr.plan import PlanError

    moved = moved_since_plan(cluster, saved)
    if not moved:
        return
    by_why: dict[str, list[str]] = {}
    for watch_id in sorted(moved):
        by_why.setdefault(moved[watch_id], []).append(watch_id)
    what = "; ".join(f"{_listed(ids)} {why}" for why, ids in sorted(by_why.items()))
    raise PlanError(f"{where}: the plan is stale, nothing was written: {what}; make the plan again")


def _listed(ids: Sequence[str], most: int = 10) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``; past `most`, ``... and N more``."""
    shown = [repr(i) for i in ids[:most]]
    if len(ids) > most:
        return f"{', '.join(shown)} and {len(ids) - most} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


#: No plan watchmgr writes nests deeper than this (a watch body is about 10 levels deep).
MAX_PLAN_DEPTH = 100


def _too_deep(path: Path) -> str:
    return (
        f"{path}: not a plan watchmgr made: it nests deeper than {MAX_PLAN_DEPTH} levels; "
        "make the plan again"
    )


def _depth(data: Any) -> int:
    """How deeply `data` (parsed JSON) nests, without recursion."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            todo.extend((child, depth + 1) for child in children)
    return deepest


def plan_to_apply(
    env: Environment,
    cluster: Cluster,
    source: Plan | Sequence[Watch],
    where: Path | None,
    *,
    adopt: bool,
    allow_mass_delete: bool,
    targets: Targets | None = None,
) -> Plan:
    """The plan apply executes: `source` if it is a saved plan (from `where`, checked against
    the cluster), else a fresh one of the desired watches. Refused when it deletes too much."""
    from watchmgr.apply import check_cluster, check_saved_plan
    from watchmgr.plan import Plan, check_mass_delete, with_adoptions

    if isinstance(source, Plan):
        check_cluster(cluster, source, str(where))
        check_saved_plan(source, str(where), adopt)
        chosen = with_adoptions(source) if adopt else source
    else:
        chosen = plan(env, cluster, source, adopt=adopt)
        chosen = targets.of(chosen) if targets is not None else chosen
    check_mass_delete(chosen, allow_mass_delete)
    return chosen


def apply(
    chosen: Plan,
    cluster: Cluster,
    *,
    parallelism: int,
    saved: bool,
    progress: Progress | None = None,
) -> Report:
    """Execute `chosen`; a saved plan is checked for moved watches before the lock is taken."""
    from watchmgr.apply import apply_plan

    return apply_plan(
        cluster, chosen, parallelism=parallelism, check_first=saved, progress=progress
    )


def not_applied(report: Report, planfile: Path | None) -> str:
    """What went wrong in an apply that did not apply everything, in one line."""
    from watchmgr.apply import Outcome

    if report.interrupted:
        done = report.count(Outcome.DONE)
        return (
            f"interrupted: {done} of {len(report.results)} changes applied, the others not "
            "(the table above says which); run plan to see what is left"
        )
    if report.stale:
        first = next(r for r in report.results if r.watch_id == report.stale[0])
        more = f" and {len(report.stale) - 1} more" if len(report.stale) > 1 else ""
        what = f"{first.watch_id!r} {first.message}{more}"
        if planfile is not None:
            return (
                f"{planfile}: the plan is stale, nothing was written: {what}; make the plan again"
            )
        return f"nothing was written: {what}; run apply again"
    counts = {o: report.count(o) for o in (Outcome.CONFLICT, Outcome.FAILED, Outcome.SKIPPED)}
    parts = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    missed = len(report.results) - report.count(Outcome.DONE)
    return f"{missed} of {len(report.results)} changes not applied ({parts}); see the table above"


# ------------------------------------------------------------------------------ rule tests

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
    tuning: Tuning = Tuning(),
) -> TestRun:
    """Run the tests of the rules under `paths` against their watches (`watchmgr test`).

    The events go into a scratch index, created for the run and deleted after it however it
    ends; each watch's own search (its time range lifted) runs over each test's events.
    """
    from watchmgr.ruletest import TestRun
    from watchmgr.settings import DEFAULT_SETTINGS

    env = environment(root, env_name, report) if env_name is not None else None
    if env is not None:
        conversion = _convert_environment(env, paths, choices, report, tuning)
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


# ------------------------------------------------------------------------------ mapping check


@dataclass(frozen=True, slots=True)
class Checked:
    """What `check_mappings` looked at: watches, and how many got a warning."""

    watches: int
    warned: int


def check_mappings(
    root: Path, env_name: str, connect: Connect, report: Diagnostics, tuning: Tuning = Tuning()
) -> Checked:
    """Warn per watch of the environment where its query does not fit the field mappings of
    the indices it searches (`fieldcheck`); the mappings are read once per set of indices."""
    from watchmgr.fieldcheck import (
        CheckedWatch,
        check_watch,
        fields_to_read,
        ignore_above_summary,
        no_index,
    )
    from watchmgr.ruletest import query_fields, watch_query

    env = environment(root, env_name, report)
    conversion = _convert_environment(env, (), Choices(), report, tuning)
    groups: dict[tuple[str, ...], list[CheckedWatch]] = {}
    for watch in conversion.watches:
        request = watch.body.get("input", {}).get("search", {}).get("request", {})
        indices = tuple(request.get("indices") or ["*"])
        uses = query_fields(watch_query(watch.body))
        groups.setdefault(indices, []).append(CheckedWatch(watch.id, watch.location, indices, uses))
    warned = 0
    checked = []
    with connect(env) as cluster:
        for indices, watches in sorted(groups.items()):
            mappings = cluster.field_mappings(indices, fields_to_read(watches))
            checked += [(item, mappings) for item in watches]
            if not mappings:
                report.extend([no_index(watches)])
                warned += len(watches)
                continue
            for item in watches:
                warnings = check_watch(item, mappings)
                report.extend(warnings)
                warned += bool(warnings)
    report.extend(ignore_above_summary(checked))
    return Checked(len(conversion.watches), warned)


# ------------------------------------------------------------------------------ the cluster's side

#: Health of a watch, worst first: the order `status` lists them in.
HEALTH = ("failing", "inactive", "never run", "ok")


def watch_statuses(cluster: Cluster) -> list[dict[str, Any]]:
    """Every watch the environment owns with its health and Watcher status, worst first, then
    by id: one record per watch (``id``, ``source``, ``active``, ``health``, ``last_checked``,
    ``last_met_condition``, ``last_throttled``, ``acked``, ``error``), read with the paged
    ``query_watches`` (never one request per watch)."""
    records = [_status_record(live, status) for live, status in cluster.statuses()]
    return sorted(records, key=lambda r: (HEALTH.index(r["health"]), r["id"]))


def _status_record(live: LiveWatch, status: Mapping[str, Any]) -> dict[str, Any]:
    """One watch's `watch_statuses` record from its Watcher status (watcher-api.md §1.6)."""
    from watchmgr.watch import Ownership

    actions = status.get("actions")
    failures = []
    throttled: list[str] = []
    acked = []
    for name, action in sorted(actions.items() if isinstance(actions, dict) else ()):
        if not isinstance(action, dict):
            continue
        last = action.get("last_execution") or {}
        if last.get("successful") is False:
            failures.append(f"{name}: {last.get('reason') or 'failed'}")
        if (action.get("ack") or {}).get("state") == "acked":
            acked.append(name)
        stamp = (action.get("last_throttle") or {}).get("timestamp")
        if isinstance(stamp, str):
            throttled.append(stamp)
    state = status.get("execution_state")
    if state == "failed" and not failures:
        failures.append("the last execution failed (its input or condition; see the watch history)")
    if failures:
        health = "failing"
    elif not live.active:
        health = "inactive"
    else:
        health = "ok" if status.get("last_checked") else "never run"
    owner = Ownership.of(live.body)
    return {
        "id": live.id,
        "source": owner.source if owner is not None else None,
        "active": live.active,
        "health": health,
        "last_checked": status.get("last_checked"),
        "last_met_condition": status.get("last_met_condition"),
        "last_throttled": max(throttled) if throttled else None,
        "acked": acked,
        "error": "; ".join(failures) or None,
    }


def exported(cluster: Cluster, *, everything: bool) -> list[Watch]:
    """The watches on the cluster as they are stored, by id: the environment's own, or every
    watch with `everything` (a backup before a first prune). `source` is the rule file of an
    owned watch, "" for others."""
    from watchmgr.watch import Ownership, Watch

    found = cluster.list_all() if everything else cluster.list_owned()
    watches = []
    for live in found:
        owner = Ownership.of(live.body)
        source = owner.source if owner is not None else None
        watches.append(Watch(live.id, source or "", 0, dict(live.body), live.active))
    return watches


def destroy_plan(env: Environment, cluster: Cluster) -> Plan:
    """The plan that deletes every watch `env` owns on its cluster and nothing else (Terraform's
    destroy): the plan of no rules, pruning whatever the environment says about pruning."""
    from watchmgr.apply import plan_against

    return plan_against(cluster, [], prune=True, respect_remote_active=env.respect_remote_active)


def installed_pipelines() -> list[dict[str, Any]]:
    """The pySigma processing pipelines installed (as sigma-cli lists them), by identifier:
    each one's ``identifier`` (what ``mapping.pipelines`` takes), ``name``, ``priority`` and
    ``backends`` (empty: any)."""
    from sigma.plugins import InstalledSigmaPlugins

    found: list[dict[str, Any]] = []
    for identifier, factory in sorted(InstalledSigmaPlugins.autodiscover().pipelines.items()):
        try:
            pipeline = factory() if callable(factory) else factory
        except Exception as err:  # a broken plugin is listed, not fatal
            found.append(
                {
                    "identifier": identifier,
                    "name": f"(fails to load: {err})",
                    "priority": None,
                    "backends": [],
                }
            )
            continue
        found.append(
            {
                "identifier": identifier,
                "name": str(getattr(pipeline, "name", "") or ""),
                "priority": getattr(pipeline, "priority", None),
                "backends": sorted(getattr(pipeline, "allowed_backends", None) or ()),
            }
        )
    return found


#: ``render --format query --target T``: the query languages besides the watch's own (es-qs),
#: each through the pySigma backend that PyPI has for it, an optional extra.
QUERY_BACKENDS = {
    "splunk": ("sigma.backends.splunk", "SplunkBackend", "pysigma-backend-splunk"),
    "logpoint": ("sigma.backends.logpoint", "Logpoint", "pysigma-backend-logpoint"),
}
QUERY_TARGETS = ("es-qs", *QUERY_BACKENDS)


def backend_queries(
    root: Path, paths: Sequence[Path], target: str, report: Diagnostics
) -> list[tuple[str, str]]:
    """(rule path, query) for each rule under `paths` (default ``rules/``) in `target`'s
    language, by the pySigma backend named in `QUERY_BACKENDS`; a rule the backend cannot
    convert is an error in `report`. A backend that is not installed is one error naming the
    package to install."""
    import importlib

    from watchmgr.rules import load_paths

    module, name, package = QUERY_BACKENDS[target]
    try:
        backend = getattr(importlib.import_module(module), name)()
    except ImportError as err:
        raise WatchmgrError(
            f"--target {target} needs the pySigma backend {package}, which is not installed "
            f"(pip install {package})"
        ) from err
    loaded = load_paths(list(paths) or [root / "rules"], root)
    report.extend(loaded.diagnostics)
    found: list[tuple[str, str]] = []
    for rule in sorted(loaded.rules, key=lambda r: (r.path, r.line)):
        try:
            queries = backend.convert_rule(rule.sigma)
        except Exception as err:  # pySigma's errors, and plain ones on odd input
            report.extend([Diagnostic(rule.location, f"{target}: {err}")])
            continue
        found.extend((rule.path, str(q)) for q in queries)
    return found


# ------------------------------------------------------------------------------ the lock


def lock_state(cluster: Cluster) -> LockState | None:
    """Who holds the environment's apply lock and until when; None when nobody does."""
    return cluster.lock_state()


def unlock(cluster: Cluster, holder: str) -> LockState | None:
    """Break `holder`'s lock (refused if another holder has it by now); what was broken."""
    return cluster.unlock(holder)
