"""Lucene's ``RegExp``: its grammar, its automaton and its determinization limit (pure).

The syntax is Lucene's with every flag Elasticsearch's ``query_string`` turns on: ``|``, ``&``
intersection, ``~`` complement, ``#`` the empty language, ``@`` any string, ``"..."`` literals
and ``<n-m>`` decimal intervals. Which Lucene reads the pattern is a parameter, because they
differ: Lucene 9 added the ``\\d \\s \\w`` (and upper-case) classes that Elasticsearch 8 and 9
have, while Lucene 8 (the fidelity oracle's 8.7) reads ``\\d`` as the letter d.

A pattern becomes a Thompson NFA and is determinized by subset construction, failing as Lucene
fails past ``MAX_DETERMINIZED_STATES``. The subsets are whole epsilon closures, which is what
makes the count agree with real Lucene's verdicts (tests/fidelity/test_limits.py); the DFA
then matches a term in one pass and never backtracks.

This module is a leaf: it imports nothing of watchmgr (tests/test_architecture.py).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

#: Lucene 8 (the oracle's 8.7): no shorthand classes, ``\\d`` is the letter d.
LUCENE_8 = 8
#: Lucene 9 and 10 (Elasticsearch 8 and 9): ``\\d \\s \\w \\D \\S \\W`` are classes.
LUCENE_9 = 9

MAX_CODE_POINT = 0x10FFFF
#: Lucene's default `maxDeterminizedStates`, which Elasticsearch uses for regex queries.
MAX_DETERMINIZED_STATES = 10_000
#: an NFA this large would give a DFA over the limit anyway (bounded repeats copy their part).
MAX_NFA_STATES = 200_000


class RegexError(ValueError):
    """A pattern Lucene's ``RegExp`` refuses; the message is Lucene's."""


class TooComplex(RegexError):
    """Determinizing the pattern needs more states than the limit."""


Ranges = tuple[tuple[int, int], ...]

_CLASSES: dict[str, Ranges] = {
    "d": ((48, 57),),
    "s": ((9, 13), (32, 32)),
    "w": ((48, 57), (65, 90), (95, 95), (97, 122)),
}
_DIGIT: Ranges = ((48, 57),)
_ANY: Ranges = ((0, MAX_CODE_POINT),)


@dataclass(frozen=True, slots=True)
class Regex:
    """A parsed pattern.

    `kind` is one of: chars (`ranges`), concat and union (`parts`), repeat (`parts[0]` from
    `low` to `high` times, None for no bound), inter and compl (`parts`), string (`text`),
    empty (``#``), anystring (``@``).
    """

    kind: str
    ranges: Ranges = ()
    parts: tuple[Regex, ...] = ()
    low: int = 0
    high: int | None = None
    text: str = ""


def complement(ranges: Ranges) -> Ranges:
    """The code points not in `ranges`."""
    out, nxt = [], 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def parse(pattern: str, *, lucene: int) -> Regex:
    """Parse `pattern` as Lucene `lucene` (LUCENE_8 or LUCENE_9) does; RegexError where it fails."""
    return _Parser(pattern, shorthand_classes=lucene >= LUCENE_9).parse()


class _Parser:
    """Lucene ``RegExp``'s recursive-descent grammar, with its error messages.

    Unions and concatenations are read as flat lists, not by recursion: a 1,000-character
    pattern would otherwise go 1,000 calls deep.
    """

    def __init__(self, text: str, *, shorthand_classes: bool) -> None:
        self.s = [ord(c) for c in text]
        self.pos = 0
        self.shorthand_classes = shorthand_classes

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

    def parse(self) -> Regex:
        node = self.union()
        if self.more():
            raise RegexError(f"end-of-string expected at position {self.pos}")
        return node

    def union(self) -> Regex:
        parts = [self.inter()]
        while self.match("|"):
            parts.append(self.inter())
        return parts[0] if len(parts) == 1 else Regex("union", parts=tuple(parts))

    def inter(self) -> Regex:
        node = self.concat()
        if self.match("&"):
            return Regex("inter", parts=(node, self.inter()))
        return node

    def concat(self) -> Regex:
        parts = [self.repeat()]
        while self.more() and not self.peek(")|&"):
            parts.append(self.repeat())
        return parts[0] if len(parts) == 1 else Regex("concat", parts=tuple(parts))

    def repeat(self) -> Regex:
        node = self.compl()
        while self.peek("?*+{"):
            if self.match("?"):
                node = Regex("repeat", parts=(node,), low=0, high=1)
            elif self.match("*"):
                node = Regex("repeat", parts=(node,), low=0, high=None)
            elif self.match("+"):
                node = Regex("repeat", parts=(node,), low=1, high=None)
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
                node = Regex("repeat", parts=(node,), low=low, high=high)
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

    def compl(self) -> Regex:
        if self.match("~"):
            return Regex("compl", parts=(self.compl(),))
        return self.char_class()

    def char_class(self) -> Regex:
        if not self.match("["):
            return self.simple()
        negate = self.match("^")
        ranges = list(self.class_item())
        while self.more() and not self.peek("]"):
            ranges.extend(self.class_item())
        if not self.match("]"):
            raise RegexError(f"expected ']' at position {self.pos}")
        return Regex("chars", ranges=complement(tuple(ranges)) if negate else tuple(ranges))

    def class_item(self) -> Ranges:
        predefined = self.predefined()
        if predefined is not None:
            return predefined
        low = self.char()
        if self.match("-"):
            high = self.char()
            if low > high:
                raise RegexError(f"invalid range: from ({low}) cannot be > to ({high})")
            return ((low, high),)
        return ((low, low),)

    def predefined(self) -> Ranges | None:
        """Lucene 9's ``\\d \\s \\w`` and their negations, where this Lucene has them."""
        if not self.shorthand_classes or self.s[self.pos : self.pos + 1] != [ord("\\")]:
            return None
        name = chr(self.s[self.pos + 1]) if self.pos + 1 < len(self.s) else ""
        if not name or name not in "dDsSwW":
            return None
        self.pos += 2
        ranges = _CLASSES[name.lower()]
        return complement(ranges) if name.isupper() else ranges

    def char(self) -> int:
        self.match("\\")
        return self.next()

    def simple(self) -> Regex:
        if self.match("."):
            return Regex("chars", ranges=_ANY)
        if self.match("#"):
            return Regex("empty")
        if self.match("@"):
            return Regex("anystring")
        if self.match('"'):
            start = self.pos
            while self.more() and not self.peek('"'):
                self.pos += 1
            if not self.match('"'):
                raise RegexError(f"expected '\"' at position {self.pos}")
            return Regex("string", text="".join(chr(c) for c in self.s[start : self.pos - 1]))
        if self.match("("):
            if self.match(")"):
                return Regex("string", text="")
            node = self.union()
            if not self.match(")"):
                raise RegexError(f"expected ')' at position {self.pos}")
            return node
        if self.match("<"):
            return self.interval()
        predefined = self.predefined()
        if predefined is not None:
            return Regex("chars", ranges=predefined)
        code = self.char()
        return Regex("chars", ranges=((code, code),))

    def interval(self) -> Regex:
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


def _decimal_interval(low: int, high: int, digits: int) -> Regex:
    """Decimal numerals in [low, high]: `digits` wide with leading zeros, or any zeros (0)."""
    width = max(len(str(high)), digits)

    def numerals(lo: str, hi: str) -> Regex:
        # all strings of equal length between lo and hi, digit by digit
        if not lo:
            return Regex("string", text="")
        if lo[0] == hi[0]:
            return Regex("concat", parts=(_char(lo[0]), numerals(lo[1:], hi[1:])))
        rest = len(lo) - 1
        options = [
            Regex("concat", parts=(_char(lo[0]), numerals(lo[1:], "9" * rest))),
            Regex("concat", parts=(_char(hi[0]), numerals("0" * rest, hi[1:]))),
        ]
        if int(hi[0]) - int(lo[0]) > 1:
            middle = Regex("chars", ranges=((ord(lo[0]) + 1, ord(hi[0]) - 1),))
            any_digits = Regex(
                "repeat", parts=(Regex("chars", ranges=_DIGIT),), low=rest, high=rest
            )
            options.append(Regex("concat", parts=(middle, any_digits)))
        return Regex("union", parts=tuple(options))

    if digits:
        return numerals(str(low).zfill(width), str(high).zfill(width))
    by_length = []
    for length in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (length - 1) if length > 1 else 0)
        hi = min(high, 10**length - 1)
        by_length.append(numerals(str(lo), str(hi)))
    zeros = Regex("repeat", parts=(_char("0"),), low=0, high=None)
    union = by_length[0] if len(by_length) == 1 else Regex("union", parts=tuple(by_length))
    return Regex("concat", parts=(zeros, union))


