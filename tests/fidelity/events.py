"""Events generated from a rule's Sigma semantics, to ask real Lucene whether its watch fires.

pySigma parses the rule (modifiers applied: ``contains`` has added its wildcards, ``base64offset``
and ``windash`` have expanded); its post-processed condition is a boolean tree of
``field = value`` leaves and keyword leaves. From that tree:

- `holds` is the reference: what Sigma says a document matches (strings case-insensitively
  unless ``|cased``, a value with wildcards as a whole-value glob, ``re`` as a search with its
  flags, ``cidr`` by address, ``null`` as absent, keywords anywhere in any field);
- **positives** are documents built to satisfy the condition, one per way through its ORs
  (capped), kept only where `holds` agrees;
- **case variants** are the positives with every string upper-cased or case-swapped, kept where
  `holds` still says they match (so never for ``|cased`` values or case-sensitive regexes);
- **negatives** are near misses, kept only where `holds` says they do not match: a positive
  with one value perturbed, wrapped in other words (equality is a whole-value match), or its
  field removed, and a positive that also satisfies what the rule filters out.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

try:  # Python ≥ 3.11 keeps the regex parser here; sre_parse is its deprecated alias
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re import _constants as sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from watchmgr.rules import Rule, RuleCondition

Document = dict[str, Any]
#: where a keyword (a value without a field) is put in a generated document.
KEYWORD_FIELD = "message"
#: what stands for `*` in a generated value: nothing, then some text (contains inside a value).
FILLERS = ("", "zq")
MAX_PATHS = 12
MAX_POSITIVES = 4
MAX_NEGATIVES = 8


class CannotGenerate(Exception):
    """The rule uses something events cannot be generated for (the message says what)."""


@dataclass(frozen=True)
class RuleEvents:
    """The events generated for one condition of a rule."""

    rule: Rule
    condition: RuleCondition
    positives: tuple[Document, ...]
    case_variants: tuple[Document, ...]
    negatives: tuple[Document, ...]


# --------------------------------------------------------------------------- the reference


def condition_tree(rule: Rule, condition: RuleCondition) -> Any:
    """pySigma's post-processed condition: AND/OR/NOT over field-value and keyword leaves."""
    return rule.sigma.detection.parsed_condition[condition.index].parse()


Matcher = Callable[[Mapping[str, Any]], bool]


def holds(node: Any, doc: Mapping[str, Any]) -> bool:
    """Whether Sigma says `doc` matches the condition `node`."""
    return matcher(node)(doc)


def matcher(node: Any) -> Matcher:
    """`holds` for one condition, compiled once (its regexes too) for many documents."""
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionNOT,
        ConditionOR,
        ConditionValueExpression,
    )

    if isinstance(node, (ConditionAND, ConditionOR)):
        parts = [matcher(arg) for arg in node.args]
        if isinstance(node, ConditionAND):
            return lambda doc: all(part(doc) for part in parts)
        return lambda doc: any(part(doc) for part in parts)
    if isinstance(node, ConditionNOT):
        inner = matcher(node.args[0])
        return lambda doc: not inner(doc)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        field, predicate = str(node.field), value_predicate(node.value)
        return lambda doc: predicate(doc.get(field), field in doc)
    if isinstance(node, ConditionValueExpression):
        test = _keyword_test(node.value)
        return lambda doc: any(_any_item(test, value) for value in doc.values())
    raise CannotGenerate(f"condition element {type(node).__name__}")


def value_holds(value: Any, actual: Any, present: bool) -> bool:
    """Whether a field's value (`actual`, possibly a list) satisfies one Sigma value."""
    return value_predicate(value)(actual, present)


def value_predicate(value: Any) -> Callable[[Any, bool], bool]:
    """A field's test for one Sigma value: (its value, whether it is present) → matches."""
    from sigma import types as st

    if isinstance(value, st.SigmaNull):
        return lambda actual, present: not present or actual is None
    if isinstance(value, st.SigmaExists):
        return lambda _, present: present == value.exists
    if isinstance(value, st.SigmaExpansion):
        inner = [value_predicate(v) for v in value.values]
        return lambda actual, present: any(p(actual, present) for p in inner)
    test = _scalar_test(value)
    return lambda actual, present: present and actual is not None and _any_item(test, actual)


