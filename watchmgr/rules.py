"""Find and load Sigma rules with pySigma; lenient metadata, legacy aggregations, path:line errors.

pySigma parses every rule. watchmgr adds what real rule sets need and pySigma will not do:

* invalid metadata (dates like ``27/10/2019``, tags without a namespace, an unknown status) is a
  warning, not a failure: it does not change what the watch searches for;
* the legacy aggregation pipe (``sel | count(F) by G > 3``), which pySigma rejects, is split off
  and parsed here (`Aggregation`); ``near`` is refused with a clear message;
* ``detection.timeframe`` is taken out before pySigma sees the detection, so that ``1 of them``
  does not select it as a search identifier;
* every error names the file and the line.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import yaml

from watchmgr import yamlbound
from watchmgr.errors import Diagnostic, RuleError, SourceLocation, of_severity
from watchmgr.merge import deep_merge

RULE_SUFFIXES = (".yml", ".yaml")
#: Native rule test files (`watchmgr.ruletest`), skipped when searching folders for rules.
TEST_SUFFIXES = (".tests.yml", ".tests.yaml")

#: Watch ids that start with this are watchmgr's own: the apply lock of each environment
#: (``watchmgr-lock-<env>``, see `cluster.py`). No rule may make one.
RESERVED_ID_PREFIX = "watchmgr-lock-"

#: The metadata key each pySigma metadata error is about, to find its line. These errors are
#: reported as warnings; a SigmaValueError only when it is about tags (it has other causes).
_METADATA_KEYS = {
    "SigmaDateError": "date",
    "SigmaModifiedError": "modified",
    "SigmaStatusError": "status",
    "SigmaLevelError": "level",
    "SigmaFalsePositivesError": "falsepositives",
    "SigmaReferencesError": "references",
    "SigmaFieldsError": "fields",
    "SigmaAuthorError": "author",
    "SigmaDescriptionError": "description",
    "SigmaLicenseError": "license",
    "SigmaTaxonomyError": "taxonomy",
    "SigmaRelatedError": "related",
    "SigmaScopeError": "scope",
    "SigmaIdentifierError": "id",
    "SigmaTitleError": "title",
    "SigmaValueError": "tags",
}

_AGGREGATION = re.compile(
    r"""^\s*(?P<func>count|min|max|avg|sum)\s*\(\s*(?P<field>[^\s()]+)?\s*\)
        \s*(?:by\s+(?P<group>[^\s<>=]+)\s*)?
        (?P<op>==|<=|>=|<|>)\s*(?P<value>\d+)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Aggregation:
    """A legacy Sigma aggregation: ``func(field) by group op threshold``."""

    function: str  # count | min | max | avg | sum | near
    field: str | None
    group_by: str | None
    op: str  # > >= < <= ==
    threshold: int
    #: the aggregation as written (for messages)
    text: str = ""


@dataclass(frozen=True, slots=True)
class RuleCondition:
    """One condition of a rule: the search part (pySigma) and an optional aggregation."""

    index: int
    search: str
    aggregation: Aggregation | None


