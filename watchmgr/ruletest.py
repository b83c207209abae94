"""Rule tests: events a rule must (or must not) fire on, read from two formats, and their results.

SigmaHQ's format: a rule's top-level ``regression_tests_path`` names an ``info.yml`` (relative to
the rule repository's root) whose ``regression_tests_info`` items each name an ``.evtx`` file;
the events are the ``evtx_dump -o json`` output beside it (same name, ``.json``: JSON objects
one after another), and ``match_count`` says how many of them the rule must match.

The native format (README, "Testing rules"): ``<rule>.tests.yml`` beside ``<rule>.yml``, a list of
tests, each with a ``name``, its ``events`` (flat field maps, or evtx_dump events) and/or an
``events_file`` beside it (``evtx_dump -o json`` output), and either ``fires: true|false`` or
``match_count: N``.

Windows events are flattened as a pipeline without ECS indexes them: the ``EventData`` (or
``UserData``) children at the top level, ``EventID``, ``Channel`` and the provider's name
(``Provider`` and ``Provider_Name``, the name Sigma rules use) from ``System``. Then the
environment's pipelines rename fields as they do for queries (`rename_fields`).

Reading is the only I/O here (as `rules` reads rule files); every problem is a `Diagnostic`
at ``path:line``. The rest (flattening, the fields of a query, the search a test runs, the result
model) is pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from watchmgr.errors import Diagnostic, SourceLocation
from watchmgr.rules import TEST_SUFFIXES, display_path


@dataclass(frozen=True, slots=True)
class Expect:
    """What a test expects: exactly `count` matching events, or (count None) any / none."""

    fires: bool
    count: int | None = None

    def met_by(self, matched: int) -> bool:
        if self.count is not None:
            return matched == self.count
        return (matched > 0) == self.fires

    def __str__(self) -> str:
        if self.count is not None:
            return f"{self.count} match{'es' if self.count != 1 else ''}"
        return "fires" if self.fires else "does not fire"


@dataclass(frozen=True, slots=True)
class TestCase:
    """One test of a rule: its events (flattened, not yet renamed) and what it expects."""

    __test__ = False  # not a pytest class

    name: str
    location: SourceLocation
    events: tuple[dict[str, Any], ...]
    expect: Expect


@dataclass(frozen=True, slots=True)
class RuleTests:
    """The tests found for one rule file, and the problems met reading them."""

    cases: tuple[TestCase, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


# ------------------------------------------------------------------------------ finding tests


def native_test_file(rule_file: Path) -> Path | None:
    """The native test file beside `rule_file`, if there is one."""
    stem = rule_file.name.rsplit(".", 1)[0]
    for suffix in TEST_SUFFIXES:
        candidate = rule_file.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def find_tests(
    rule_file: Path,
    shown: str,
    raw: Mapping[str, Any],
    line_of_key: int | None,
    tests_root: Path | None = None,
) -> RuleTests:
    """The tests of a rule file: its native file beside it and its SigmaHQ regression tests.

    `raw` is the rule as written, `shown` its path in messages, `line_of_key` the line of its
    ``regression_tests_path``. That path is looked up under `tests_root`, else under every
    folder above the rule (a SigmaHQ checkout holds ``rules/`` beside ``regression_data/``).
    """
    cases: list[TestCase] = []
    problems: list[Diagnostic] = []
    native = native_test_file(rule_file)
    if native is not None:
        found = read_native(native.read_bytes(), _beside(shown, native.name), native.parent)
        cases += found.cases
        problems += found.diagnostics
    relative = raw.get("regression_tests_path")
    if relative is None:
        return RuleTests(tuple(cases), tuple(problems))
    where = SourceLocation(shown, line_of_key)
    if not isinstance(relative, str) or not relative.strip():
        message = "regression_tests_path must be a path to an info.yml"
        return RuleTests(tuple(cases), (*problems, Diagnostic(where, message)))
    info = _locate(rule_file, PurePosixPath(relative), tests_root)
    if info is None:
        hint = f"under {tests_root}" if tests_root else "under any folder above the rule"
        message = (
            f"regression_tests_path {relative!r} is not {hint}; give the folder that holds "
            "regression_data/ with --tests-root"
        )
        return RuleTests(tuple(cases), (*problems, Diagnostic(where, message, "warning")))
    found = read_sigmahq(info)
    return RuleTests((*cases, *found.cases), (*problems, *found.diagnostics))


def regression_key(data: bytes) -> tuple[dict[str, Any], int | None]:
    """A rule file's top-level ``regression_tests_path`` ({} without one) and its line."""
    import yaml

    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if line.startswith("regression_tests_path:"):
            try:
                value = yaml.safe_load(line)
            except yaml.YAMLError:
                return {"regression_tests_path": ""}, number
            return (value if isinstance(value, dict) else {}), number
    return {}, None


