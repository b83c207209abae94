"""Lucene's term patterns, matched in linear time: `WildcardQuery` and `RegExp` syntax.

A wildcard is `*` (any sequence), `?` (one code point) and `\\` escaping the next character;
there are no classes. A regular expression follows Lucene's `RegExp` with every flag ES's
`query_string` turns on (`|`, `&`, `~`, `@`, `#`, `"..."`, `<n-m>`), as Lucene 8.7 (the
oracle's) has it: `\\d` is the letter d there, the shorthand classes came later. It is parsed
here, built into an automaton and determinized with Lucene's 10,000-state limit, so that a
pattern costs one pass over each term and can never backtrack.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

MAX_CODE_POINT = 0x10FFFF
MAX_DETERMINIZED_STATES = 10_000


class RegexError(ValueError):
    """A pattern Lucene's `RegExp` refuses, or one too complex to determinize."""


# ---------------------------------------------------------------------------- wildcards


@lru_cache(maxsize=65536)  # IOC lists hold thousands of patterns
def wildcard(pattern: str) -> Callable[[str], bool]:
    """A predicate: does a whole term match Lucene's wildcard `pattern`?"""
    parts: list[list[str]] = [[]]  # literal/`?` pieces between the `*`s
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            parts[-1].append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            parts.append([])
        else:
            parts[-1].append("." if ch == "?" else re.escape(ch))
        i += 1
    # Every piece has a fixed length (one code point per element), so the head is anchored at
    # the start, the tail at the end, and each middle piece may take its leftmost place:
    # the search never backtracks.
    pieces = [(re.compile("".join(p), re.DOTALL), len(p)) for p in parts]
    if len(pieces) == 1:
        only = pieces[0][0]
        return lambda term: only.fullmatch(term) is not None
    (head, head_len), middle, (tail, tail_len) = pieces[0], pieces[1:-1], pieces[-1]

    def match(term: str) -> bool:
        tail_at = len(term) - tail_len
        if tail_at < head_len or head.match(term) is None:
            return False
        if tail.fullmatch(term, tail_at) is None:
            return False
        pos = head_len
        for piece, _ in middle:
            found = piece.search(term, pos, tail_at)
            if found is None:
                return False
            pos = found.end()
        return True

    return match


# ---------------------------------------------------------------------------- RegExp syntax

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class _Re:
    kind: str  # chars, concat, union, inter, compl, repeat, string, empty, anystring
    ranges: Ranges = ()
    parts: tuple[_Re, ...] = ()
    low: int = 0
    high: int | None = None
    text: str = ""


_DIGIT: Ranges = ((48, 57),)


def _complement(ranges: Ranges) -> Ranges:
    out, nxt = [], 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


