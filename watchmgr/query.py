"""The ``sigmac`` query dialect: a Sigma rule's condition as the query_string text of sigmac (2020).

Why this is not a pySigma ``TextQueryBackend``: the 2020 text is shaped by sigmac's condition
optimizer (it strips all groups, folds ``OR(X)`` to ``X``, removes repeats, flattens nested
ANDs/ORs, factors terms common to every branch out of an OR, and then puts parentheses around
every AND and OR again, leaving whatever stands under a NOT as written) and by the field-level
choice between ``F.keyword`` with bare wildcards and ``F`` with a quoted phrase. A token table
cannot say either, so this module rebuilds sigmac's tree from pySigma's parsed rule (pySigma does
all the parsing, modifiers and pipelines), runs the same optimizations and prints it.

Where the 2020 output was wrong, the ``sigmac`` dialect is right instead (each case is in the
README's deviation table): ``<``/``>`` are kept instead of deleted, a literal backslash before a
modifier-added ``*`` stays a backslash, a lone keyword with wildcards that 2020 quoted is
searched on ``\\*.keyword`` like a keyword list, and regular expressions are translated to
Lucene syntax on the keyword field. The ``sigmac-2020`` dialect keeps the mistakes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from watchmgr.errors import RuleError
from watchmgr.rules import Rule, RuleCondition, rule_error

# --------------------------------------------------------------------------- the legacy tree

WILD_MULTI = "\x00*"  # marker parts inside Text.parts: a wildcard, not the literal character
WILD_SINGLE = "\x00?"


@dataclass(frozen=True, slots=True)
class Text:
    """A string value: plain parts and wildcard markers.

    `raw` is the string sigmac 2020 would have seen (the rule's text with ``*`` glued on by
    contains/startswith/endswith), kept only for the sigmac-2020 dialect.
    """

    parts: tuple[str, ...]
    raw: str | None = None

    @property
    def has_wildcard(self) -> bool:
        return any(p in (WILD_MULTI, WILD_SINGLE) for p in self.parts)


@dataclass(frozen=True, slots=True)
class Number:
    text: str


@dataclass(frozen=True, slots=True)
class ValueList:
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Null:
    pass


@dataclass(frozen=True, slots=True)
class Exists:
    exists: bool


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: str  # as written in the rule (PCRE-style, unanchored)
    ignore_case: bool = False


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # > >= < <=
    number: str


@dataclass(frozen=True, slots=True)
class Cidr:
    network: str


@dataclass(frozen=True, slots=True)
class Cased:
    text: Text


Value = Union[Text, Number, ValueList, Null, Exists, Regex, Compare, Cidr, Cased]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Term:
    """``field: value`` (sigmac's map-item tuple; equal terms compare equal)."""

    field: str
    value: Value


class And:
    """AND of items; compared by identity, as sigmac's condition nodes were."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Node]) -> None:
        self.items: list[Node] = list(items)


class Or(And):
    __slots__ = ()


class Not:
    __slots__ = ("item",)

    def __init__(self, item: Node) -> None:
        self.item = item


class Group:
    """Parentheses (sigmac's NodeSubexpression)."""

    __slots__ = ("item",)

    def __init__(self, item: Node) -> None:
        self.item = item


Node = Union[And, Not, Group, Term, Text, Number]  # noqa: UP007
Leaf = (Term, Text, Number)

# --------------------------------------------------------------------------- the optimizer


def optimize(tree: Node) -> Node:
    """sigmac's condition optimizer: strip groups, rewrite to a fixpoint, regroup ANDs and ORs.

    Rewrites (none looks below a NOT): drop empty and None children; ``OR(X)`` → ``X``; drop
    repeated children; ``OR(X, OR(Y))`` → ``OR(X, Y)`` when every child is a term or of the same
    kind; ``OR(AND(X, A), AND(X, B))`` → ``AND(X, OR(AND(A), AND(B)))`` (and the dual);
    ``NOT(NOT(X))`` → ``X``.
    """
    stripped = _strip(tree)
    changed = True
    result: Node | None = stripped
    while changed and result is not None:
        result, changed = _rewrite(result)
    if result is None:
        raise ValueError("empty condition")
    return _regroup(result)


def _strip(node: Node) -> Node:
    if isinstance(node, Group):
        return _strip(node.item)
    if isinstance(node, And):
        node.items = [_strip(item) for item in node.items]
    return node


def _regroup(node: Node) -> Node:
    if isinstance(node, And):
        node.items = [_regroup(item) for item in node.items]
        return Group(node)
    return node


def _contains(node: And, candidate: Node) -> bool:
    return any(_same(item, candidate) for item in node.items)


def _remove(node: And, candidate: Node) -> None:
    for index, item in enumerate(node.items):
        if _same(item, candidate):
            del node.items[index]
            return


def _rewrite(node: Node) -> tuple[Node | None, bool]:
    if isinstance(node, And):
        if not node.items:
            return None, True
        if any(item is None for item in node.items):
            node.items = [item for item in node.items if item is not None]
            return _rewrite(node)[0], True
        if len(node.items) == 1:
            return _rewrite(node.items[0])[0], True
        unique: list[Node] = []
        for item in node.items:
            if not any(_same(item, seen) for seen in unique):
                unique.append(item)
        if len(unique) < len(node.items):
            node.items = unique
            return _rewrite(node)[0], True
        kind = type(node)
        if any(type(item) is kind for item in node.items) and all(
            type(item) is kind or isinstance(item, Term) for item in node.items
        ):
            flat: list[Node] = []
            for item in node.items:
                flat.extend(item.items if isinstance(item, And) else [item])
            node.items = flat
            return _rewrite(node)[0], True
        other = And if kind is Or else Or
        if all(type(item) is other for item in node.items):
            first = node.items[0]
            assert isinstance(first, And)
            common = [
                cand
                for cand in first.items
                if all(_contains(child, cand) for child in node.items[1:] if isinstance(child, And))
            ]
            if common:
                for child in node.items:
                    assert isinstance(child, And)
                    for cand in common:
                        _remove(child, cand)
                return _rewrite(other([*common, node]))[0], True
        results = [_rewrite(item) for item in node.items]
        node.items = [item for item, _ in results]  # type: ignore[misc]
        return node, any(changed for _, changed in results)
    if isinstance(node, Not):
        if isinstance(node.item, Not):
            return _rewrite(node.item.item)[0], True
        inner, changed = _rewrite(node.item)
        if inner is not None:
            node.item = inner
        return node, changed
    return node, False


def _same(a: Node, b: Node) -> bool:
    """sigmac's equality: terms and values by value, AND/OR/NOT/groups by identity."""
    return a is b or (isinstance(a, Leaf) and isinstance(b, Leaf) and a == b)


# --------------------------------------------------------------------------- from pySigma


class _Builder:
    """Rebuild sigmac's parse tree for one condition of a loaded rule."""

    def __init__(self, rule: Rule, legacy: bool = False) -> None:
        self.rule = rule
        self.legacy = legacy
        self.detections = rule.sigma.detection.detections
        self.not_parens: list[bool] = []

    def condition(self, condition: RuleCondition) -> Node:
        parsed = _parse_tree(self.rule, condition.index)
        # pySigma's tree does not keep parentheses, and below a NOT they shape sigmac's text:
        # whether each `not` (in text order, which is the tree's left-to-right order) was
        # followed by one.
        self.not_parens = [m.group(1) is not None for m in _NOT_TOKEN.finditer(condition.search)]
        return self.node(parsed)

    def node(self, cond: Any) -> Node:
        from sigma.conditions import (
            ConditionAND,
            ConditionIdentifier,
            ConditionNOT,
            ConditionOR,
            ConditionSelector,
        )

        if isinstance(cond, ConditionIdentifier):
            return Group(self.definition(cond.identifier))
        if isinstance(cond, ConditionSelector):
            return self.selector(cond)
        if isinstance(cond, ConditionNOT):
            parenthesized = self.not_parens.pop(0) if self.not_parens else False
            inner = cond.args[0]
            built = self.node(inner)
            if parenthesized or isinstance(inner, (ConditionAND, ConditionOR)):
                # sigmac optimized a parenthesized group on its own and kept its parentheses.
                built = Group(optimize(built))
            return Not(built)
        if isinstance(cond, (ConditionAND, ConditionOR)):
            kind: type[And] = And if isinstance(cond, ConditionAND) else Or
            args = [
                # A nested AND/OR came from parentheses in the rule: optimized on its own first.
                Group(optimize(self.node(arg)))
                if isinstance(arg, (ConditionAND, ConditionOR))
                else self.node(arg)
                for arg in cond.args
            ]
            # sigmac reduced `a and b and c` pairwise from the left.
            tree: Node = args[0]
            for arg in args[1:]:
                tree = kind([tree, arg])
            return tree
        raise RuleError(f"unexpected condition element {type(cond).__name__}", self.rule.location)

    def selector(self, cond: Any) -> Node:
        from sigma.conditions import ConditionAND

        kind: type[And] = And if cond.cond_class is ConditionAND else Or
        pattern = cond.pattern
        if pattern != "them" and "*" not in pattern:
            return Group(self.definition(pattern, kind))
        names = [
            ident.identifier
            for ident in cond.resolve_referenced_detections(self.rule.sigma.detection)
        ]
        if not names:
            raise RuleError(
                f"'{cond.args[0]} of {pattern}' matches no search identifier",
                self.rule.locate(r"^\s*condition:"),
            )
        return Group(kind([Group(self.definition(name)) for name in names]))

    def definition(self, name: str, override: type[And] | None = None) -> Node:
        detection = self.detections.get(name)
        if detection is None:
            raise RuleError(
                f"condition names search identifier {name!r}, "
                "which is not defined under 'detection'",
                self.rule.locate(rf"^\s*condition:.*\b{re.escape(name)}\b"),
            )
        return self.detection(detection, override)

    def detection(self, detection: Any, override: type[And] | None = None) -> Node:
        from sigma.conditions import ConditionAND
        from sigma.rule import SigmaDetection

        items = detection.detection_items
        if len(items) == 1 and not isinstance(items[0], SigmaDetection) and items[0].field is None:
            return self.keywords(items[0], override)
        linking: type[And] = And if detection.item_linking is ConditionAND else Or
        if override is not None and linking is Or:
            linking = override
        built: list[Node] = []
        for item in items:
            if isinstance(item, SigmaDetection):
                built.append(self.detection(item))
            elif item.field is None:
                built.append(self.keywords(item))
            else:
                built.append(self.item(item))
        return linking(built)

    def keywords(self, item: Any, override: type[And] | None = None) -> Node:
        from sigma.conditions import ConditionAND

        kind: type[And] = And if item.value_linking is ConditionAND else (override or Or)
        values = self.item_values(item)
        node: Node = kind([v for v in values if isinstance(v, (Text, Number))])
        if any(not isinstance(v, (Text, Number)) for v in values):
            raise RuleError(
                "keyword searches (values without a field) must be plain strings or numbers",
                self.rule.locate(r"^\s*-|^\s*\S"),
            )
        return Not(node) if item.negated else node

    def item(self, item: Any) -> Node:
        from sigma.conditions import ConditionAND

        field = str(item.field)
        values = self.item_values(item)
        node: Node
        if not values:
            node = Term(field, Null())
        elif item.value_linking is ConditionAND and len(values) > 1:
            node = And([Term(field, v) for v in values])
        elif len(values) > 1 and not _listable(values):
            node = Or([Term(field, v) for v in values])
        elif len(values) > 1 or (id(item) in self.rule.list_valued and _listable(values)):
            node = Term(field, ValueList(tuple(values)))
        else:
            node = Term(field, values[0])
        return Not(node) if item.negated else node

    def item_values(self, item: Any) -> list[Value]:
        values = [v for value in item.value for v in self.values(value)]
        legacy = _legacy_raws(item) if self.legacy else None
        if legacy is not None and len(legacy) == len(values):
            values = [
                Text(v.parts, raw) if isinstance(v, Text) else v
                for v, raw in zip(values, legacy, strict=True)
            ]
        return values

    def values(self, value: Any) -> list[Value]:
        from sigma import types as st

        if isinstance(value, st.SigmaExpansion):
            return [v for inner in value.values for v in self.values(inner)]
        if isinstance(value, st.SigmaCasedString):
            return [Cased(self.text(value))]
        if isinstance(value, st.SigmaString):
            return [self.text(value)]
        if isinstance(value, st.SigmaBool):
            return [Text(("true" if value.boolean else "false",))]
        if isinstance(value, st.SigmaNumber):
            return [Number(str(value.number))]
        if isinstance(value, st.SigmaNull):
            return [Null()]
        if isinstance(value, st.SigmaExists):
            return [Exists(bool(value.exists))]
        if isinstance(value, st.SigmaRegularExpression):
            flags = {flag.name for flag in value.flags}
            return [Regex(value.regexp.to_plain_regex(), ignore_case="IGNORECASE" in flags)]
        if isinstance(value, st.SigmaCompareExpression):
            ops = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
            return [Compare(ops[value.op.name], str(value.number.number))]
        if isinstance(value, st.SigmaCIDRExpression):
            return [Cidr(str(value.network))]
        if isinstance(value, st.SigmaFieldReference):
            raise RuleError(
                "modifier 'fieldref' cannot be expressed in query_string "
                "(it compares two fields of one event)",
                self.rule.locate(r"\|fieldref"),
            )
        name = type(value).__name__.removeprefix("Sigma")
        raise RuleError(
            f"a {name} value cannot be expressed in query_string", self.rule.locate(r"^detection:")
        )

    def text(self, value: Any) -> Text:
        from sigma.types import Placeholder, SpecialChars

        parts: list[str] = []
        for part in value.s:
            if isinstance(part, str):
                parts.append(part)
            elif part is SpecialChars.WILDCARD_MULTI:
                parts.append(WILD_MULTI)
            elif part is SpecialChars.WILDCARD_SINGLE:
                parts.append(WILD_SINGLE)
            elif isinstance(part, Placeholder):
                raise RuleError(
                    f"placeholder %{part.name}% has no value "
                    "(give it values under mapping.placeholders in the environment file)",
                    self.rule.locate(rf"%{re.escape(part.name)}%|\|expand"),
                )
        return Text(tuple(parts))


#: Parse trees by condition text. The builder only reads them, and rule sets repeat a few
#: conditions thousands of times ("selection", "selection and not filter"), so each text is
#: parsed (and copied by pySigma) once per process.
_PARSED: dict[str, Any] = {}


def _parse_tree(rule: Rule, index: int) -> Any:
    condition = rule.sigma.detection.parsed_condition[index]
    tree = _PARSED.get(condition.condition)
    if tree is None:
        try:
            tree = condition.parse(postprocess=False)
        except Exception as err:  # pySigma's condition errors, with the rule's line
            raise rule_error(err, rule.locate) from err
        if len(_PARSED) < 4096:
            _PARSED[condition.condition] = tree
    return tree


_NOT_TOKEN = re.compile(r"\bnot\b\s*(\()?", re.IGNORECASE)


_LEGACY_MODIFIERS = {
    "contains": (True, True),
    "startswith": (False, True),
    "endswith": (True, False),
}


def _legacy_raws(item: Any) -> list[str | None] | None:
    """What sigmac 2020 saw for each value of `item`, when only string modifiers apply."""
    from sigma.modifiers import reverse_modifier_mapping
    from sigma.types import SigmaString

    names = [reverse_modifier_mapping.get(m.__name__, "?") for m in item.modifiers]
    if any(name not in _LEGACY_MODIFIERS and name != "all" for name in names):
        return None
    raws: list[str | None] = []
    for original in item.original_value or ():
        if not isinstance(original, SigmaString):
            raws.append(None)
            continue
        raw = original.original
        for name in names:
            before, after = _LEGACY_MODIFIERS.get(name, (False, False))
            if before and not raw.startswith("*"):
                raw = "*" + raw
            if after and not raw.endswith("*"):
                raw += "*"
        raws.append(raw)
    return raws


def _listable(values: Sequence[Value]) -> bool:
    return all(isinstance(v, (Text, Number, Cased, Cidr)) for v in values)


# --------------------------------------------------------------------------- regex translation

_PCRE_CLASSES = {"d": "0-9", "w": "a-zA-Z0-9_", "s": " \\t\\n\\r\\f"}
_PCRE_NEGATED = {"D": "d", "W": "w", "S": "s"}
#: Characters that are operators in Lucene's regex syntax but literals in PCRE.
_LUCENE_ONLY_OPERATORS = '@&<>~#"'


class UnsupportedRegex(ValueError):
    """A regular expression construct that Lucene's regex syntax cannot express."""


def to_lucene_regex(pattern: str, ignore_case: bool = False, notes: list[str] | None = None) -> str:
    """Translate a Sigma (PCRE-style, unanchored) regex to a Lucene regex for a keyword field.

    Lucene regexes match the whole value, so an unanchored pattern gets ``.*`` at its ends;
    ``^``/``$`` anchors (also at the start of a leading group's alternatives) and ``\\b`` at
    either end become the matching prefix/suffix; leading inline flags (``(?i)``) are applied.
    Raises UnsupportedRegex for what Lucene cannot express; what it can only approximate
    (by matching more, never less) is described in `notes`.
    """
    flags = re.match(r"\(\?([imsx]+)\)", pattern)
    if flags:
        if "x" in flags.group(1):
            raise UnsupportedRegex("the verbose flag (?x)")
        ignore_case = ignore_case or "i" in flags.group(1)
        pattern = pattern[flags.end() :]
    return _whole(pattern, ignore_case, [] if notes is None else notes)


def _whole(pattern: str, ignore_case: bool, notes: list[str]) -> str:
    """`pattern` with search semantics as a whole-value Lucene regex."""
    alternatives = _split_alternatives(pattern)
    if len(alternatives) > 1:
        return "|".join(f"({_whole(alt, ignore_case, notes)})" for alt in alternatives)
    inner = _sole_group(pattern)
    if inner is not None and (_split_alternatives(inner)[0] != inner or inner[:1] in ("^", "\\")):
        return _whole(inner, ignore_case, notes)
    prefix, pattern = _start_of(pattern)
    suffix, pattern = _end_of(pattern)
    leading = _leading_anchored_group(pattern)
    if leading is not None and prefix == ".*":
        group, rest = leading
        inner_alts = "|".join(
            (_translate(alt[1:], ignore_case, notes) or "()")
            if alt.startswith("^")
            else ".*" + _translate(alt, ignore_case, notes)
            for alt in group
        )
        return f"({inner_alts}){_translate(rest, ignore_case, notes)}{suffix}"
    return f"{prefix}({_translate(pattern, ignore_case, notes)}){suffix}"


def _scan(pattern: str) -> list[tuple[int, str, int]]:
    """(index, character, depth before it) of each `(`, `)` and `|` outside classes/escapes."""
    marks: list[tuple[int, str, int]] = []
    depth, i = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            close = pattern.find("]", i + (3 if pattern[i + 1 : i + 2] == "^" else 2))
            if close < 0:
                raise UnsupportedRegex("unterminated character class")
            i = close + 1
            continue
        if c in "()|":
            marks.append((i, c, depth))
            depth += 1 if c == "(" else -1 if c == ")" else 0
        i += 1
    return marks


def _split_alternatives(pattern: str) -> list[str]:
    cuts = [i for i, c, depth in _scan(pattern) if c == "|" and depth == 0]
    bounds = [-1, *cuts, len(pattern)]
    return [pattern[a + 1 : b] for a, b in itertools.pairwise(bounds)]


def _leading_group(pattern: str) -> tuple[str, int] | None:
    """The inside (``?:`` dropped) of the group `pattern` starts with, and where its ``)`` is."""
    if not pattern.startswith("("):
        return None
    closing = [i for i, c, depth in _scan(pattern) if c == ")" and depth == 1]
    if not closing:
        return None
    return pattern[1 : closing[0]].removeprefix("?:"), closing[0]


def _sole_group(pattern: str) -> str | None:
    """The inside of `pattern` when it is one (unquantified) group, else None."""
    group = _leading_group(pattern) if pattern.endswith(")") else None
    if group is None or group[1] != len(pattern) - 1:
        return None
    return group[0]


_WORD = "[a-zA-Z0-9_]"
_NOT_WORD = "[^a-zA-Z0-9_]"


def _start_of(pattern: str) -> tuple[str, str]:
    if pattern.startswith("^"):
        return "", pattern[1:]
    if pattern.startswith("\\b"):
        return f"(.*{_NOT_WORD})?", pattern[2:]
    return ".*", pattern


def _end_of(pattern: str) -> tuple[str, str]:
    escaped_tail = len(pattern) - len(pattern.rstrip("\\"))
    if pattern.endswith("$") and (len(pattern) - 1 - len(pattern[:-1].rstrip("\\"))) % 2 == 0:
        return "", pattern[:-1]
    if pattern.endswith("\\b") and escaped_tail == 0 and not pattern.endswith("\\\\b"):
        return f"({_NOT_WORD}.*)?", pattern[:-2]
    return ".*", pattern


def _leading_anchored_group(pattern: str) -> tuple[list[str], str] | None:
    """``(^a|b)rest`` as (["^a", "b"], "rest") when a leading group has an anchored alternative."""
    group = _leading_group(pattern)
    if group is None:
        return None
    inner, close = group
    alternatives = _split_alternatives(inner)
    if not any(alt.startswith("^") for alt in alternatives):
        return None
    return alternatives, pattern[close + 1 :]


def _translate(body: str, ignore_case: bool, notes: list[str]) -> str:
    """A PCRE fragment in Lucene regex syntax (no anchors left to handle)."""
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body):
                raise UnsupportedRegex("pattern ends with a lone backslash")
            n = body[i + 1]
            i += 2
            if n in _PCRE_CLASSES:
                out.append(_PCRE_CLASSES[n] if in_class else f"[{_PCRE_CLASSES[n]}]")
            elif n in _PCRE_NEGATED:
                if in_class:
                    raise UnsupportedRegex(f"'\\{n}' inside a character class")
                out.append(f"[^{_PCRE_CLASSES[_PCRE_NEGATED[n]]}]")
            elif n in "bB":
                # Lucene has no word boundary; dropping it can only widen the match.
                notes.append(f"'\\{n}' inside the pattern is dropped (the watch may match more)")
            elif n in "AzZG" or (n.isdigit() and n != "0"):
                raise UnsupportedRegex(f"'\\{n}' (anchors, word boundaries and back-references)")
            elif n == "t":
                out.append("\\t")
            elif n in "nrf":
                out.append({"n": "\n", "r": "\r", "f": "\f"}[n])
            elif n == "x" and re.match(r"[0-9a-fA-F]{2}", body[i : i + 2]):
                out.append(_literal(chr(int(body[i : i + 2], 16))))
                i += 2
            else:
                out.append(_literal(n))
            continue
        if in_class:
            if c == "]":
                in_class = False
                out.append(c)
            elif (
                ignore_case
                and c.isalpha()
                and body[i + 1 : i + 2] == "-"
                and body[i + 2 : i + 3].isalpha()
            ):
                low, high = c, body[i + 2]
                out.append(f"{low.lower()}-{high.lower()}{low.upper()}-{high.upper()}")
                i += 3
                continue
            elif ignore_case and c.isalpha():
                out.append(c.lower() + c.upper() if c.lower() != c.upper() else c)
            elif c in _LUCENE_ONLY_OPERATORS or c in "[/":
                out.append("\\" + c)
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            if body[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if body[i + 1 : i + 2] == "]":
                out.append("\\]")
                i += 1
            i += 1
            continue
        if c == "(" and body[i + 1 : i + 2] == "?":
            if body[i + 2 : i + 3] == ":":
                out.append("(")
                i += 3
                continue
            raise UnsupportedRegex("look-around, named or inline-flag groups")
        if c in "*+?}" and body[i + 1 : i + 2] in ("?", "+"):
            # Lazy and possessive quantifiers match the same values as greedy ones.
            out.append(c)
            i += 2
            continue
        if c in "^$":
            raise UnsupportedRegex(f"'{c}' in the middle of the pattern")
        if c == ".":
            out.append(".")
        elif ignore_case and c.isalpha() and c.lower() != c.upper():
            out.append(f"[{c.lower()}{c.upper()}]")
        elif c in _LUCENE_ONLY_OPERATORS or c == "/":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    if in_class:
        raise UnsupportedRegex("unterminated character class")
    return "".join(out)


def _literal(c: str) -> str:
    if c.isalnum() or c in " _-,:;'=!%":
        return c
    return "\\" + c


# --------------------------------------------------------------------------- printing


class SigmacDialect:
    """Print the legacy tree as query_string text in sigmac's dialect.

    The tokens are the dialect; the methods only walk the tree. Each term chooses between
    ``F.keyword`` with bare wildcards (any wildcard in its values) and ``F`` with quoted
    phrases; a keyword value standing alone inherits that choice from the term printed before
    it (sigmac kept it as state). With `legacy` the 2020 mistakes are reproduced too (the
    ``sigmac-2020`` dialect, for adopting watches sigmac deployed without a diff).
    """

    and_token = " AND "
    or_token = " OR "
    not_format = "(NOT {})"
    group_format = "({})"
    list_format = "({})"
    list_separator = " OR "
    term_format = "{}:{}"
    #: the exact-value sub-field of a text field (ES's default dynamic mapping); "" where the
    #: fields are keyword-typed already (ECS). Unbound keywords search ``\*`` + it.
    keyword_suffix = ".keyword"
    null_format = "NOT _exists_:{}"
    exists_format = "_exists_:{}"
    empty_value = '""'
    #: Lucene specials sigmac escaped, and `<`, `>` (2020 deleted those, changing the value).
    escape_chars = frozenset(' \t\n\r\f\v+-=!(){}[]^"~:/<>')

    def __init__(self, legacy: bool = False, keyword_suffix: str = ".keyword") -> None:
        self.legacy = legacy
        self.keyword_suffix = keyword_suffix
        self.keyword_state = True  # sigmac's initial state
        self.notes: list[str] = []  # approximations made, for warnings

    def render(self, node: Node) -> str:
        text = self.node(node)
        if text is None:
            raise ValueError("empty query")
        return text

    def node(self, node: Node) -> str | None:
        if isinstance(node, Group):
            return self.group(node)
        if isinstance(node, Not):
            inner = self.node(node.item)
            return self.not_format.format(inner) if inner else None
        if isinstance(node, And):
            token = self.or_token if isinstance(node, Or) else self.and_token
            parts = [p for p in (self.node(item) for item in node.items) if p is not None]
            return token.join(parts) if parts else None
        if isinstance(node, Term):
            return self.term(node)
        if (
            not self.legacy
            and not self.keyword_state
            and isinstance(node, Text)
            and node.has_wildcard
        ):
            # 2020 quoted a lone keyword when the term before it was quoted, which turned
            # its wildcards into a phrase that cannot match inside a longer token.
            return self.keyword_group(Or([node]))
        return self.value(node, self.keyword_state)

    def group(self, node: Group) -> str | None:
        inner = node.item
        if (
            isinstance(inner, And)
            and inner.items
            and all(isinstance(i, (Text, Number)) for i in inner.items)
        ):
            return self.keyword_group(inner)
        text = self.node(inner)
        return self.group_format.format(text) if text else None

    def keyword_group(self, node: And) -> str:
        token = self.or_token if isinstance(node, Or) else self.and_token
        values = [self.value(_surround(item), keyword=True) for item in node.items]
        self.keyword_state = False
        field = "\\*" + self.keyword_suffix
        return field + ":" + self.group_format.format(token.join(values))

    def term(self, term: Term) -> str:
        value = term.value
        field = _escape_field(term.field)
        keyword = self.wants_keyword(value)
        self.keyword_state = keyword
        if isinstance(value, Null):
            return self.null_format.format(field)
        if isinstance(value, Exists):
            return (self.exists_format if value.exists else self.null_format).format(field)
        if isinstance(value, Regex):
            if self.legacy:
                return self.term_format.format(field, f"/{value.pattern}/")
            # A regex matches a whole value: on the exact sub-field, unanchored like Sigma's.
            lucene = to_lucene_regex(value.pattern, value.ignore_case, self.notes)
            return self.term_format.format(field + self.keyword_suffix, f"/{lucene}/")
        if isinstance(value, Compare):
            return self.term_format.format(field, value.op + value.number)
        if keyword:
            field += self.keyword_suffix
        if isinstance(value, ValueList):
            rendered = self.list_separator.join(self.value(v, keyword) for v in value.values)
            return self.term_format.format(field, self.list_format.format(rendered))
        return self.term_format.format(field, self.value(value, keyword))

    def wants_keyword(self, value: Value) -> bool:
        if isinstance(value, Text):
            if self.legacy:
                return _LEGACY_WILDCARD.search(_legacy_raw(value)) is not None
            return value.has_wildcard
        if isinstance(value, Cased):
            return True  # keyword sub-fields compare case-sensitively
        if isinstance(value, ValueList):
            return any(self.wants_keyword(v) for v in value.values)
        return False

    def value(self, value: Node | Value, keyword: bool) -> str:
        if isinstance(value, Cased):
            return self.value(value.text, keyword)
        if isinstance(value, Number):
            return value.text if keyword else f'"{value.text}"'
        if isinstance(value, Cidr):
            return self.escape(value.network)
        if isinstance(value, Text):
            if self.legacy:
                escaped = _legacy_escape(_legacy_raw(value))
                if not escaped or escaped.isspace():
                    return self.empty_value
            else:
                escaped = "".join(self.part(p) for p in value.parts)
                if not escaped:
                    return self.empty_value
            return escaped if keyword else f'"{escaped}"'
        raise ValueError(f"{type(value).__name__} inside a value list")

    def part(self, part: str) -> str:
        if part == WILD_MULTI:
            return "*"
        if part == WILD_SINGLE:
            return "?"
        return self.escape(part)

    def escape(self, text: str) -> str:
        escaped = text.translate(_ESCAPES)
        if "&&" in text or "||" in text:
            # `&&` and `||` are operators; escaping their first character breaks them.
            escaped = _DOUBLE_OPERATOR.sub(lambda m: "\\" + m.group(0), escaped)
        return escaped


_ESCAPES = str.maketrans({c: "\\" + c for c in SigmacDialect.escape_chars | set("\\*?")})
_DOUBLE_OPERATOR = re.compile(r"&&|\|\|")


def _legacy_raw(value: Text) -> str:
    """The string sigmac 2020 saw: modifiers glued ``*`` to the raw text, escapes and all."""
    if value.raw is not None:
        return value.raw
    out: list[str] = []
    for part in value.parts:
        if part == WILD_MULTI:
            out.append("*")
        elif part == WILD_SINGLE:
            out.append("?")
        else:
            out.append(part.replace("*", "\\*").replace("?", "\\?"))
    return "".join(out)


#: sigmac 2020: a wildcard is a `*`/`?` not preceded by a backslash, or preceded by two.
_LEGACY_WILDCARD = re.compile(r"(?:(?<!\\)|\\\\)[*?]")
#: sigmac 2020's escaping: Lucene specials, and a backslash unless it escapes `*`, `?` or `\`.
_LEGACY_ESCAPE = re.compile(r'([\s+\-=!(){}\[\]^"~:/]|(?<!\\)\\(?![*?\\])|\\u|&&|\|\|)')


def _legacy_escape(raw: str) -> str:
    return _LEGACY_ESCAPE.sub(r"\\\1", raw).replace("<", "").replace(">", "")


def _surround(value: Node) -> Value:
    """A keyword value as sigmac searched it: with ``*`` on both ends (numbers as they are)."""
    if isinstance(value, Text):
        parts = list(value.parts)
        if not parts or parts[0] != WILD_MULTI:
            parts.insert(0, WILD_MULTI)
        if parts[-1] != WILD_MULTI:
            parts.append(WILD_MULTI)
        raw = value.raw
        if raw is not None:
            raw = ("" if raw.startswith("*") else "*") + raw + ("" if raw.endswith("*") else "*")
        return Text(tuple(parts), raw)
    assert isinstance(value, Number)
    return value


_FIELD_SPECIALS = re.compile(r"([\s+\-=!(){}\[\]^\"~:/\\<>&|])")


def _escape_field(name: str) -> str:
    return _FIELD_SPECIALS.sub(r"\\\1", name)


# --------------------------------------------------------------------------- the public face


@dataclass(frozen=True, slots=True)
class Query:
    """A rendered query and the approximations it had to make (for warnings)."""

    text: str
    notes: tuple[str, ...] = ()


def render(
    rule: Rule, condition: RuleCondition, dialect: str = "sigmac", keyword_suffix: str = ".keyword"
) -> Query:
    """The query_string text of one condition of `rule` in the named dialect (`DIALECTS`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown query dialect {dialect!r}")
    legacy = dialect == "sigmac-2020"
    tree = optimize(_Builder(rule, legacy).condition(condition))
    printer = SigmacDialect(legacy=legacy, keyword_suffix=keyword_suffix)
    try:
        text = printer.render(tree)
    except UnsupportedRegex as err:
        raise RuleError(
            f"regular expression cannot be expressed in Lucene syntax: {err}",
            rule.locate(r"\|re\b"),
        ) from err
    except ValueError as err:
        raise RuleError(
            f"cannot express the condition in query_string: {err}", rule.location
        ) from err
    return Query(text, tuple(dict.fromkeys(printer.notes)))


#: The dialects: `sigmac` is sigmac 2020's text with its mistakes put right; `sigmac-2020`
#: keeps the mistakes, byte for byte, to adopt watches that sigmac deployed.
DIALECTS = ("sigmac", "sigmac-2020")
