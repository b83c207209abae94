"""The condition tree the dialects print, and sigmac's optimizer over it.

The tree is sigmac's: terms and values compare by value, AND/OR/NOT/groups by identity, and
the optimizer's rewrites are sigmac's, so that the ``sigmac`` dialects print the text sigmac
printed (its parenthesization comes from them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Union

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


def clause_counts(node: Node) -> tuple[int, int]:
    """(clauses, patterns with a leading wildcard) of the query the tree prints.

    A clause is one value searched in one field (what Lucene's clause limit counts); a leading
    wildcard makes Lucene build an automaton and scan every term of the field, per search.
    """
    if isinstance(node, (Group, Not)):
        return clause_counts(node.item)
    if isinstance(node, And):
        counts = [clause_counts(item) for item in node.items]
        return sum(c for c, _ in counts), sum(p for _, p in counts)
    value: object = node.value if isinstance(node, Term) else node
    values = value.values if isinstance(value, ValueList) else (value,)
    leading = 0
    for item in values:
        text = item.text if isinstance(item, Cased) else item
        if isinstance(text, Text) and text.parts[:1] == (WILD_MULTI,):
            leading += 1
    return len(values), leading