class _RegexParser:
    """Lucene `RegExp`'s recursive-descent grammar, with its error messages."""

    def __init__(self, text: str) -> None:
        self.s = [ord(c) for c in text]
        self.pos = 0

    def more(self) -> bool:
        return self.pos < len(self.s)

    def peek(self, chars: str) -> bool:
        return self.more() and chr(self.s[self.pos]) in chars

    def match(self, ch: str) -> bool:
        if self.peek(ch):
            self.pos += 1
            return True
        return False

    def next(self) -> int:
        if not self.more():
            raise RegexError("unexpected end-of-string")
        self.pos += 1
        return self.s[self.pos - 1]

    def parse(self) -> _Re:
        node = self.union()
        if self.more():
            raise RegexError(f"end-of-string expected at position {self.pos}")
        return node

    # Unions and concatenations are read as flat lists, not by recursion: a 1,000-character
    # pattern would otherwise go 1,000 calls deep.
    def union(self) -> _Re:
        parts = [self.inter()]
        while self.match("|"):
            parts.append(self.inter())
        return parts[0] if len(parts) == 1 else _Re("union", parts=tuple(parts))

    def inter(self) -> _Re:
        node = self.concat()
        if self.match("&"):
            return _Re("inter", parts=(node, self.inter()))
        return node

    def concat(self) -> _Re:
        parts = [self.repeat()]
        while self.more() and not self.peek(")|&"):
            parts.append(self.repeat())
        return parts[0] if len(parts) == 1 else _Re("concat", parts=tuple(parts))

    def repeat(self) -> _Re:
        node = self.compl()
        while self.peek("?*+{"):
            if self.match("?"):
                node = _Re("repeat", parts=(node,), low=0, high=1)
            elif self.match("*"):
                node = _Re("repeat", parts=(node,), low=0, high=None)
            elif self.match("+"):
                node = _Re("repeat", parts=(node,), low=1, high=None)
            elif self.match("{"):
                low = self.number()
                high: int | None = low
                if self.match(","):
                    start = self.pos
                    while self.peek("0123456789"):
                        self.pos += 1
                    high = self.as_int(start) if start != self.pos else None
                if not self.match("}"):
                    raise RegexError(f"expected '}}' at position {self.pos}")
                node = _Re("repeat", parts=(node,), low=low, high=high)
        return node

    def number(self) -> int:
        start = self.pos
        while self.peek("0123456789"):
            self.pos += 1
        if start == self.pos:
            raise RegexError(f"integer expected at position {self.pos}")
        return self.as_int(start)

    def as_int(self, start: int) -> int:
        digits = "".join(chr(c) for c in self.s[start : self.pos])
        value = int(digits)
        if value > 2**31 - 1:
            raise RegexError(f'For input string: "{digits}"')
        return value

    def compl(self) -> _Re:
        if self.match("~"):
            return _Re("compl", parts=(self.compl(),))
        return self.char_class()

    def char_class(self) -> _Re:
        if not self.match("["):
            return self.simple()
        negate = self.match("^")
        ranges = list(self.class_item())
        while self.more() and not self.peek("]"):
            ranges.extend(self.class_item())
        if not self.match("]"):
            raise RegexError(f"expected ']' at position {self.pos}")
        return _Re("chars", ranges=_complement(tuple(ranges)) if negate else tuple(ranges))

    def class_item(self) -> Ranges:
        low = self.char()
        if self.match("-"):
            high = self.char()
            if low > high:
                raise RegexError(f"invalid range: from ({low}) cannot be > to ({high})")
            return ((low, high),)
        return ((low, low),)

    def char(self) -> int:
        self.match("\\")
        return self.next()

    def simple(self) -> _Re:
        if self.match("."):
            return _Re("chars", ranges=((0, MAX_CODE_POINT),))
        if self.match("#"):
            return _Re("empty")
        if self.match("@"):
            return _Re("anystring")
        if self.match('"'):
            start = self.pos
            while self.more() and not self.peek('"'):
                self.pos += 1
            if not self.match('"'):
                raise RegexError(f"expected '\"' at position {self.pos}")
            return _Re("string", text="".join(chr(c) for c in self.s[start : self.pos - 1]))
        if self.match("("):
            if self.match(")"):
                return _Re("string", text="")
            node = self.union()
            if not self.match(")"):
                raise RegexError(f"expected ')' at position {self.pos}")
            return node
        if self.match("<"):
            return self.interval()
        code = self.char()
        return _Re("chars", ranges=((code, code),))

    def interval(self) -> _Re:
        start = self.pos
        while self.more() and not self.peek(">"):
            self.pos += 1
        if not self.match(">"):
            raise RegexError(f"expected '>' at position {self.pos}")
        body = "".join(chr(c) for c in self.s[start : self.pos - 1])
        low, dash, high = body.partition("-")
        if not dash:
            raise RegexError(f"'{body}' not found")  # a named automaton: ES names none
        if not (low.isdigit() and high.isdigit()):
            raise RegexError(f"interval syntax error at position {self.pos - 1}")
        digits = len(low) if len(low) == len(high) else 0
        a, b = sorted((int(low), int(high)))
        return _decimal_interval(a, b, digits)


def _decimal_interval(low: int, high: int, digits: int) -> _Re:
    """Decimal numerals in [low, high]: `digits` wide with leading zeros, or any zeros (0)."""
    width = max(len(str(high)), digits)

    def numerals(lo: str, hi: str) -> _Re:
        # all strings of equal length between lo and hi, digit by digit
        if not lo:
            return _Re("string", text="")
        if lo[0] == hi[0]:
            return _Re("concat", parts=(_char(lo[0]), numerals(lo[1:], hi[1:])))
        rest = len(lo) - 1
        options = [
            _Re("concat", parts=(_char(lo[0]), numerals(lo[1:], "9" * rest))),
            _Re("concat", parts=(_char(hi[0]), numerals("0" * rest, hi[1:]))),
        ]
        if int(hi[0]) - int(lo[0]) > 1:
            middle = _Re("chars", ranges=((ord(lo[0]) + 1, ord(hi[0]) - 1),))
            any_digits = _Re("repeat", parts=(_Re("chars", ranges=_DIGIT),), low=rest, high=rest)
            options.append(_Re("concat", parts=(middle, any_digits)))
        return _union(options)

    if digits:
        return numerals(str(low).zfill(width), str(high).zfill(width))
    by_length = []
    for length in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (length - 1) if length > 1 else 0)
        hi = min(high, 10**length - 1)
        by_length.append(numerals(str(lo), str(hi)))
    zeros = _Re("repeat", parts=(_char("0"),), low=0, high=None)
    return _Re("concat", parts=(zeros, _union(by_length)))