def _char(ch: str) -> Regex:
    return Regex("chars", ranges=((ord(ch), ord(ch)),))


def has_boolean_operators(node: Regex) -> bool:
    """Whether `node` uses ``&`` or ``~`` (built from DFAs, not by Thompson's construction)."""
    return node.kind in ("inter", "compl") or any(has_boolean_operators(p) for p in node.parts)


def min_length(node: Regex) -> int:
    """The fewest characters a string `node` matches has (0 for ``&``, ``~`` and ``#``)."""
    kind = node.kind
    if kind == "chars":
        return 1
    if kind == "string":
        return len(node.text)
    if kind == "concat":
        return sum(min_length(part) for part in node.parts)
    if kind == "union":
        return min(min_length(part) for part in node.parts)
    if kind == "repeat":
        return node.low * min_length(node.parts[0])
    return 0


# ---------------------------------------------------------------------------- automata


@dataclass(frozen=True)
class Dfa:
    """A complete-over-intervals DFA: per state, interval starts and their targets (-1: dead)."""

    starts: list[list[int]]
    targets: list[list[int]]
    accept: frozenset[int]

    @property
    def states(self) -> int:
        return len(self.starts)

    def matches(self, text: str) -> bool:
        state = 0
        for ch in text:
            row = self.starts[state]
            state = self.targets[state][bisect_right(row, ord(ch)) - 1]
            if state < 0:
                return False
        return state in self.accept