def _any_item(test: Callable[[str], bool], actual: Any) -> bool:
    if isinstance(actual, list):
        return any(_any_item(test, item) for item in actual)
    return test(_text(actual))


def _scalar_test(value: Any) -> Callable[[str], bool]:
    from sigma import types as st

    if isinstance(value, st.SigmaString):
        whole = re.compile(glob(value), _string_flags(value))
        return lambda text: whole.fullmatch(text) is not None
    if isinstance(value, st.SigmaBool):
        word = "true" if value.boolean else "false"
        return lambda text: text.lower() == word
    if isinstance(value, st.SigmaNumber):
        number = str(value.number)
        return lambda text: text == number
    if isinstance(value, st.SigmaRegularExpression):
        regex = re.compile(value.regexp.to_plain_regex(), _regex_flags(value))
        return lambda text: regex.search(text) is not None
    if isinstance(value, st.SigmaCompareExpression):
        return lambda text: _compares(value, text)
    if isinstance(value, st.SigmaCIDRExpression):
        return lambda text: _in_network(value.network, text)
    raise CannotGenerate(f"a {type(value).__name__} value")


def _keyword_test(value: Any) -> Callable[[str], bool]:
    """A keyword (a value without a field): whether it occurs in one field's value."""
    from sigma import types as st

    if isinstance(value, st.SigmaExpansion):
        inner = [_keyword_test(v) for v in value.values]
        return lambda text: any(test(text) for test in inner)
    if isinstance(value, st.SigmaString):
        anywhere = re.compile(glob(value), _string_flags(value))
        return lambda text: anywhere.search(text) is not None
    if isinstance(value, (st.SigmaNumber, st.SigmaBool)):
        word = str(value).lower()
        return lambda text: word in text.lower()
    raise CannotGenerate(f"a keyword of type {type(value).__name__}")


def _string_flags(value: Any) -> int:
    from sigma.types import SigmaCasedString

    return re.DOTALL if isinstance(value, SigmaCasedString) else re.DOTALL | re.IGNORECASE


def _in_network(network: Any, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) in network
    except ValueError:
        return False


def glob(value: Any) -> str:
    """A SigmaString as a Python regex: its wildcards as ``.*`` and ``.``, the rest literal."""
    from sigma.types import Placeholder, SpecialChars

    out = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        elif isinstance(part, Placeholder):
            raise CannotGenerate(f"placeholder %{part.name}%")
        else:
            out.append(re.escape(part))
    return "".join(out)


def _text(actual: Any) -> str:
    if isinstance(actual, bool):
        return "true" if actual else "false"
    return str(actual)


def _regex_flags(value: Any) -> int:
    names = {flag.name for flag in value.flags}
    flags = 0
    for name, flag in (("IGNORECASE", re.I), ("MULTILINE", re.M), ("DOTALL", re.S)):
        if name in names:
            flags |= flag
    return flags


def _compares(value: Any, text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    limit = float(value.number.number)
    return {
        "LT": number < limit,
        "LTE": number <= limit,
        "GT": number > limit,
        "GTE": number >= limit,
    }[value.op.name]


# --------------------------------------------------------------------------- generation

#: a requirement: (field or None for a keyword, Sigma value, whether it must hold)
Requirement = tuple[str | None, Any, bool]
Path = tuple[Requirement, ...]


def paths(node: Any, want: bool) -> list[Path]:
    """Ways to make `node` evaluate to `want`, each a set of requirements (capped)."""
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionNOT,
        ConditionOR,
    )

    if isinstance(node, ConditionNOT):
        return paths(node.args[0], not want)
    if isinstance(node, (ConditionAND, ConditionOR)):
        children = [paths(arg, want) for arg in node.args]
        if isinstance(node, ConditionAND) == want:  # every child must hold (fail)
            return _products(children)
        return _interleave(children)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        field: str | None = str(node.field)
    else:
        field = None
    return [((field, value, want),) for value in _alternatives(node.value, want)]