@dataclass(eq=False, slots=True)
class Rule:
    """One Sigma rule (one document of a possibly multi-document file), ready to convert."""

    #: the file, relative to the repository root as POSIX text (`root_relative`), made once at
    #: load time; everything after uses it as it is.
    path: str
    line: int
    #: position of this rule among the rules of its file (0-based): the watch-id counter.
    position: int
    #: the rule as written (multi-document actions merged), detection.timeframe included.
    raw: dict[str, Any]
    sigma: Any  # sigma.rule.SigmaRule
    conditions: tuple[RuleCondition, ...]
    warnings: tuple[Diagnostic, ...] = ()
    #: ids of pySigma detection items whose value was written as a YAML list.
    list_valued: frozenset[int] = field(default_factory=frozenset)
    #: the file's text lines, for locating errors found later (conversion).
    lines: Sequence[str] = ()

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.path, self.line)

    @property
    def title(self) -> str:
        return str(self.raw.get("title") or "")

    @property
    def active(self) -> bool | None:
        """The rule's own ``active:`` (not Sigma's: watchmgr's), None when it says nothing."""
        value = self.raw.get("active")
        return value if isinstance(value, bool) else None

    @property
    def sigma_id(self) -> str | None:
        value = self.raw.get("id")
        return str(value) if value is not None else None

    @property
    def timeframe(self) -> str | None:
        detection = self.raw.get("detection")
        value = detection.get("timeframe") if isinstance(detection, dict) else None
        return str(value) if value is not None else None

    def locate(self, pattern: str) -> SourceLocation:
        """The first line of this rule's document that matches `pattern` (else the rule start)."""
        return SourceLocation(self.path, find_line(self.lines, self.line, pattern) or self.line)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Rules loaded from a set of paths, and what went wrong with the others."""

    rules: tuple[Rule, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return of_severity(self.diagnostics, "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return of_severity(self.diagnostics, "warning")


def find_line(lines: Sequence[str], start: int, pattern: str) -> int | None:
    """The 1-based number of the first line at or after `start` matching regex `pattern`."""
    regex = re.compile(pattern)
    for number in range(max(start, 1), len(lines) + 1):
        if number > start and lines[number - 1].startswith("---"):
            break  # the next YAML document begins
        if regex.search(lines[number - 1]):
            return number
    return None


def root_relative(path: str | Path, root: Path) -> str:
    """`path` as POSIX text relative to `root` when it lies below it, else as given (POSIX).

    The one place that makes a path relative: a rule's path is made so once, when it is loaded,
    and carried on the rule (`Rule.path`), its watches (`Watch.source`) and every message about
    it. `root` is compared both as given and resolved (a symlinked checkout).
    """
    given = Path(path)
    absolute = Path(os.path.abspath(given))
    for base in (Path(os.path.abspath(root)), root.resolve()):
        try:
            return absolute.relative_to(base).as_posix()
        except ValueError:
            continue
    return given.as_posix()


def display_path(path: Path, root: Path = Path(".")) -> str:
    """`path` as shown in messages: relative to `root` (the working directory by default)."""
    return root_relative(path, root)


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Rule files under `paths` (files as given, directories searched), sorted, without repeats.

    Symbolic links to directories are followed; one that leads back into a directory it is
    in (a loop), a rule file whose link is broken or loops, and a directory that cannot be
    read are each an error: skipping them silently would plan their watches for deletion.
    """
    found: dict[Path, None] = {}
    problems: list[Diagnostic] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for candidate in _walk(path, problems):
                found.setdefault(candidate, None)
        elif path.is_file():
            found.setdefault(path, None)
        else:
            problems.append(Diagnostic(SourceLocation(str(path)), _missing(path)))
    return list(found), problems


def _walk(top: Path, problems: list[Diagnostic]) -> list[Path]:
    """The rule files below `top`, sorted, following directory links that do not loop."""
    files: list[Path] = []

    def unreadable(err: OSError) -> None:
        where = SourceLocation(str(err.filename or top))
        problems.append(Diagnostic(where, f"cannot read the directory: {err.strerror}"))

    for directory, subdirs, names in os.walk(top, onerror=unreadable, followlinks=True):
        here = Path(directory)
        subdirs.sort()  # problems are reported in a stable order
        for sub in [s for s in subdirs if (here / s).is_symlink()]:
            above = {os.path.realpath(p) for p in (here, *here.parents)}
            if os.path.realpath(here / sub) in above:
                subdirs.remove(sub)
                problems.append(
                    Diagnostic(
                        SourceLocation(str(here / sub)),
                        "symbolic link loop: it leads back to a directory it is in "
                        "(remove the link)",
                    )
                )
        for name in sorted(names):
            candidate = here / name
            # `<rule>.tests.yml` beside a rule holds its tests (watchmgr test), no rule.
            if candidate.suffix not in RULE_SUFFIXES or name.endswith(TEST_SUFFIXES):
                continue
            if candidate.is_file():
                files.append(candidate)
            elif candidate.is_symlink():
                problems.append(Diagnostic(SourceLocation(str(candidate)), _missing(candidate)))
    return sorted(files)