class _Nfa:
    """Thompson's construction: per state, (low, high, target) moves and epsilon moves."""

    def __init__(self, limit: int) -> None:
        self.edges: list[list[tuple[int, int, int]]] = []
        self.eps: list[list[int]] = []
        self.limit = limit

    def state(self) -> int:
        if len(self.edges) >= MAX_NFA_STATES:
            raise TooComplex(_too_complex(len(self.edges), self.limit))
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def build(self, node: Regex) -> tuple[int, int]:
        """A fresh fragment (start, end) for `node` (called again for each repeated copy)."""
        kind = node.kind
        if kind in ("chars", "empty"):
            start, end = self.state(), self.state()
            self.edges[start].extend((lo, hi, end) for lo, hi in node.ranges)
            return start, end
        if kind == "string":
            chars = [Regex("chars", ranges=((ord(c), ord(c)),)) for c in node.text]
            return self._sequence(chars)
        if kind == "anystring":
            return self._repeat(Regex("chars", ranges=_ANY), 0, None)
        if kind == "concat":
            return self._sequence(list(node.parts))
        if kind == "union":
            start, end = self.state(), self.state()
            for part in node.parts:
                a, b = self.build(part)
                self.eps[start].append(a)
                self.eps[b].append(end)
            return start, end
        if kind == "repeat":
            return self._repeat(node.parts[0], node.low, node.high)
        return self._embed(_dfa_of(node, self.limit))  # inter, compl

    def _sequence(self, parts: list[Regex]) -> tuple[int, int]:
        start = end = self.state()
        for part in parts:
            a, b = self.build(part)
            self.eps[end].append(a)
            end = b
        return start, end

    def _repeat(self, inner: Regex, low: int, high: int | None) -> tuple[int, int]:
        start = end = self.state()
        for _ in range(low):
            a, b = self.build(inner)
            self.eps[end].append(a)
            end = b
        if high is None:
            loop = self.state()
            a, b = self.build(inner)
            self.eps[loop].append(a)
            self.eps[b].append(loop)
            self.eps[end].append(loop)
            return start, loop
        final = self.state()
        self.eps[end].append(final)
        for _ in range(max(high - low, 0)):
            a, b = self.build(inner)
            self.eps[end].append(a)
            self.eps[b].append(final)
            end = b
        return start, final

    def _embed(self, dfa: Dfa) -> tuple[int, int]:
        start, end = self.state(), self.state()
        ids = [self.state() for _ in dfa.starts]
        self.eps[start].append(ids[0])
        for state, (starts, targets) in enumerate(zip(dfa.starts, dfa.targets, strict=True)):
            bounds = [*starts[1:], MAX_CODE_POINT + 1]
            for lo, nxt, target in zip(starts, bounds, targets, strict=True):
                if target >= 0:
                    self.edges[ids[state]].append((lo, nxt - 1, ids[target]))
            if state in dfa.accept:
                self.eps[ids[state]].append(end)
        return start, end

    def closure(self, states: list[int]) -> frozenset[int]:
        seen, stack = set(states), list(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)