def _beside(shown: str, name: str) -> str:
    return str(PurePosixPath(shown).with_name(name))


def _locate(rule_file: Path, relative: PurePosixPath, tests_root: Path | None) -> Path | None:
    bases = [tests_root] if tests_root is not None else list(rule_file.resolve().parents)
    for base in bases:
        candidate = base.joinpath(*relative.parts)
        if candidate.is_file():
            return candidate
    return None


# ------------------------------------------------------------------------------ the formats


def read_sigmahq(info: Path) -> RuleTests:
    """The tests an ``info.yml`` of SigmaHQ's regression data describes."""
    shown = display_path(info)
    try:
        data, node = _yaml(info.read_bytes(), shown)
    except _Bad as err:
        return RuleTests((), (err.diagnostic,))
    items = data.get("regression_tests_info") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        where = SourceLocation(shown, 1)
        message = "no regression_tests_info list (each item: type, path, match_count)"
        return RuleTests((), (Diagnostic(where, message),))
    item_nodes = _child(node, "regression_tests_info")
    cases: list[TestCase] = []
    problems: list[Diagnostic] = []
    for position, item in enumerate(items):
        where = SourceLocation(shown, _item_line(item_nodes, position))
        try:
            cases.append(_sigmahq_case(info, item, where))
        except _Bad as err:
            problems.append(err.diagnostic)
    return RuleTests(tuple(cases), tuple(problems))


def _sigmahq_case(info: Path, item: Any, where: SourceLocation) -> TestCase:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise _Bad(where, "each regression test needs a 'path' (its .evtx file)")
    if item.get("type", "evtx") != "evtx":
        raise _Bad(where, f"regression test type {item.get('type')!r} is not supported (evtx)")
    count = item.get("match_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise _Bad(where, f"match_count must be a whole number, not {count!r}")
    events_file = info.with_name(PurePosixPath(item["path"]).with_suffix(".json").name)
    try:
        text = events_file.read_bytes()
    except OSError as err:
        raise _Bad(
            where,
            f"cannot read the events {events_file.name} beside it ({err.strerror}); convert "
            "the .evtx with 'evtx_dump -o json'",
        ) from err
    events = read_event_stream(text, display_path(events_file))
    name = str(item.get("name") or events_file.name)
    expect = Expect(fires=True) if count is None else Expect(count > 0, count)
    return TestCase(name, where, tuple(flatten_event(e) for e in events), expect)


def read_event_stream(data: bytes, shown: str) -> list[dict[str, Any]]:
    """The JSON objects of an ``evtx_dump -o json`` file, one after another (or one array)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise _Bad(SourceLocation(shown, line), "not UTF-8 text") from err
    decoder = json.JSONDecoder()
    found: list[Any] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as err:
            where = SourceLocation(shown, err.lineno)
            raise _Bad(where, f"not JSON events: {err.msg}") from err
        found.extend(value if isinstance(value, list) else [value])
    for value in found:
        if not isinstance(value, dict):
            raise _Bad(SourceLocation(shown, 1), "every event must be a JSON object")
    return found


def read_native(data: bytes, shown: str, folder: Path | None = None) -> RuleTests:
    """The tests of a native ``<rule>.tests.yml`` (see the module's docstring); an
    ``events_file`` is read from `folder` (the test file's)."""
    try:
        tests, node = _yaml(data, shown)
    except _Bad as err:
        return RuleTests((), (err.diagnostic,))
    if not isinstance(tests, list) or not tests:
        message = "a test file is a list of tests, each with name, events and fires or match_count"
        return RuleTests((), (Diagnostic(SourceLocation(shown, 1), message),))
    cases: list[TestCase] = []
    problems: list[Diagnostic] = []
    for position, item in enumerate(tests):
        where = SourceLocation(shown, _item_line(node, position))
        try:
            cases.append(_native_case(item, where, position, folder))
        except _Bad as err:
            problems.append(err.diagnostic)
    return RuleTests(tuple(cases), tuple(problems))


_NATIVE_KEYS = frozenset({"name", "events", "events_file", "fires", "match_count"})


def _native_case(item: Any, where: SourceLocation, position: int, folder: Path | None) -> TestCase:
    if not isinstance(item, dict):
        raise _Bad(where, "a test must be a mapping with name, events and fires or match_count")
    unknown = sorted(str(k) for k in item if k not in _NATIVE_KEYS)
    if unknown:
        raise _Bad(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_NATIVE_KEYS))})")
    name = str(item.get("name") or f"test {position + 1}")
    events = item.get("events", [])
    if not isinstance(events, list):
        raise _Bad(where, f"test {name!r}: 'events' must be a list of events")
    events = events + _events_file(item.get("events_file"), where, name, folder)
    if not events:
        raise _Bad(
            where,
            f"test {name!r} has no events (give a list of them under 'events:', or an "
            "evtx_dump JSON file as 'events_file:')",
        )
    if not all(isinstance(e, dict) for e in events):
        raise _Bad(where, f"test {name!r}: every event must be a mapping of fields to values")
    fires, count = item.get("fires"), item.get("match_count")
    if (fires is None) == (count is None):
        raise _Bad(
            where, f"test {name!r} needs exactly one of 'fires: true|false' or 'match_count'"
        )
    if fires is not None and not isinstance(fires, bool):
        raise _Bad(where, f"test {name!r}: fires must be true or false, not {fires!r}")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise _Bad(where, f"test {name!r}: match_count must be a whole number, not {count!r}")
    expect = Expect(bool(fires)) if count is None else Expect(count > 0, count)
    return TestCase(name, where, tuple(flatten_event(e) for e in events), expect)