def _alternatives(value: Any, want: bool) -> list[Any]:
    from sigma.types import SigmaExpansion

    if isinstance(value, SigmaExpansion) and want:
        return list(value.values)
    return [value]


def _products(children: list[list[Path]]) -> list[Path]:
    combined = itertools.islice(itertools.product(*children), MAX_PATHS)
    return [tuple(r for path in combo for r in path) for combo in combined]


def _interleave(children: list[list[Path]]) -> list[Path]:
    out: list[Path] = []
    for row in itertools.zip_longest(*children):
        out.extend(path for path in row if path is not None)
    return out[:MAX_PATHS]


def document(path: Path, filler: str, base: Mapping[str, Any] | None = None) -> Document:
    """A document meeting `path`'s requirements as far as one value per field can."""
    from sigma import types as st

    doc: Document = dict(base or {})
    wanted: dict[str, list[Any]] = {}
    for field, value, want in path:
        name = KEYWORD_FIELD if field is None else field
        if want:
            wanted.setdefault(name, []).append(value)
        elif field is not None and name in doc and value_holds(value, doc[name], True):
            del doc[name]
        elif isinstance(value, (st.SigmaNull, st.SigmaExists)) and not (
            isinstance(value, st.SigmaExists) and value.exists
        ):
            doc[name] = "zq"  # must not be null (or absent): present
        elif isinstance(value, st.SigmaExists):
            doc.pop(name, None)
    for name, values in wanted.items():
        if any(isinstance(v, (st.SigmaNull, st.SigmaExists)) and not _exists(v) for v in values):
            doc.pop(name, None)
            continue
        ordered = sorted((v for v in values if not isinstance(v, st.SigmaExists)), key=_anchor)
        samples = [sample(v, filler) for v in ordered]
        if not samples:
            doc[name] = "zq"
        elif len(samples) == 1:
            doc[name] = samples[0]
        else:
            doc[name] = "".join(_text(s) for s in samples)
    return doc


def _anchor(value: Any) -> int:
    """Where a value goes when several must hold in one field: starts, contains, then ends."""
    from sigma.types import SigmaString, SpecialChars

    if not isinstance(value, SigmaString) or not value.s:
        return 1
    if value.s[0] is not SpecialChars.WILDCARD_MULTI:
        return 0
    return 2 if value.s[-1] is not SpecialChars.WILDCARD_MULTI else 1


def _exists(value: Any) -> bool:
    from sigma.types import SigmaExists

    return isinstance(value, SigmaExists) and bool(value.exists)


def sample(value: Any, filler: str) -> Any:
    """One value that satisfies the Sigma value (`filler` for each ``*``)."""
    from sigma import types as st

    if isinstance(value, st.SigmaString):
        from sigma.types import SpecialChars

        return "".join(
            filler
            if part is SpecialChars.WILDCARD_MULTI
            else "x"
            if part is SpecialChars.WILDCARD_SINGLE
            else str(part)
            for part in value.s
        )
    if isinstance(value, st.SigmaBool):
        return "true" if value.boolean else "false"
    if isinstance(value, st.SigmaNumber):
        return value.number
    if isinstance(value, st.SigmaRegularExpression):
        return example_of(value.regexp.to_plain_regex(), _regex_flags(value))
    if isinstance(value, st.SigmaCompareExpression):
        step = {"LT": -1, "LTE": 0, "GT": 1, "GTE": 0}[value.op.name]
        return value.number.number + step
    if isinstance(value, st.SigmaCIDRExpression):
        network = value.network
        return str(network[1] if network.num_addresses > 1 else network[0])
    if isinstance(value, st.SigmaExpansion):
        return sample(value.values[0], filler)
    raise CannotGenerate(f"a {type(value).__name__} value")


