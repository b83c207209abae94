"""What Elasticsearch would refuse at search time, found at render time (pure).

A watch whose query ES cannot run fails at every trigger, and nobody sees it. ES refuses a
regex that Lucene's ``RegExp`` cannot parse, one whose automaton has more than 10,000 states
once determinized, one longer than ``index.max_regex_length`` (1,000), and a query with more
clauses than the search allows. This module reads regexes as Lucene's ``RegExp`` does (its
grammar with ES's flags: ``&`` intersection, ``~`` complement, ``#`` empty, ``@`` any string,
``<n-m>`` intervals, and the ``\\d \\s \\w`` classes) and determinizes them by subset
construction, stopping at the limit. The tests hold these verdicts against real Lucene.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Elasticsearch's `index.max_regex_length` default.
MAX_REGEX_LENGTH = 1000
#: Lucene's default `maxDeterminizedStates`, which ES uses for query_string regexes.
MAX_DETERMINIZED_STATES = 10_000
#: Elasticsearch 8/9 allow max(1,024, heap in GB × 65,536 / search threads) clauses
#: (`SearchUtils.calculateMaxClauseValue`): 1,024 is the floor (a warning above it), 4,096
#: what a 1 GB heap with 16 search threads allows (an error above it).
CLAUSE_FLOOR = 1024
MAX_CLAUSES = 4096
#: leading-wildcard values above which a query warns of its cost (an automaton each, per search).
COSTLY_PATTERNS = 500
#: determinized states above which a regex warns of its cost: Lucene builds and minimizes the
#: automaton at every search (the corpus's 6,609-state regex took Lucene 8 two minutes).
COSTLY_STATES = 2000
#: an NFA this large would give a DFA over the limit anyway (bounded repeats copy their part).
_MAX_NFA_STATES = 200_000
_MAX_CHAR = 0x10FFFF


class RegexRejected(ValueError):
    """A regex Elasticsearch would refuse; the message says why, as ES would."""


Ranges = tuple[tuple[int, int], ...]

_CLASSES: dict[str, Ranges] = {
    "d": ((48, 57),),
    "s": ((9, 13), (32, 32)),
    "w": ((48, 57), (65, 90), (95, 95), (97, 122)),
}


def _negate(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = max(start, high + 1)
    if start <= _MAX_CHAR:
        out.append((start, _MAX_CHAR))
    return tuple(out)


@dataclass
class _Nfa:
    """Thompson NFA: per state, epsilon moves and (low, high, target) moves."""

    eps: list[list[int]] = field(default_factory=list)
    moves: list[list[tuple[int, int, int]]] = field(default_factory=list)

    def state(self) -> int:
        if len(self.eps) >= _MAX_NFA_STATES:
            raise RegexRejected(_TOO_COMPLEX)
        self.eps.append([])
        self.moves.append([])
        return len(self.eps) - 1


_TOO_COMPLEX = (
    f"the regex is too complex: determinizing it needs more than {MAX_DETERMINIZED_STATES:,} states"
)

#: The parsed regex: ("chars", ranges) | ("seq", [nodes]) | ("alt", [nodes]) | ("star", node)
#: | ("rep", node, low, high) with high -1 for no bound | ("opaque",) for `&` and `~`, which
#: an NFA cannot express (no state count then).
Node = tuple[Any, ...]


class _Parser:
    """Lucene's ``RegExp`` grammar (8.x/9.x, ES's flags), iterative where Lucene recurses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> Node:
        node = self.union()
        if self.pos < len(self.text):
            raise RegexRejected(f"end-of-string expected at position {self.pos}")
        return node

    def more(self) -> bool:
        return self.pos < len(self.text)

    def peek(self, chars: str) -> bool:
        return self.more() and self.text[self.pos] in chars

    def match(self, char: str) -> bool:
        if self.peek(char):
            self.pos += 1
            return True
        return False

    def next(self) -> str:
        if not self.more():
            raise RegexRejected("unexpected end-of-string")
        self.pos += 1
        return self.text[self.pos - 1]

    def union(self) -> Node:
        options = [self.inter()]
        while self.match("|"):
            options.append(self.inter())
        return options[0] if len(options) == 1 else ("alt", options)

    def inter(self) -> Node:
        node = self.concatenation()
        while self.match("&"):
            self.concatenation()
            node = ("opaque",)
        return node

    def concatenation(self) -> Node:
        items = [self.repeat()]
        while self.more() and not self.peek(")|&"):
            items.append(self.repeat())
        return items[0] if len(items) == 1 else ("seq", items)

    def repeat(self) -> Node:
        node = self.complement()
        while self.peek("?*+{"):
            op = self.next()
            if op == "?":
                node = ("rep", node, 0, 1)
            elif op == "*":
                node = ("rep", node, 0, -1)
            elif op == "+":
                node = ("rep", node, 1, -1)
            else:
                low, high = self.integer(), -1
                if self.match(","):
                    if self.peek("0123456789"):
                        high = self.integer()
                else:
                    high = low
                if not self.match("}"):
                    raise RegexRejected(f"expected '}}' at position {self.pos}")
                node = ("rep", node, low, high)
        return node

    def integer(self) -> int:
        start = self.pos
        while self.peek("0123456789"):
            self.pos += 1
        if start == self.pos:
            raise RegexRejected(f"integer expected at position {self.pos}")
        return int(self.text[start : self.pos])

    def complement(self) -> Node:
        if self.match("~"):
            self.complement()
            return ("opaque",)
        return self.char_class()

    def char_class(self) -> Node:
        if not self.match("["):
            return self.simple()
        negate = self.match("^")
        ranges = list(self.class_item())
        while self.more() and not self.peek("]"):
            ranges.extend(self.class_item())
        if not self.match("]"):
            raise RegexRejected(f"expected ']' at position {self.pos}")
        return ("chars", _negate(tuple(ranges)) if negate else tuple(ranges))

    def class_item(self) -> Ranges:
        predefined = self.predefined()
        if predefined is not None:
            return predefined
        low = self.char()
        if self.match("-"):
            high = self.char()
            if ord(low) > ord(high):
                raise RegexRejected(
                    f"invalid range: from ({ord(low)}) cannot be > to ({ord(high)})"
                )
            return ((ord(low), ord(high)),)
        return ((ord(low), ord(low)),)

    def predefined(self) -> Ranges | None:
        name = self.text[self.pos + 1 : self.pos + 2]
        if self.text[self.pos : self.pos + 1] == "\\" and name and name in "dDsSwW":
            self.pos += 2
            ranges = _CLASSES[name.lower()]
            return _negate(ranges) if name.isupper() else ranges
        return None

    def char(self) -> str:
        self.match("\\")
        return self.next()

    def simple(self) -> Node:
        if self.match("."):
            return ("chars", ((0, _MAX_CHAR),))
        if self.match("#"):
            return ("chars", ())
        if self.match("@"):
            return ("rep", ("chars", ((0, _MAX_CHAR),)), 0, -1)
        if self.match('"'):
            end = self.text.find('"', self.pos)
            if end < 0:
                raise RegexRejected(f"expected '\"' at position {self.pos}")
            literal, self.pos = self.text[self.pos : end], end + 1
            return ("seq", [("chars", ((ord(c), ord(c)),)) for c in literal])
        if self.match("("):
            if self.match(")"):
                return ("seq", [])
            node = self.union()
            if not self.match(")"):
                raise RegexRejected(f"expected ')' at position {self.pos}")
            return node
        if self.match("<"):
            return self.interval()
        predefined = self.predefined()
        if predefined is not None:
            return ("chars", predefined)
        c = ord(self.char())
        return ("chars", ((c, c),))

    def interval(self) -> Node:
        end = self.text.find(">", self.pos)
        if end < 0:
            raise RegexRejected(f"expected '>' at position {self.pos}")
        body, self.pos = self.text[self.pos : end], end + 1
        low, dash, high = body.partition("-")
        if not dash or not low.isdigit() or not high.isdigit():
            raise RegexRejected(f"interval syntax error at position {end}")
        # For counting states, any run of digits stands for the interval.
        return ("rep", ("chars", ((48, 57),)), 1, -1)


