"""Word boundaries (``\\b``) rewritten where the characters around them are known (pure).

Lucene's regexes have no ``\\b``. A boundary holds where exactly one of its neighbours is a
word character (``[a-zA-Z0-9_]``; the start and the end of the value count as non-word), so
where both neighbours are known it is decided: always true (it is dropped, exactly) or never
(the alternative holding it is removed). A boundary that ends the pattern after a word
character is left for the translator, which writes it as "the end, or a non-word character
and anything". To get there, a group repeated a fixed number of times is unrolled (each copy
has its own neighbours) and a final group's alternatives are distributed over the pattern
(``p(?:\\.|\\b)`` is ``p\\.|p\\b``). What stays unknown is left as it was, for the translator
to drop with a note. Look-arounds, back-references and inner anchors are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: what may stand on one side of a boundary: a word character, another one, the value's edge
WORD, OTHER, EDGE = "w", "o", "e"
_ANY = frozenset({WORD, OTHER, EDGE})
_WORD_CHAR = re.compile(r"[a-zA-Z0-9_]")
#: unrolled copies of a repeated group at most (the regex grows with each)
_MAX_UNROLL = 8


class _Unsupported(Exception):
    """A construct this rewrite leaves alone (the pattern is then used as written)."""


@dataclass
class _Atom:
    text: str
    kinds: frozenset[str]  # what the one character it matches may be


@dataclass
class _Boundary:
    pass


@dataclass
class _Dead:
    """A part that can match nothing (a boundary that never holds)."""


@dataclass
class _Seq:
    items: list[_Node]


@dataclass
class _Alt:
    options: list[_Node]


@dataclass
class _Repeat:
    item: _Node
    low: int
    high: int  # -1: no bound
    text: str  # the quantifier as written


_Node = _Atom | _Boundary | _Dead | _Seq | _Alt | _Repeat


def resolve(pattern: str) -> str:
    """`pattern` with its word boundaries decided where their neighbours are known."""
    if not re.search(r"(?<!\\)(?:\\\\)*\\b", pattern):
        return pattern
    start, end = pattern.startswith("^"), pattern.endswith("$") and not pattern.endswith("\\$")
    body = pattern[int(start) : len(pattern) - int(end)]
    try:
        tree = _Parser(body).parse()
    except _Unsupported:
        return pattern
    before = frozenset({EDGE}) if start else _ANY
    after = frozenset({EDGE}) if end else _ANY
    tree = _decide(_unroll(tree), before, after)
    if isinstance(tree, _Dead):
        return pattern
    if not end:
        tree = _distribute_tail(tree, before)
    try:
        return ("^" if start else "") + _print(tree) + ("$" if end else "")
    except _Unsupported:
        return pattern


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> _Node:
        node = self.alternation()
        if self.pos != len(self.text):
            raise _Unsupported
        return node

    def alternation(self) -> _Node:
        options = [self.sequence()]
        while self.text[self.pos : self.pos + 1] == "|":
            self.pos += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else _Alt(options)

    def sequence(self) -> _Node:
        items: list[_Node] = []
        while self.pos < len(self.text) and self.text[self.pos] not in "|)":
            items.append(self.quantified(self.atom()))
        return _Seq(items)

    def atom(self) -> _Node:
        text, c = self.text, self.text[self.pos]
        if c == "(":
            if text.startswith("(?:", self.pos):
                self.pos += 3
            elif text.startswith("(?", self.pos):
                raise _Unsupported
            else:
                self.pos += 1
            inner = self.alternation()
            if text[self.pos : self.pos + 1] != ")":
                raise _Unsupported
            self.pos += 1
            return _Seq([inner])
        if c == "[":
            return self.char_class()
        if c == "\\":
            return self.escape()
        if c in "^$*+?{":
            raise _Unsupported
        self.pos += 1
        return _Atom(c, _ANY - {EDGE} if c == "." else _kind(c))

    def escape(self) -> _Node:
        escape = self.text[self.pos : self.pos + 2]
        if len(escape) < 2:
            raise _Unsupported
        self.pos += 2
        n = escape[1]
        if n == "b":
            return _Boundary()
        if n in "BAzZG" or n.isdigit():
            raise _Unsupported
        if n in "dw":
            return _Atom(escape, frozenset({WORD}))
        if n == "s":
            return _Atom(escape, frozenset({OTHER}))
        if n in "DWS":
            return _Atom(escape, frozenset({WORD, OTHER}) if n != "W" else frozenset({OTHER}))
        if n == "x":
            digits = self.text[self.pos : self.pos + 2]
            if not re.fullmatch(r"[0-9a-fA-F]{2}", digits):
                raise _Unsupported
            self.pos += 2
            return _Atom(escape + digits, _kind(chr(int(digits, 16))))
        if n.isalnum() and n not in "tnrf":
            raise _Unsupported
        return _Atom(escape, frozenset({OTHER}) if n in "tnrf" else _kind(n))

    def char_class(self) -> _Node:
        start = self.pos
        i = self.pos + 1
        negated = self.text[i : i + 1] == "^"
        i += int(negated)
        kinds: set[str] = set()
        first = True
        while i < len(self.text) and (self.text[i] != "]" or first):
            first = False
            c = self.text[i]
            if c == "\\":
                n = self.text[i + 1 : i + 2]
                kinds |= {WORD} if n in ("d", "w") else {WORD, OTHER} if n.isalpha() else _kind(n)
                i += 2
            elif self.text[i + 1 : i + 2] == "-" and self.text[i + 2 : i + 3] not in ("]", ""):
                low, high = c, self.text[i + 2]
                span = [chr(x) for x in range(ord(low), ord(high) + 1)]
                kinds |= {WORD if _WORD_CHAR.match(x) else OTHER for x in span}
                i += 3
            else:
                kinds |= _kind(c)
                i += 1
        if i >= len(self.text):
            raise _Unsupported
        self.pos = i + 1
        if negated or not kinds:
            kinds = {WORD, OTHER}
        return _Atom(self.text[start : self.pos], frozenset(kinds))

    def quantified(self, node: _Node) -> _Node:
        match = re.match(r"(?:[*+?]|\{(\d+)(,(\d*))?\})[?+]?", self.text[self.pos :])
        if match is None:
            return node
        self.pos += match.end()
        op = match.group(0)
        if op[0] == "{":
            low = int(match.group(1))
            high = low if match.group(2) is None else int(match.group(3) or -1)
        else:
            low, high = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}[op[0]]
        return _Repeat(node, low, high, op)


def _kind(c: str) -> frozenset[str]:
    return frozenset({WORD}) if _WORD_CHAR.match(c) else frozenset({OTHER})


def _has_boundary(node: _Node) -> bool:
    if isinstance(node, _Boundary):
        return True
    if isinstance(node, _Seq):
        return any(_has_boundary(item) for item in node.items)
    if isinstance(node, _Alt):
        return any(_has_boundary(option) for option in node.options)
    if isinstance(node, _Repeat):
        return _has_boundary(node.item)
    return False


def _unroll(node: _Node) -> _Node:
    """A group with a boundary repeated a fixed number of times, as that many copies."""
    if isinstance(node, _Seq):
        return _Seq([_unroll(item) for item in node.items])
    if isinstance(node, _Alt):
        return _Alt([_unroll(option) for option in node.options])
    if isinstance(node, _Repeat):
        inner = _unroll(node.item)
        if node.low == node.high and node.low <= _MAX_UNROLL and _has_boundary(inner):
            return _Seq([_copy(inner) for _ in range(node.low)])
        return _Repeat(inner, node.low, node.high, node.text)
    return node


def _copy(node: _Node) -> _Node:
    if isinstance(node, _Seq):
        return _Seq([_copy(item) for item in node.items])
    if isinstance(node, _Alt):
        return _Alt([_copy(option) for option in node.options])
    if isinstance(node, _Repeat):
        return _Repeat(_copy(node.item), node.low, node.high, node.text)
    if isinstance(node, _Boundary):
        return _Boundary()
    return node


def _first(node: _Node) -> tuple[frozenset[str], bool]:
    """What the first character `node` matches may be, and whether it may match nothing."""
    if isinstance(node, _Atom):
        return node.kinds, False
    if isinstance(node, (_Boundary, _Dead)):
        return frozenset(), True
    if isinstance(node, _Repeat):
        kinds, empty = _first(node.item)
        return kinds, empty or node.low == 0
    if isinstance(node, _Alt):
        parts = [_first(option) for option in node.options]
        return frozenset().union(*(k for k, _ in parts)), any(e for _, e in parts)
    found: frozenset[str] = frozenset()
    for item in node.items:
        first, empty = _first(item)
        found |= first
        if not empty:
            return found, False
    return found, True


def _last(node: _Node) -> tuple[frozenset[str], bool]:
    """What the last character `node` matches may be, and whether it may match nothing."""
    return _first(_reverse(node))


def _reverse(node: _Node) -> _Node:
    """`node` read backwards (for `_last`: only the kinds at its ends matter)."""
    if isinstance(node, _Seq):
        return _Seq([_reverse(item) for item in reversed(node.items)])
    if isinstance(node, _Alt):
        return _Alt([_reverse(option) for option in node.options])
    if isinstance(node, _Repeat):
        return _Repeat(_reverse(node.item), node.low, node.high, node.text)
    return node


def _decide(node: _Node, before: frozenset[str], after: frozenset[str]) -> _Node:
    """`node` with each boundary whose neighbours (`before`, `after` it) are known decided."""
    if isinstance(node, _Boundary):
        word_before = _side(before)
        word_after = _side(after)
        if word_before is None or word_after is None:
            return node
        return _Seq([]) if word_before != word_after else _Dead()
    if isinstance(node, _Alt):
        options = [_decide(option, before, after) for option in node.options]
        alive: list[_Node] = [option for option in options if not isinstance(option, _Dead)]
        return _Alt(alive) if len(alive) > 1 else alive[0] if alive else _Dead()
    if isinstance(node, _Repeat):
        inner_kinds, _ = _last(node.item)
        first_kinds, _ = _first(node.item)
        again = node.high == -1 or node.high > 1
        inner = _decide(
            node.item,
            before | inner_kinds if again else before,
            after | first_kinds if again else after,
        )
        if isinstance(inner, _Dead):
            return _Seq([]) if node.low == 0 else _Dead()
        return _Repeat(inner, node.low, node.high, node.text)
    if isinstance(node, _Seq):
        items: list[_Node] = []
        for index, item in enumerate(node.items):
            decided = _decide(
                item,
                _context(list(reversed(node.items[:index])), before, _last),
                _context(node.items[index + 1 :], after, _first),
            )
            if isinstance(decided, _Dead):
                return decided
            items.append(decided)
        return _Seq(items)
    return node


def _context(
    items: list[_Node],
    outer: frozenset[str],
    end: Callable[[_Node], tuple[frozenset[str], bool]],
) -> frozenset[str]:
    """What may stand next to the side of `items` given: their ends, then what is outside."""
    kinds: frozenset[str] = frozenset()
    for item in items:
        more, empty = end(item)
        kinds |= more
        if not empty:
            return kinds
    return kinds | outer


def _side(kinds: frozenset[str]) -> bool | None:
    """True: a word character; False: not one (or the edge); None: either."""
    if not kinds:
        return None
    if kinds == {WORD}:
        return True
    if WORD not in kinds:
        return False
    return None


def _distribute_tail(tree: _Node, before: frozenset[str]) -> _Node:
    """``p(?:a|\\b)`` as ``p(?:a)|p\\b``: a boundary ending the pattern, for the translator.

    Only where the boundary follows a word character: the translator writes a final ``\\b``
    as "the end, or a non-word character and anything", which is that case.
    """
    items = _flatten(tree)
    if not items:
        return tree
    last = items[-1]
    if not isinstance(last, _Alt):
        return tree
    ends = [o for o in last.options if _flatten(o) == [_Boundary()]]
    if len(ends) != 1:
        return tree
    if _side(_context(list(reversed(items[:-1])), before, _last)) is not True:
        return tree
    head = items[:-1]
    others = [o for o in last.options if o is not ends[0]]
    rest: _Node = others[0] if len(others) == 1 else _Alt(others)
    return _Alt([_Seq([*head, rest]), _Seq([*head, _Boundary()])])


def _flatten(node: _Node) -> list[_Node]:
    """The items of `node` read as one sequence (groups without quantifiers opened)."""
    if isinstance(node, _Seq):
        return [flat for item in node.items for flat in _flatten(item)]
    if isinstance(node, _Alt) and len(node.options) == 1:
        return _flatten(node.options[0])
    return [node]


def _print(node: _Node, top: bool = True) -> str:
    if isinstance(node, _Atom):
        return node.text
    if isinstance(node, _Boundary):
        return "\\b"
    if isinstance(node, _Dead):
        raise _Unsupported
    if isinstance(node, _Repeat):
        return _group(node.item) + node.text
    if isinstance(node, _Alt):
        text = "|".join(_print(option, top=False) for option in node.options)
        return text if top else f"(?:{text})"
    return "".join(_print(item, top=False) for item in node.items)


def _group(node: _Node) -> str:
    """`node` as one quantifiable unit."""
    if isinstance(node, _Atom):
        return node.text
    text = _print(node, top=False)
    return text if isinstance(node, _Alt) else f"(?:{text})"