def _char(ch: str) -> _Re:
    return _Re("chars", ranges=((ord(ch), ord(ch)),))


def _union(options: list[_Re]) -> _Re:
    node = options[0]
    for option in options[1:]:
        node = _Re("union", parts=(node, option))
    return node


# ---------------------------------------------------------------------------- automata


class _Nfa:
    """States with labelled (code-point range) and empty transitions."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[int, int, int]]] = []
        self.eps: list[list[int]] = []

    def state(self) -> int:
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def build(self, node: _Re) -> tuple[int, int]:
        """A fragment (start, end) accepting `node`'s language."""
        start, end = self.state(), self.state()
        kind = node.kind
        if kind == "chars":
            for lo, hi in node.ranges:
                self.edges[start].append((lo, hi, end))
        elif kind == "string":
            current = start
            for ch in node.text:
                nxt = self.state()
                self.edges[current].append((ord(ch), ord(ch), nxt))
                current = nxt
            self.eps[current].append(end)
        elif kind == "anystring":
            self.eps[start].append(end)
            self.edges[end].append((0, MAX_CODE_POINT, end))
        elif kind == "concat":
            current = start
            for part in node.parts:
                a = self.build(part)
                self.eps[current].append(a[0])
                current = a[1]
            self.eps[current].append(end)
        elif kind == "union":
            for part in node.parts:
                a = self.build(part)
                self.eps[start].append(a[0])
                self.eps[a[1]].append(end)
        elif kind == "repeat":
            self._repeat(node, start, end)
        elif kind in ("inter", "compl"):
            self._embed(_dfa_of(node), start, end)
        # "empty" (`#`): no path from start to end
        return start, end

    def _repeat(self, node: _Re, start: int, end: int) -> None:
        current = start
        for _ in range(node.low):
            a = self.build(node.parts[0])
            self.eps[current].append(a[0])
            current = a[1]
        if node.high is None:
            a = self.build(node.parts[0])
            self.eps[current].append(a[0])
            self.eps[a[1]].append(a[0])
            self.eps[a[1]].append(end)
            self.eps[current].append(end)
            return
        for _ in range(node.high - node.low):
            a = self.build(node.parts[0])
            self.eps[current].append(end)
            self.eps[current].append(a[0])
            current = a[1]
        self.eps[current].append(end)

    def _embed(self, dfa: Dfa, start: int, end: int) -> None:
        ids = [self.state() for _ in dfa.starts]
        self.eps[start].append(ids[0])
        for state, (starts, targets) in enumerate(zip(dfa.starts, dfa.targets, strict=True)):
            bounds = [*starts[1:], MAX_CODE_POINT + 1]
            for lo, nxt, target in zip(starts, bounds, targets, strict=True):
                if target >= 0:
                    self.edges[ids[state]].append((lo, nxt - 1, ids[target]))
            if state in dfa.accept:
                self.eps[ids[state]].append(end)

    def closure(self, states: frozenset[int] | set[int]) -> frozenset[int]:
        seen, stack = set(states), list(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)


@dataclass(frozen=True)
class Dfa:
    """A complete-over-intervals DFA: per state, interval starts and their targets (-1: dead)."""

    starts: list[list[int]]
    targets: list[list[int]]
    accept: frozenset[int]

    def matches(self, text: str) -> bool:
        state = 0
        for ch in text:
            row = self.starts[state]
            state = self.targets[state][bisect_right(row, ord(ch)) - 1]
            if state < 0:
                return False
        return state in self.accept