def _opaque(node: Node) -> bool:
    kind = node[0]
    if kind == "opaque":
        return True
    if kind in ("seq", "alt"):
        return any(_opaque(item) for item in node[1])
    if kind == "rep":
        return _opaque(node[1])
    return False


def _compile(nfa: _Nfa, node: Node) -> tuple[int, int]:
    """A fresh (start, end) fragment of `nfa` for `node` (called again for each copy)."""
    kind = node[0]
    if kind == "chars":
        start, end = nfa.state(), nfa.state()
        nfa.moves[start].extend((low, high, end) for low, high in node[1])
        return start, end
    if kind == "seq":
        start = end = nfa.state()
        for item in node[1]:
            a, b = _compile(nfa, item)
            nfa.eps[end].append(a)
            end = b
        return start, end
    if kind == "alt":
        start, end = nfa.state(), nfa.state()
        for item in node[1]:
            a, b = _compile(nfa, item)
            nfa.eps[start].append(a)
            nfa.eps[b].append(end)
        return start, end
    _, inner, low, high = node
    start = end = nfa.state()
    for _ in range(low):
        a, b = _compile(nfa, inner)
        nfa.eps[end].append(a)
        end = b
    if high == -1:
        loop = nfa.state()
        a, b = _compile(nfa, inner)
        nfa.eps[loop].append(a)
        nfa.eps[b].append(loop)
        nfa.eps[end].append(loop)
        return start, loop
    final = nfa.state()
    nfa.eps[end].append(final)
    for _ in range(max(high - low, 0)):
        a, b = _compile(nfa, inner)
        nfa.eps[end].append(a)
        nfa.eps[b].append(final)
        end = b
    return start, final