def _events_file(
    given: Any, where: SourceLocation, name: str, folder: Path | None
) -> list[dict[str, Any]]:
    if given is None:
        return []
    if not isinstance(given, str) or not given or folder is None:
        raise _Bad(where, f"test {name!r}: events_file must be a file name beside the test file")
    path = folder / given
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _Bad(
            where, f"test {name!r}: cannot read events_file {given!r}: {err.strerror}"
        ) from err
    return read_event_stream(data, _beside(where.path, given))


class _Bad(Exception):
    def __init__(self, where: SourceLocation, message: str) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(where, message)


def _yaml(data: bytes, shown: str) -> tuple[Any, Any]:
    """The document and its node tree (for line numbers); one diagnostic when it is not YAML."""
    import yaml

    loader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
    try:
        node = yaml.compose(data, Loader=loader)
        value = yaml.load(data, Loader=loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err)
        raise _Bad(SourceLocation(shown, line), f"not valid YAML: {problem}") from err
    return value, node


def _child(node: Any, key: str) -> Any:
    for key_node, value_node in getattr(node, "value", None) or []:
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _item_line(sequence: Any, position: int) -> int:
    items = getattr(sequence, "value", None)
    if isinstance(items, list) and position < len(items):
        return int(items[position].start_mark.line) + 1
    return 1


# ------------------------------------------------------------------------------ events


def flatten_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as a pipeline without ECS indexes it; a flat event is returned as it is."""
    record = event.get("Event")
    if not isinstance(record, dict) or set(event) != {"Event"}:
        return dict(event)
    out: dict[str, Any] = {}
    system = record.get("System")
    if isinstance(system, dict):
        for name in ("EventID", "Channel"):
            if name in system:
                out[name] = _text(system[name])
        provider = system.get("Provider")
        attributes = provider.get("#attributes") if isinstance(provider, dict) else None
        if isinstance(attributes, dict) and "Name" in attributes:
            out["Provider"] = out["Provider_Name"] = attributes["Name"]
    data = record.get("EventData")
    user = record.get("UserData")
    if not isinstance(data, dict) and isinstance(user, dict):
        # UserData holds one element named after the event, whose children are the fields.
        inner = [v for k, v in user.items() if k != "#attributes" and isinstance(v, dict)]
        data = inner[0] if len(inner) == 1 else user
    if isinstance(data, dict):
        out.update({k: _text(v) for k, v in data.items() if k != "#attributes"})
    return out


def _text(value: Any) -> Any:
    """An element's value: its ``#text`` when it also has attributes."""
    if isinstance(value, dict) and "#text" in value:
        return value["#text"]
    return value