def _determinize(nfa: _Nfa, start: int, end: int) -> Dfa:
    """Subset construction over the states that read a character (and the final state).

    Each subset's transitions come from one sweep over its states' ranges, and each state's
    empty-transition closure is computed once.
    """
    closures: dict[int, frozenset[int]] = {}

    def reach(state: int) -> frozenset[int]:
        found = closures.get(state)
        if found is None:
            found = frozenset(q for q in nfa.closure({state}) if nfa.edges[q] or q == end)
            closures[state] = found
        return found

    first = reach(start)
    index = {first: 0}
    order = [first]
    starts: list[list[int]] = []
    targets: list[list[int]] = []
    for subset in order:  # grows while we walk it
        events: list[tuple[int, int, int]] = []  # (code point, +1 enters / -1 leaves, target)
        for state in subset:
            for lo, hi, target in nfa.edges[state]:
                events.append((lo, 1, target))
                events.append((hi + 1, -1, target))
        events.sort()
        active: dict[int, int] = {}
        row_starts: list[int] = [0]
        row_targets: list[int] = [-1]
        k = 0
        while k < len(events):
            point = events[k][0]
            while k < len(events) and events[k][0] == point:
                _, delta, target = events[k]
                count = active.get(target, 0) + delta
                if count:
                    active[target] = count
                else:
                    active.pop(target, None)
                k += 1
            if point > MAX_CODE_POINT:
                break
            dfa_target = -1
            if active:
                key = frozenset().union(*(reach(t) for t in active))
                dfa_target = index.get(key, -1)
                if dfa_target < 0:
                    if len(order) >= MAX_DETERMINIZED_STATES:
                        raise RegexError(
                            f"Determinizing automaton with {len(nfa.edges)} states would "
                            f"result in more than {MAX_DETERMINIZED_STATES} states."
                        )
                    dfa_target = index[key] = len(order)
                    order.append(key)
            if point == row_starts[-1]:
                row_targets[-1] = dfa_target
            elif dfa_target != row_targets[-1]:
                row_starts.append(point)
                row_targets.append(dfa_target)
        starts.append(row_starts)
        targets.append(row_targets)
    accept = frozenset(i for i, subset in enumerate(order) if end in subset)
    return Dfa(starts, targets, accept)


def _dfa_of(node: _Re) -> Dfa:
    if node.kind == "compl":
        inner = _dfa_of(node.parts[0])
        # complete it (dead state as an explicit state) and swap accepting states
        dead = len(inner.starts)
        starts = [*inner.starts, [0]]
        targets = [[dead if t < 0 else t for t in row] for row in inner.targets] + [[dead]]
        accept = frozenset(i for i in range(dead + 1) if i not in inner.accept)
        return Dfa(starts, targets, accept)
    if node.kind == "inter":
        return _product(_dfa_of(node.parts[0]), _dfa_of(node.parts[1]))
    nfa = _Nfa()
    start, end = nfa.build(node)
    return _determinize(nfa, start, end)


def _product(a: Dfa, b: Dfa) -> Dfa:
    index = {(0, 0): 0}
    order = [(0, 0)]
    starts: list[list[int]] = []
    targets: list[list[int]] = []
    for sa, sb in order:
        cuts = sorted(set(a.starts[sa]) | set(b.starts[sb]))
        row_starts: list[int] = []
        row_targets: list[int] = []
        for lo in cuts:
            ta = a.targets[sa][bisect_right(a.starts[sa], lo) - 1]
            tb = b.targets[sb][bisect_right(b.starts[sb], lo) - 1]
            target = -1
            if ta >= 0 and tb >= 0:
                if (ta, tb) not in index:
                    if len(order) >= MAX_DETERMINIZED_STATES:
                        raise RegexError(
                            f"Determinizing automaton would result in more than "
                            f"{MAX_DETERMINIZED_STATES} states."
                        )
                    index[(ta, tb)] = len(order)
                    order.append((ta, tb))
                target = index[(ta, tb)]
            if row_targets and row_targets[-1] == target:
                continue
            row_starts.append(lo)
            row_targets.append(target)
        starts.append(row_starts)
        targets.append(row_targets)
    accept = frozenset(i for i, (sa, sb) in enumerate(order) if sa in a.accept and sb in b.accept)
    return Dfa(starts, targets, accept)


@lru_cache(maxsize=1024)
def regexp(pattern: str) -> Dfa:
    """Lucene's `RegExp(pattern, ALL)` as a DFA; raises `RegexError` where Lucene does."""
    return _dfa_of(_RegexParser(pattern).parse())