def _closure(nfa: _Nfa, states: Iterable[int]) -> frozenset[int]:
    seen = set(states)
    stack = list(seen)
    while stack:
        for target in nfa.eps[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return frozenset(seen)


def determinized_states(nfa: _Nfa, start: int, limit: int) -> int:
    """States of the subset-construction DFA, counting up to just over `limit`."""
    first = _closure(nfa, [start])
    seen = {first}
    todo = [first]
    while todo:
        current = todo.pop()
        moves = [move for state in current for move in nfa.moves[state]]
        cuts = sorted({low for low, _, _ in moves} | {high + 1 for _, high, _ in moves})
        for low, high in itertools.pairwise(cuts):
            targets = [t for a, b, t in moves if a <= low and high - 1 <= b]
            if not targets:
                continue
            subset = _closure(nfa, targets)
            if subset not in seen:
                seen.add(subset)
                todo.append(subset)
                if len(seen) > limit:
                    return len(seen)
    return len(seen)


def check_regex(regex: str, *, determinize: bool = True) -> int:
    """Raise RegexRejected if Elasticsearch would refuse `regex` in a query_string search.

    Returns the determinized automaton's states (0 when not determinized here).
    """
    length = len(regex.encode("utf-16-le")) // 2
    if length > MAX_REGEX_LENGTH:
        raise RegexRejected(
            f"the regex is {length:,} characters long, over Elasticsearch's "
            f"index.max_regex_length of {MAX_REGEX_LENGTH:,}"
        )
    tree = _Parser(regex).parse()
    if not determinize or _opaque(tree):
        return 0
    nfa = _Nfa()
    start, _ = _compile(nfa, tree)
    states = determinized_states(nfa, start, MAX_DETERMINIZED_STATES)
    if states > MAX_DETERMINIZED_STATES:
        raise RegexRejected(_TOO_COMPLEX)
    return states


def min_length(regex: str) -> int:
    """The fewest characters a value `regex` matches has (0 when Lucene cannot parse it)."""
    try:
        tree = _Parser(regex).parse()
    except RegexRejected:
        return 0
    return _shortest(tree)


def _shortest(node: Node) -> int:
    kind = node[0]
    if kind == "chars":
        return 1
    if kind == "seq":
        return sum(_shortest(item) for item in node[1])
    if kind == "alt":
        return min(_shortest(item) for item in node[1])
    if kind == "rep":
        return int(node[2]) * _shortest(node[1])
    return 0  # `&` and `~`: not worked out