def _missing(path: Path) -> str:
    if not path.is_symlink():
        return "no such file or directory (check the path)"
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return "symbolic link loop: the link leads back to itself (remove or fix it)"
    except OSError as err:
        if "loop" in (err.strerror or "").lower():
            return "symbolic link loop: the link leads back to itself (remove or fix it)"
        return "broken symbolic link: what it points to does not exist (remove or fix it)"
    return "not a file (check the path)"


def load_paths(paths: Iterable[str | Path], root: Path = Path(".")) -> LoadResult:
    """Load every rule file under `paths`; failures become diagnostics, never exceptions.

    Rule paths are relative to `root` (`root_relative`).

    Checks across files (a Sigma id used twice, colliding watch ids) are `convert`'s.
    """
    files, diagnostics = discover(paths)
    rules: list[Rule] = []
    for path in files:
        file_rules, file_diags = load_file(path, root_relative(path, root))
        rules.extend(file_rules)
        diagnostics.extend(file_diags)
    return LoadResult(tuple(rules), tuple(diagnostics))


def load_file(path: Path, shown: str) -> tuple[list[Rule], list[Diagnostic]]:
    """Load the rules of one file, `shown` in messages; a file that cannot be read is reported."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return [], [Diagnostic(SourceLocation(shown), f"cannot read: {err.strerror}")]
    return load_text(data, shown)


def load_text(data: bytes, path: str) -> tuple[list[Rule], list[Diagnostic]]:
    """Load the rules of one file's contents; `path` is only used in messages."""
    here = SourceLocation(path, 1)
    if b"\x00" in data:
        return [], [Diagnostic(here, "binary file, not a Sigma rule (remove it or fix the path)")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return [], [Diagnostic(SourceLocation(path, line), "not UTF-8 text, not a Sigma rule")]
    if not text.strip():
        return [], [Diagnostic(here, "empty file: no Sigma rule in it")]
    try:
        documents = _load_documents(data)
    except yaml.YAMLError as err:
        return [], [_yaml_diagnostic(err, path)]
    except yamlbound.AliasBomb as bomb:
        return [], [Diagnostic(SourceLocation(path, bomb.line), bomb.message)]
    lines = text.splitlines()
    starts = _document_starts(lines, len(documents))
    rules: list[Rule] = []
    diagnostics: list[Diagnostic] = []
    for merged, line in _apply_actions(documents, starts, path, diagnostics):
        try:
            rules.append(_build_rule(merged, path, line, len(rules), lines))
        except RuleError as err:
            diagnostics.append(Diagnostic(err.location or SourceLocation(path, line), err.message))
    for rule in rules:
        diagnostics.extend(rule.warnings)
    return rules, diagnostics


def _load_documents(data: bytes) -> list[Any]:
    """The documents of a rule file, each refused before construction if its aliases explode."""
    # libyaml reads bytes much faster than str (which PyYAML encodes again first).
    loader = _Loader(data)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            yamlbound.check(node)
            documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """The C safe loader: plain YAML only, so ``!!python/object`` is refused."""


def _yaml_diagnostic(err: yaml.YAMLError, path: str) -> Diagnostic:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(err, "problem", None) or str(err)
    if "could not determine a constructor for the tag" in problem:
        found = re.search(r"'([^']*)'", problem)
        tag = (found.group(1) if found else "?").replace("tag:yaml.org,2002:", "!!")
        message = f"YAML tag {tag!r} is not allowed: rules must be plain YAML"
    else:
        message = f"malformed YAML: {problem}"
    return Diagnostic(SourceLocation(path, line), message)


def _document_starts(lines: Sequence[str], count: int) -> list[int]:
    """The first line of each YAML document (documents are separated by ``---`` lines)."""
    separators = [i + 1 for i, text in enumerate(lines) if text.startswith("---")]
    starts: list[int] = []
    if not separators or (separators[0] != 1 and _has_content(lines[: separators[0] - 1])):
        starts.append(1)
    starts.extend(s + 1 for s in separators)
    while len(starts) < count:
        starts.append(starts[-1])
    return starts[:count]


def _has_content(lines: Sequence[str]) -> bool:
    return any(text.strip() and not text.lstrip().startswith("#") for text in lines)


def _apply_actions(
    documents: list[Any], starts: list[int], path: str, diagnostics: list[Diagnostic]
) -> Iterator[tuple[dict[str, Any], int]]:
    """Yield (merged rule dict, first line) per rule of a multi-document file.

    The Sigma collection actions: ``global`` sets a template merged into the documents that
    follow, ``reset`` drops it, ``repeat`` repeats the previous rule with changes.
    """
    template: dict[str, Any] = {}
    previous: dict[str, Any] | None = None
    any_rule = False
    for document, line in zip(documents, starts, strict=True):
        if document is None:
            continue
        if not isinstance(document, dict):
            diagnostics.append(_not_a_mapping(document, SourceLocation(path, line)))
            continue
        action = document.get("action")
        body = {k: v for k, v in document.items() if k != "action"}
        if action == "global":
            template = body
            continue
        if action == "reset":
            template = {}
            continue
        if action == "repeat":
            if previous is None:
                diagnostics.append(
                    Diagnostic(
                        SourceLocation(path, line), "'action: repeat' without a rule before it"
                    )
                )
                continue
            merged = deep_merge(previous, body)
        elif action is None:
            merged = _with_template(body, template, SourceLocation(path, line), diagnostics)
        else:
            diagnostics.append(
                Diagnostic(
                    SourceLocation(path, line),
                    f"unknown collection action {action!r} (use global, reset or repeat)",
                )
            )
            continue
        previous = merged
        any_rule = True
        yield merged, line
    if not any_rule and not diagnostics:
        diagnostics.append(
            Diagnostic(
                SourceLocation(path, starts[0] if starts else 1), "no Sigma rule in this file"
            )
        )


def _not_a_mapping(document: Any, where: SourceLocation) -> Diagnostic:
    return Diagnostic(
        where,
        f"not a Sigma rule: the document is a {type(document).__name__}, "
        "expected a mapping with title, logsource and detection",
    )


def _with_template(
    body: dict[str, Any],
    template: dict[str, Any],
    where: SourceLocation,
    diagnostics: list[Diagnostic],
) -> dict[str, Any]:
    """The template merged into the document, winning, as in sigmac and pySigma."""

    def replaced(path: tuple[str, ...]) -> None:
        diagnostics.append(
            Diagnostic(
                where,
                f"the 'action: global' document's {'.'.join(path)!r} replaces this "
                "document's (a list and a mapping cannot be merged)",
                "warning",
            )
        )

    merged: dict[str, Any] = deep_merge(body, template, replaced) if template else body
    return merged


@cache
def _spec_modifiers() -> None:
    """Give pySigma the UTF-16 modifiers as the Sigma specification and sigmac have them.

    pySigma 1.5 lacks ``utf16le`` (the spec's name for ``wide``), and its ``utf16`` prepends
    the byte-order mark as a character, which ``base64`` then encodes as UTF-8 (``77u/...``);
    the spec and sigmac prepend UTF-16's bytes ``FF FE`` (``//4...``). Registered once, in
    pySigma's own modifier table, so that every rule is parsed with them.
    """
    from sigma import modifiers
    from sigma.exceptions import SigmaValueError
    from sigma.types import SigmaString

    class EncodedString(SigmaString):
        """A string as bytes of another encoding: base64 encodes these bytes, not UTF-8."""

        raw: bytes

        def __bytes__(self) -> bytes:
            return self.raw

        def __len__(self) -> int:
            return len(self.raw)

    def encoder(name: str, codec: str, mark: bytes) -> type:
        def modify(self: Any, val: Any) -> Any:
            if val.contains_special():
                raise SigmaValueError(
                    f"{name}: values with wildcards or placeholders cannot be encoded",
                    source=self.source,
                )
            raw = mark + "".join(part for part in val.s if isinstance(part, str)).encode(codec)
            encoded = EncodedString()
            encoded.s = [raw.decode("latin-1")]
            encoded.raw = raw
            return encoded

        doc = f"Encode the value as {codec.upper()}" + (
            " after a byte-order mark." if mark else "."
        )
        # pySigma checks values against the annotation of `modify` (not a string here).
        modify.__annotations__ = {"val": SigmaString, "return": SigmaString}
        modifier = type(
            f"Spec{name.title()}Modifier",
            (modifiers.SigmaValueModifier,),
            {"modify": modify, "__doc__": doc},
        )
        modifiers.modifier_mapping[name] = modifier
        modifiers.reverse_modifier_mapping[modifier.__name__] = name
        return modifier

    encoder("utf16le", "utf-16-le", b"")
    encoder("utf16", "utf-16-le", b"\xff\xfe")


def _build_rule(
    raw: dict[str, Any], path: str, line: int, position: int, lines: Sequence[str]
) -> Rule:
    def at(pattern: str) -> SourceLocation:
        return SourceLocation(path, find_line(lines, line, pattern) or line)

    detection = _detection_of(raw, at, SourceLocation(path, line))
    conditions = _conditions_of(detection, at)
    _check_text_keys(raw, at)
    _check_regex_values(detection, at)
    pysigma_detection = {k: v for k, v in detection.items() if k not in ("condition", "timeframe")}
    pysigma_detection["condition"] = [condition.search for condition in conditions]
    rule = _parse_sigma({**raw, "detection": pysigma_detection}, at)
    if "active" in raw and not isinstance(raw["active"], bool):
        raise RuleError(
            f"'active' must be true or false, not {raw['active']!r} (active: false deploys "
            "this rule's watch deactivated)",
            at(r"^active:"),
        )
    return Rule(
        path=path,
        line=line,
        position=position,
        raw=raw,
        sigma=rule,
        conditions=conditions,
        warnings=_metadata_warnings(rule, raw, at),
        list_valued=_list_valued(rule, pysigma_detection),
        lines=lines,
    )


def _detection_of(
    raw: dict[str, Any], at: Callable[[str], SourceLocation], start: SourceLocation
) -> dict[str, Any]:
    """The rule's detection section, or a `RuleError` saying why it has no usable one."""
    if "correlation" in raw:
        raise RuleError(
            "Sigma correlation rules cannot be expressed as one Watcher search "
            "(convert the rules it references instead)",
            at(r"^correlation:"),
        )
    detection = raw.get("detection")
    if detection is None:
        if "title" not in raw and "logsource" not in raw:
            raise RuleError(
                "not a Sigma rule: no 'title', 'logsource' or 'detection' "
                "(is this the right file?)",
                start,
            )
        raise RuleError(
            "missing 'detection' section (a rule needs detection and condition)", at("")
        )
    if not isinstance(detection, dict):
        raise RuleError(
            "'detection' must be a mapping of search identifiers and a condition",
            at(r"^detection:"),
        )
    if "condition" not in detection:
        raise RuleError("'detection' has no 'condition'", at(r"^detection:"))
    return detection


def _conditions_of(
    detection: dict[str, Any], at: Callable[[str], SourceLocation]
) -> tuple[RuleCondition, ...]:
    """One `RuleCondition` per condition (a rule may list several), aggregation split off."""
    conditions_raw = detection["condition"]
    condition_list = conditions_raw if isinstance(conditions_raw, list) else [conditions_raw]
    conditions: list[RuleCondition] = []
    for index, condition in enumerate(condition_list):
        if not isinstance(condition, str):
            raise RuleError(
                "'condition' must be a string or a list of strings", at(r"^\s*condition:")
            )
        search, aggregation = _split_aggregation(condition, partial(_condition_line, at, condition))
        conditions.append(RuleCondition(index, search, aggregation))
    return tuple(conditions)


def _check_text_keys(raw: dict[str, Any], at: Callable[[str], SourceLocation]) -> None:
    for text_key, what in (("id", "a UUID"), ("title", "text")):
        value = raw.get(text_key)
        if value is not None and not isinstance(value, str):
            raise RuleError(
                f"{text_key!r} must be {what}, not {_yaml_kind(value)} ({str(value)[:40]}); "
                "quote it if it is meant as text",
                at(rf"^{text_key}:"),
            )


def _parse_sigma(pysigma_raw: dict[str, Any], at: Callable[[str], SourceLocation]) -> Any:
    from sigma.rule import SigmaRule

    _spec_modifiers()
    try:
        return SigmaRule.from_dict(pysigma_raw, collect_errors=True)
    except Exception as err:  # pySigma raises its own errors and, on odd input, plain ones
        raise rule_error(err, at) from err


def _metadata_warnings(
    rule: Any, raw: dict[str, Any], at: Callable[[str], SourceLocation]
) -> tuple[Diagnostic, ...]:
    """pySigma's metadata complaints as warnings; any other error it collected is raised."""
    warnings: list[Diagnostic] = []
    for problem in rule.errors:
        name = type(problem).__name__
        key = _METADATA_KEYS.get(name)
        if name == "SigmaValueError" and "namespace" in str(problem):
            # pySigma names neither the tag nor the fix: one warning per bad tag, at its line.
            if not any("has no namespace" in w.message for w in warnings):
                warnings.extend(_tag_warnings(raw.get("tags"), at) or [_warning(problem, at, key)])
        elif key is not None and (name != "SigmaValueError" or "tag" in str(problem).lower()):
            warnings.append(_warning(problem, at, key))
        else:
            raise rule_error(problem, at)
    return tuple(warnings)


def _check_regex_values(detection: dict[str, Any], at: Callable[[str], SourceLocation]) -> None:
    """A `re` value must be text (pySigma keeps a number as a number, which no regex is) and a
    regex Python's `re` compiles, as pySigma checks it, here so the error names the value's line."""
    for name, search in detection.items():
        if name in ("condition", "timeframe"):
            continue
        maps = search if isinstance(search, list) else [search]
        for item in (m for m in maps if isinstance(m, dict)):
            for key, value in item.items():
                if "re" not in str(key).split("|")[1:]:
                    continue
                values = value if isinstance(value, list) else [value]
                bad = [v for v in values if not isinstance(v, str)]
                where = at(rf"^[\s-]*{re.escape(str(key))}\s*:")
                if bad or not values:
                    shown = f"{_yaml_kind(bad[0])} ({bad[0]}); quote it" if bad else "an empty list"
                    raise RuleError(
                        f"{key!r}: a regular expression must be text, not {shown}", where
                    )
                for pattern in values:
                    try:
                        re.compile(pattern)
                    except re.error as err:
                        raise RuleError(
                            f"regular expression {pattern!r} is invalid: {err}", where
                        ) from err


def _yaml_kind(value: Any) -> str:
    kinds = {bool: "true or false", int: "a number", float: "a number", list: "a list"}
    if value is None:
        return "null"
    return "a mapping" if isinstance(value, dict) else kinds.get(type(value), type(value).__name__)


def reserved_watch_id(rule: Rule, watch_id: str) -> Diagnostic | None:
    """The error for a rule whose watch id would take watchmgr's own (`RESERVED_ID_PREFIX`)."""
    if not watch_id.startswith(RESERVED_ID_PREFIX):
        return None
    by_id = rule.sigma_id is not None and rule.sigma_id in watch_id
    return Diagnostic(
        rule.locate(r"^id:" if by_id else r"^title:"),
        f"watch id {watch_id!r} starts with {RESERVED_ID_PREFIX!r}, which watchmgr reserves "
        f"for the apply lock of each environment; change the rule's {'id' if by_id else 'title'} "
        "or the id prefix",
    )


_OPERATORS = re.compile(r"\b(and|or|not|of|them|all|any)\b", re.IGNORECASE)


def _condition_line(at: Callable[[str], SourceLocation], condition: str) -> SourceLocation:
    return at(re.escape(condition.strip()[:40]) or r"^\s*condition:")


def _split_aggregation(
    condition: str, where: Callable[[], SourceLocation]
) -> tuple[str, Aggregation | None]:
    # sigmac read the boolean operators case-insensitively and rule sets rely on it; pySigma
    # wants them in lower case.
    condition = _OPERATORS.sub(lambda m: m.group(1).lower(), condition)
    if "|" not in condition:
        return condition, None
    search, _, tail = condition.partition("|")
    if re.match(r"\s*near\b", tail, re.IGNORECASE):
        # Kept for the converter to refuse (or, in the sigmac-2020 dialect, drop with a warning).
        return search.strip(), Aggregation("near", None, None, "", 0, tail.strip())
    match = _AGGREGATION.match(tail)
    if match is None:
        raise RuleError(
            f"cannot parse aggregation {tail.strip()!r} "
            "(expected e.g. 'count(Field) by Group > 3')",
            where(),
        )
    return search.strip(), Aggregation(
        function=match["func"].lower(),
        field=match["field"],
        group_by=match["group"],
        op=match["op"],
        threshold=int(match["value"]),
        text=tail.strip(),
    )


def _warning(
    problem: Exception, at: Callable[[str], SourceLocation], key: str | None
) -> Diagnostic:
    return Diagnostic(at(rf"^{key}:"), _message(problem), "warning")


#: ATT&CK technique ids and tactic names, which rules often tag without the `attack.` namespace.
_ATTACK = re.compile(
    r"(t\d{4}(\.\d{3})?|g\d{4}|s\d{4}|reconnaissance|resource[-_]development|initial[-_]access|"
    r"execution|persistence|privilege[-_]escalation|defense[-_]evasion|credential[-_]access|"
    r"discovery|lateral[-_]movement|collection|command[-_]and[-_]control|exfiltration|impact)",
    re.IGNORECASE,
)


def _tag_warnings(tags: Any, at: Callable[[str], SourceLocation]) -> list[Diagnostic]:
    """A warning for each tag without a namespace, at its own line, saying how to write it."""
    found = []
    for tag in tags if isinstance(tags, list) else ():
        if not isinstance(tag, str) or "." in tag:
            continue
        if _ATTACK.fullmatch(tag):
            fix = f"'attack.{tag.lower()}' (Sigma tags are namespace.name)"
        else:
            fix = "namespace.name, e.g. attack.t1059, cve.2021-44228, detection.threat-hunting"
        item = re.escape(tag)
        where = at(rf"^\s*(-\s*|tags:.*[\[,]\s*)['\"]?{item}['\"]?\s*(#.*)?[,\]]?")
        message = f"tag {tag!r} has no namespace; write it as {fix}"
        found.append(Diagnostic(where, message, "warning"))
    return found


def _message(err: Exception) -> str:
    """pySigma's message without the location it may have appended."""
    text = str(err)
    return re.sub(r"\s+in rule\s+\S*$", "", text).rstrip(".")


def rule_error(err: Exception, at: Callable[[str], SourceLocation]) -> RuleError:
    """A pySigma (or other) exception about a rule as a RuleError at the right line."""
    from sigma.modifiers import modifier_mapping

    name = type(err).__name__
    text = _message(err)
    unknown = re.match(r"Unknown modifier '?([^']*)'?", text)
    if unknown:
        modifier = unknown.group(1)
        close = difflib.get_close_matches(modifier, list(modifier_mapping), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return RuleError(f"unknown modifier {modifier!r}{hint}", at(rf"\|{re.escape(modifier)}\b"))
    missing = re.match(r"Detection '([^']*)' not defined", text)
    if missing:
        return RuleError(
            f"condition names search identifier {missing.group(1)!r}, "
            "which is not defined under 'detection'",
            at(
                rf"^\s*condition:.*\b{re.escape(missing.group(1))}\b|^\s*-.*\b{re.escape(missing.group(1))}\b"
            ),
        )
    if name == "SigmaConditionError" or "condition" in name.lower():
        return RuleError(f"invalid condition: {text}", at(r"^\s*condition:"))
    if name.startswith("Sigma"):
        return RuleError(text[:1].lower() + text[1:], at(r"^detection:"))
    return RuleError(f"cannot load rule: {name}: {text}", at(r"^detection:"))


def _list_valued(rule: Any, detection: dict[str, Any]) -> frozenset[int]:
    """Ids of pySigma detection items whose value was a YAML list in the rule."""
    marked: set[int] = set()

    def walk(sigma_detection: Any, definition: Any) -> None:
        items = sigma_detection.detection_items
        if isinstance(definition, dict):
            for item, value in zip(items, definition.values(), strict=False):
                if isinstance(value, list):
                    marked.add(id(item))
        elif isinstance(definition, list):
            if len(items) == 1 and not hasattr(items[0], "detection_items"):
                marked.add(id(items[0]))
            else:
                for item, value in zip(items, definition, strict=False):
                    if hasattr(item, "detection_items"):
                        walk(item, value)

    for name, sigma_detection in rule.detection.detections.items():
        walk(sigma_detection, detection.get(name))
    return frozenset(marked)