def rename_fields(event: Mapping[str, Any], renames: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """`event` with each field the pipelines map (source -> targets) under its target names.

    A dotted target (``process.executable``) becomes an object path, as ECS shippers write it
    (Elasticsearch indexes both spellings as the same field).
    """
    out: dict[str, Any] = {}
    for name, value in event.items():
        targets = sorted(renames.get(name, ()))
        for target in targets or [name]:
            if target == name:
                out.setdefault(target, value)
            else:
                _put(out, target, value)
    return out


def _put(out: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    inner = out
    for part in parents:
        child = inner.setdefault(part, {})
        if not isinstance(child, dict):
            out.setdefault(dotted, value)  # a value already there: keep the dotted name
            return
        inner = child
    inner.setdefault(leaf, value)


# ------------------------------------------------------------------------------ queries


@dataclass(frozen=True, slots=True)
class FieldUse:
    """One value a query_string searches one field for.

    `kind`: "term", "phrase", "wildcard", "regex", "range" or "exists". `min_length`: the fewest
    characters a value matching it has (terms and wildcards; 0 where not known).
    """

    field: str
    kind: str
    min_length: int = 0


_OPERATORS = frozenset({"AND", "OR", "NOT", "&&", "||", "TO"})
_CLOSERS = {'"': '"', "/": "/", "[": "]", "{": "}"}


def query_fields(text: str) -> tuple[FieldUse, ...]:
    """The fields a query_string names and how it searches each (Lucene's syntax, read simply).

    Values without a field (the default field) and fields with a wildcard in their name are
    left out: no one field is meant.
    """
    uses: list[FieldUse] = []
    groups: list[str | None] = []
    pending: str | None = None
    at = 0
    while at < len(text):
        char = text[at]
        if char.isspace():
            at += 1
            continue
        if char == "(":
            groups.append(pending if pending is not None else (groups[-1] if groups else None))
            pending, at = None, at + 1
            continue
        if char == ")":
            if groups:
                groups.pop()
            pending, at = None, at + 1
            continue
        current = pending if pending is not None else (groups[-1] if groups else None)
        end, kind, length, is_field = _token(text, at)
        raw = text[at:end]
        at = end
        if is_field:
            pending, at = _unescape(raw), at + 1
            continue
        pending = None
        if kind == "term" and raw in _OPERATORS:
            continue
        if current == "_exists_":
            uses.append(FieldUse(_unescape(raw), "exists"))
        elif current is not None and "*" not in current:
            uses.append(FieldUse(current, kind, length))
    return tuple(uses)


def _token(text: str, at: int) -> tuple[int, str, int, bool]:
    """(end, kind, min length, whether it is a field name) of the token starting at `at`."""
    char = text[at]
    if char in _CLOSERS:
        close = _CLOSERS[char]
        end = at + 1
        while end < len(text) and text[end] != close:
            end += 2 if text[end] == "\\" else 1
        kind = {'"': "phrase", "/": "regex"}.get(char, "range")
        length = len(_unescape(text[at + 1 : end])) if kind == "phrase" else 0
        if kind == "regex":
            from watchmgr.query.lucene import min_length

            length = min_length(text[at + 1 : end])
        return min(end + 1, len(text)), kind, length, False
    end, length, wild = at, 0, False
    while end < len(text):
        char = text[end]
        if char == "\\":
            end, length = end + 2, length + 1
            continue
        if char.isspace() or char in "()":
            break
        if char == ":" and end > at:
            return end, "term", 0, True
        wild = wild or char in "*?"
        length += char != "*"
        end += 1
    if text[at] in "<>":
        return end, "range", 0, False
    return end, "wildcard" if wild else "term", length, False


def _unescape(text: str) -> str:
    out: list[str] = []
    skip = False
    for char in text:
        if char == "\\" and not skip:
            skip = True
            continue
        out.append(char)
        skip = False
    return "".join(out)


def base_field(name: str, suffix: str = ".keyword") -> str:
    """The field a sub-field belongs to (``CommandLine.keyword`` -> ``CommandLine``)."""
    return name[: -len(suffix)] if suffix and name.endswith(suffix) else name


# ------------------------------------------------------------------------------ the search


def search_of(watch_body: Mapping[str, Any], ids: Sequence[str]) -> dict[str, Any]:
    """The search a test runs: the watch's own query with its time range lifted, over `ids`.

    The range filters of the watch's ``bool`` query are its time window (``now-30m``), which
    recorded events are outside of; nothing else of the query changes. Aggregations are left
    out: a test counts the events the query matches.
    """
    request = watch_body.get("input", {}).get("search", {}).get("request", {}).get("body", {})
    query = _without_time_range(request.get("query", {"match_all": {}}))
    return {
        "size": len(ids),
        "_source": False,
        "query": {"bool": {"must": [query], "filter": [{"ids": {"values": list(ids)}}]}},
    }


def _without_time_range(query: Any) -> Any:
    if not isinstance(query, dict) or not isinstance(query.get("bool"), dict):
        return query
    clauses = query["bool"].get("filter")
    if clauses is None:
        return query
    kept = [c for c in (clauses if isinstance(clauses, list) else [clauses]) if "range" not in c]
    lifted = {k: v for k, v in query["bool"].items() if k != "filter"}
    if kept:
        lifted["filter"] = kept
    return {"bool": lifted}


def scratch_mappings(found: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any] | None:
    """Explicit mappings for a scratch index: each field as the first index (by name) of
    `found` (index -> field -> mapping) maps it; None when no field is mapped anywhere.

    A field that is a multi-field of another (``CommandLine.keyword``) comes with its parent.
    """
    chosen: dict[str, Mapping[str, Any]] = {}
    for index in sorted(found):
        for name, mapping in found[index].items():
            chosen.setdefault(name, mapping)
    properties: dict[str, Any] = {}
    for name in sorted(chosen):
        parent, _, leaf = name.rpartition(".")
        if parent in chosen and leaf in (chosen[parent].get("fields") or {}):
            continue
        if chosen[name].get("type") in (None, "object", "nested"):
            continue
        _place(properties, name.split("."), dict(chosen[name]))
    return {"properties": properties} if properties else None


def _place(properties: dict[str, Any], path: Sequence[str], mapping: dict[str, Any]) -> None:
    inner = properties
    for part in path[:-1]:
        holder = inner.setdefault(part, {"properties": {}})
        if "properties" not in holder:
            return  # a leaf field already has this name: keep the first
        inner = holder["properties"]
    inner.setdefault(path[-1], mapping)


def watch_query(watch_body: Mapping[str, Any]) -> str:
    """The query_string text of a watch (its metadata keeps it as rendered)."""
    query = watch_body.get("metadata", {}).get("query")
    return query if isinstance(query, str) else ""


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class CaseResult:
    """How one test went: how many of its events the rule's watches matched."""

    name: str
    location: SourceLocation
    expect: Expect
    events: int
    matched: int

    @property
    def passed(self) -> bool:
        return self.expect.met_by(self.matched)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The tests of one rule file against its watches.

    `fields`: each field its queries name (sub-field suffix removed), with how many of the
    tested events hold it: a field no event holds is the usual reason a rule does not fire.
    """

    source: str
    watch_ids: tuple[str, ...]
    queries: tuple[str, ...]
    fields: tuple[tuple[str, int], ...]
    events: int
    cases: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)


@dataclass(frozen=True, slots=True)
class TestRun:
    """Every tested rule (sorted by file), and how many converted rules had no test."""

    __test__ = False  # not a pytest class

    results: tuple[RuleResult, ...] = ()
    untested: int = 0
    where: str = ""

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def passed(self) -> bool:
        return not self.failed


def mattered(
    queries: Iterable[str], events: Sequence[Mapping[str, Any]], suffix: str
) -> tuple[tuple[str, int], ...]:
    """Each field the queries name (without `suffix`), with how many of `events` hold it."""
    names = sorted({base_field(u.field, suffix) for q in queries for u in query_fields(q)})
    return tuple((n, sum(1 for e in events if _holds(e, n))) for n in names)


def _holds(event: Mapping[str, Any], name: str) -> bool:
    if name in event:
        return event[name] is not None
    head, dot, rest = name.partition(".")
    while dot:
        inner = event.get(head)
        if isinstance(inner, Mapping) and _holds(inner, rest):
            return True
        more, dot, rest = rest.partition(".")
        head = f"{head}.{more}"
    return False