def _too_complex(nfa_states: int, limit: int) -> str:
    return (
        f"Determinizing automaton with {nfa_states} states would result in more than "
        f"{limit} states."
    )


def _determinize(nfa: _Nfa, start: int, end: int, limit: int) -> Dfa:
    """Subset construction, each subset a whole epsilon closure; TooComplex past `limit`.

    Each subset's transitions come from one sweep over its states' ranges, and each state's
    closure is computed once.
    """
    closures: dict[int, frozenset[int]] = {}

    def closure(state: int) -> frozenset[int]:
        found = closures.get(state)
        if found is None:
            found = closures[state] = nfa.closure([state])
        return found

    first = closure(start)
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
                key = frozenset().union(*(closure(t) for t in active))
                dfa_target = index.get(key, -1)
                if dfa_target < 0:
                    if len(order) >= limit:
                        raise TooComplex(_too_complex(len(nfa.edges), limit))
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


def _dfa_of(node: Regex, limit: int) -> Dfa:
    if node.kind == "compl":
        inner = _dfa_of(node.parts[0], limit)
        # complete it (the dead state made explicit) and swap the accepting states
        dead = len(inner.starts)
        starts = [*inner.starts, [0]]
        targets = [[dead if t < 0 else t for t in row] for row in inner.targets] + [[dead]]
        accept = frozenset(i for i in range(dead + 1) if i not in inner.accept)
        return Dfa(starts, targets, accept)
    if node.kind == "inter":
        return _product(_dfa_of(node.parts[0], limit), _dfa_of(node.parts[1], limit), limit)
    nfa = _Nfa(limit)
    start, end = nfa.build(node)
    return _determinize(nfa, start, end, limit)


def _product(a: Dfa, b: Dfa, limit: int) -> Dfa:
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
                    if len(order) >= limit:
                        raise TooComplex(
                            f"Determinizing automaton would result in more than {limit} states."
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


def determinize(node: Regex, *, limit: int = MAX_DETERMINIZED_STATES) -> Dfa:
    """`node` as a DFA; TooComplex where determinizing it needs more than `limit` states."""
    return _dfa_of(node, limit)


@lru_cache(maxsize=1024)
def compile_regexp(pattern: str, *, lucene: int) -> Dfa:
    """Lucene `lucene`'s ``RegExp(pattern, ALL)`` as a DFA; RegexError where Lucene fails."""
    return determinize(parse(pattern, lucene=lucene))