def example_of(pattern: str, flags: int = 0) -> str:
    """A short string `re.search(pattern, ·, flags)` finds (first branches, fewest repeats)."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error as err:
        raise CannotGenerate(f"regex {pattern!r}: {err}") from err
    return "".join(_emit(parsed))


def _emit(items: Iterable[tuple[Any, Any]]) -> Iterator[str]:
    for op, arg in items:
        if op is sre.LITERAL:
            yield chr(arg)
        elif op is sre.NOT_LITERAL:
            yield "a" if arg != ord("a") else "b"
        elif op is sre.ANY:
            yield "a"
        elif op is sre.IN:
            yield _class_member(arg)
        elif op is sre.BRANCH:
            yield from _emit(arg[1][0])
        elif op is sre.SUBPATTERN:
            yield from _emit(arg[-1])
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            low, _high, inner = arg
            for _ in range(low):
                yield from _emit(inner)
        elif op is sre.CATEGORY:
            yield _category_member(arg)
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        else:
            raise CannotGenerate(f"regex construct {op}")


def _class_member(items: list[tuple[Any, Any]]) -> str:
    negated = bool(items) and items[0][0] is sre.NEGATE
    if negated:
        excluded = "".join(_class_member([item]) for item in items[1:])
        return next(c for c in "a0_ Zq" if c not in excluded and c.lower() not in excluded.lower())
    op, arg = items[0]
    if op is sre.LITERAL:
        return chr(arg)
    if op is sre.RANGE:
        return chr(arg[0])
    if op is sre.CATEGORY:
        return _category_member(arg)
    raise CannotGenerate(f"regex class {op}")


def _category_member(category: Any) -> str:
    name = str(category)
    if "NOT_DIGIT" in name:
        return "a"
    if "DIGIT" in name:
        return "0"
    if "NOT_WORD" in name:
        return " "
    if "WORD" in name:
        return "a"
    if "NOT_SPACE" in name:
        return "a"
    if "SPACE" in name:
        return " "
    raise CannotGenerate(f"regex category {name}")


# --------------------------------------------------------------------------- variants


def case_variants(doc: Mapping[str, Any]) -> list[Document]:
    """The document with every string upper-cased, and with every string's case swapped."""
    out = []
    for change in (str.upper, str.swapcase):
        variant = {k: change(v) if isinstance(v, str) else v for k, v in doc.items()}
        if variant != doc:
            out.append(variant)
    return out


def perturbations(doc: Mapping[str, Any]) -> Iterator[Document]:
    """Near misses of `doc`: per field, one character changed, other words around, no field."""
    for name, value in doc.items():
        text = _text(value)
        if text:
            changed = dict(doc)
            changed[name] = _mutate(text)
            yield changed
            wrapped = dict(doc)
            wrapped[name] = f"pre {text} post"
            yield wrapped
        removed = {k: v for k, v in doc.items() if k != name}
        yield removed


def _mutate(text: str) -> str:
    positions = [i for i, c in enumerate(text) if c.isalnum()] or list(range(len(text)))
    at = positions[len(positions) // 2]
    c = text[at]
    other = {"7": "3", "k": "m", "K": "m"}.get(c, "7" if c.isdigit() else "k")
    return text[:at] + other + text[at + 1 :]


def generate(rule: Rule, condition: RuleCondition) -> RuleEvents:
    """Positives, case variants and negatives for one condition of `rule`."""
    tree = condition_tree(rule, condition)
    matches = matcher(tree)
    positives: list[Document] = []
    for filler in FILLERS:
        for path in paths(tree, True):
            doc = document(path, filler)
            if doc not in positives and matches(doc):
                positives.append(doc)
    positives = positives[: MAX_POSITIVES * 2]
    cases: list[Document] = []
    for doc in positives:
        cases.extend(v for v in case_variants(doc) if v not in cases and matches(v))
    negatives: list[Document] = []
    candidates = itertools.chain(
        (document(path, "", base=positives[0]) for path in paths(tree, False) if positives),
        (p for doc in positives for p in perturbations(doc)),
        (v for doc in positives for v in case_variants(doc)),
    )
    for candidate in candidates:
        if len(negatives) >= MAX_NEGATIVES:
            break
        if candidate not in negatives and candidate and not matches(candidate):
            negatives.append(candidate)
    return RuleEvents(rule, condition, tuple(positives), tuple(cases), tuple(negatives))
