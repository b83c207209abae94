"""A parser for Lucene's classic `query_string` syntax: validates like Lucene and builds a tree.

ES answers a `query_string` it cannot parse with a shard failure whose innermost message is
Lucene's `Cannot parse '<q>': Encountered ... at line 1, column N.` (watcher-api.md §1.7:
search errors appear at execution). The messages here keep that first line's shape; Lucene's
"Was expecting one of" tail is not reproduced.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Characters that end a bare term. A single `&` or `|` is a term character in Lucene's grammar;
# only `&&` and `||` are operators.
_SPECIAL = set('+-!():^[]"{}~*?\\/')
_WS = " \t\r\n\u3000"


class QueryStringError(Exception):
    """Lucene's ParseException / TokenMgrError message (without the `Cannot parse` prefix)."""


class QueryShardError(QueryStringError):
    """A query that parses but that a field cannot run (ES's `failed to create query`)."""


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # TERM, PHRASE, REGEX, RANGE_START, RANGE_END, AND, OR, NOT, PLUS, MINUS, LPAREN,
    #            RPAREN, COLON, CARAT, TILDE, STAR, TO, EOF
    text: str
    column: int  # 1-based, as Lucene reports


# A leaf's verdict on one document: True or False, or None where the leaf is no query at all
# (text that analyzes to no token: Lucene's parser leaves such a clause out).
Leaf = Callable[["Node"], "bool | None"]


@dataclass(slots=True)
class Node:
    """A parsed query: a bool of clauses or a leaf.

    Leaves: `term` (value unescaped), `phrase` (unescaped; `option` is the slop), `prefix`
    (unescaped, without its `*`), `wildcard` and `regex` (as written, escapes kept), `fuzzy`
    (unescaped; `option` is the similarity or edit distance), `range` ((low, high,
    include_low, include_high), None for `*`), `exists` (`field` is the name or pattern) and
    `match_all`.
    """

    kind: str
    field: str | None = None
    value: Any = None
    clauses: list[tuple[str, Node]] = dataclasses.field(default_factory=list)
    option: float = 0.0

    def evaluate(self, leaf: Leaf) -> bool | None:
        """Lucene's boolean semantics over the leaves' verdicts; None if every clause is none."""
        if self.kind != "bool":
            return leaf(self)
        verdicts = [(occur, node.evaluate(leaf)) for occur, node in self.clauses]
        present = [(occur, verdict) for occur, verdict in verdicts if verdict is not None]
        if not present:
            return None
        if any(verdict for occur, verdict in present if occur == "must_not"):
            return False
        if not all(verdict for occur, verdict in present if occur == "must"):
            return False
        should = [verdict for occur, verdict in present if occur == "should"]
        if any(occur == "must" for occur, _ in present):
            return True
        if not should:
            return True  # ES fixes a purely negative query by adding match_all
        return any(should)


def _describe(tok: _Tok) -> str:
    if tok.kind == "EOF":
        return '"<EOF>"'
    names = {
        "AND": "<AND>",
        "OR": "<OR>",
        "NOT": "<NOT>",
        "TERM": "<TERM>",
        "PHRASE": "<QUOTED>",
        "RPAREN": '")"',
        "LPAREN": '"("',
        "COLON": '":"',
        "CARAT": '"^"',
        "TILDE": "<FUZZY_SLOP>",
        "PLUS": '"+"',
        "MINUS": '"-"',
        "RANGE_END": "<RANGE_END>",
        "RANGE_START": "<RANGE_START>",
        "TO": '"TO"',
        "STAR": '"*"',
        "REGEX": "<REGEXPTERM>",
    }
    return f'" {names.get(tok.kind, tok.kind)} "{tok.text} ""'


def _unexpected(tok: _Tok) -> QueryStringError:
    return QueryStringError(f"Encountered {_describe(tok)} at line 1, column {tok.column}.")


def _closing(text: str, start: int) -> int:
    """The index of the delimiter that closes the phrase or regex opened at `start`."""
    j, n = start + 1, len(text)
    if text[start] == "/":
        # Lucene's REGEXPTERM is `"/" (~["/"] | "\\/")* "/"`, the longest match: a backslash
        # pairs with nothing but a following `/`, and every `/` right after a backslash may be
        # read on, so the term ends at the first bare `/` or else at the last escaped one.
        last = -1
        while j < n:
            if text[j] == "/":
                if text[j - 1] != "\\" or j - 1 == start:
                    return j
                last = j
            j += 1
        if last >= 0:
            return last
    while j < n and text[j] != text[start]:
        j += 2 if text[j] == "\\" else 1
    if j >= n:
        raise QueryStringError(
            f'Lexical error at line 1, column {n + 1}.  Encountered: <EOF> after : "{text[start:]}"'
        )
    return j


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WS:
            i += 1
            continue
        col = i + 1
        two = text[i : i + 2]
        if two in ("&&", "||"):
            toks.append(_Tok("AND" if two == "&&" else "OR", two, col))
            i += 2
            continue
        simple = {
            "(": "LPAREN",
            ")": "RPAREN",
            ":": "COLON",
            "+": "PLUS",
            "-": "MINUS",
            "!": "NOT",
            "^": "CARAT",
            "[": "RANGE_START",
            "{": "RANGE_START",
            "]": "RANGE_END",
            "}": "RANGE_END",
        }
        if ch in simple:
            toks.append(_Tok(simple[ch], ch, col))
            i += 1
            continue
        if ch in ('"', "/"):
            j = _closing(text, i)
            toks.append(_Tok("PHRASE" if ch == '"' else "REGEX", text[i + 1 : j], col))
            i = j + 1
            continue
        if ch == "~":
            j = i + 1
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            toks.append(_Tok("TILDE", text[i:j], col))
            i = j
            continue
        # a bare term; `*` and `?` are wildcards inside it, `\x` escapes anything
        j, buf = i, []
        while j < n:
            c = text[j]
            if c == "\\":
                if j + 1 >= n:
                    raise QueryStringError(
                        f"Lexical error at line 1, column {n + 1}.  Encountered: <EOF> after "
                        f': "{text[i:]}"'
                    )
                buf.append(text[j : j + 2])
                j += 2
                continue
            if c in "-+" and j > i:
                buf.append(c)  # Lucene _TERM_CHAR: '-' and '+' may continue a term
                j += 1
                continue
            if c in _WS or (c in _SPECIAL and c not in "*?") or text[j : j + 2] in ("&&", "||"):
                break
            buf.append(c)
            j += 1
        if j == i:  # nothing this lexer knows starts here: never loop on it
            raise QueryStringError(
                f'Lexical error at line 1, column {col}.  Encountered: "{ch}" after : ""'
            )
        word = "".join(buf)
        kind = {"AND": "AND", "OR": "OR", "NOT": "NOT", "TO": "TO"}.get(word, "TERM")
        if word == "*":
            kind = "STAR"
        toks.append(_Tok(kind, word, col))
        i = j
    toks.append(_Tok("EOF", "", max(n, 1)))
    return toks


def _unescape(text: str) -> str:
    """Lucene's `discardEscapeChar`: `\\x` is x, `\\uXXXX` a UTF-16 code unit."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        if text[i + 1] == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) < 4:
                raise QueryStringError("Truncated unicode escape sequence.")
            if not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise QueryStringError("Non-hex character in Unicode escape sequence: " + digits)
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(text[i + 1])
        i += 2
    # escapes may spell surrogate pairs, as Java strings do
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _term_kind(raw: str) -> str:
    """`wildcard`, `prefix` (only a final `*`) or `term`, as Lucene's lexer tells them apart."""
    wild = [m.start() for m in re.finditer(r"\\.|[*?]", raw) if raw[m.start()] != "\\"]
    if not wild:
        return "term"
    if wild == [len(raw) - 1] and raw.endswith("*") and len(raw) > 1:
        return "prefix"
    return "wildcard"


class _Parser:
    def __init__(self, toks: list[_Tok], default_and: bool) -> None:
        self.toks = toks
        self.pos = 0
        self.default_and = default_and

    def peek(self, offset: int = 0) -> _Tok:
        return self.toks[min(self.pos + offset, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.peek()
        self.pos += 1
        return tok

    def query(self, field_name: str | None) -> Node:
        clauses: list[tuple[str, Node]] = []
        first = True
        while True:
            tok = self.peek()
            if tok.kind in ("EOF", "RPAREN"):
                if first:
                    raise _unexpected(tok)
                break
            conj = None
            if tok.kind in ("AND", "OR"):
                if first:
                    raise _unexpected(tok)
                conj = self.take().kind
            mods = None
            if self.peek().kind in ("PLUS", "MINUS", "NOT"):
                mods = self.take().kind
            node = self.clause(field_name)
            self._add(clauses, conj, mods, node)
            first = False
        if len(clauses) == 1 and clauses[0][0] == "should":
            return clauses[0][1]
        return Node("bool", clauses=clauses)

    def _add(
        self, clauses: list[tuple[str, Node]], conj: str | None, mods: str | None, node: Node
    ) -> None:
        # Lucene QueryParserBase.addClause
        if clauses and conj == "AND" and clauses[-1][0] != "must_not":
            clauses[-1] = ("must", clauses[-1][1])
        if clauses and self.default_and and conj == "OR" and clauses[-1][0] != "must_not":
            clauses[-1] = ("should", clauses[-1][1])
        prohibited = mods in ("MINUS", "NOT")
        if not self.default_and:
            required = mods == "PLUS" or (conj == "AND" and not prohibited)
        else:
            required = not prohibited and conj != "OR"
        occur = "must_not" if prohibited else "must" if required else "should"
        clauses.append((occur, node))

    def clause(self, field_name: str | None) -> Node:
        tok = self.peek()
        # a field name is a plain term or `*` (Lucene: `<TERM> ":"` | `<STAR> ":"`)
        named = tok.kind == "STAR" or (tok.kind == "TERM" and _term_kind(tok.text) == "term")
        if named and self.peek(1).kind == "COLON":
            field_name = _unescape(self.take().text)
            self.take()
        tok = self.peek()
        if tok.kind == "LPAREN":
            self.take()
            inner = self.query(field_name)
            close = self.take()
            if close.kind != "RPAREN":
                raise _unexpected(close)
            return self._boost(inner)
        node = self.term(field_name)
        self._boost(node)
        return node

    def _boost(self, node: Node) -> Node:
        if self.peek().kind == "CARAT":
            self.take()
            number = self.take()
            if number.kind != "TERM" or not re.fullmatch(r"\d+(\.\d+)?", number.text):
                raise _unexpected(number)
        return node

    def _slop(self, default: float) -> float | None:
        """The number after a `~` that follows the term, `default` for a bare `~`, else None."""
        if self.peek().kind != "TILDE":
            return None
        text = self.take().text[1:]
        try:
            return float(text)
        except ValueError:
            return default

    def term(self, field_name: str | None) -> Node:
        tok = self.take()
        if tok.kind == "STAR":
            self._slop(0)
            if field_name in (None, "*"):
                return Node("match_all")
            return Node("exists", field_name)
        if tok.kind == "TERM":
            return self._bare(field_name, tok.text)
        if tok.kind == "PHRASE":
            slop = self._slop(0)
            text = _unescape(tok.text)
            if field_name == "_exists_":
                return Node("exists", text)
            return Node("phrase", field_name, text, option=int(slop or 0))
        if tok.kind == "REGEX":
            self._slop(0)
            return Node("regex", field_name, tok.text)
        if tok.kind == "RANGE_START":
            node = self._range(field_name, tok)
            self._slop(0)
            return node
        raise _unexpected(tok)

    def _bare(self, field_name: str | None, raw: str) -> Node:
        kind = _term_kind(raw)
        fuzzy = self._slop(2.0)
        if kind == "wildcard":
            return Node("wildcard", field_name, raw)
        if kind == "prefix":
            return Node("prefix", field_name, _unescape(raw[:-1]))
        text = _unescape(raw)
        if field_name == "_exists_":
            return Node("exists", text)
        if fuzzy is None:
            return Node("term", field_name, text)
        if fuzzy < 0:
            raise QueryStringError(
                "Minimum similarity for a FuzzyQuery has to be between 0.0f and 1.0f !"
            )
        if fuzzy >= 1 and fuzzy != int(fuzzy):
            raise QueryStringError("Fractional edit distances are not allowed!")
        return Node("fuzzy", field_name, text, option=fuzzy)

    def _range(self, field_name: str | None, tok: _Tok) -> Node:
        low = self.take()
        if low.kind not in ("TERM", "PHRASE", "STAR"):
            raise _unexpected(low)
        to = self.take()
        if to.kind != "TO":
            raise _unexpected(to)
        high = self.take()
        if high.kind not in ("TERM", "PHRASE", "STAR"):
            raise _unexpected(high)
        end = self.take()
        if end.kind != "RANGE_END":
            raise _unexpected(end)
        return Node(
            "range",
            field_name,
            (
                None if low.kind == "STAR" else _unescape(low.text),
                None if high.kind == "STAR" else _unescape(high.text),
                tok.text == "[",
                end.text == "]",
            ),
        )


def parse_query_string(text: str, *, default_and: bool = False) -> Node:
    """Parse `text`; raise `QueryStringError` where Lucene would refuse it."""
    parser = _Parser(_lex(text), default_and)
    if parser.peek().kind == "EOF":
        return Node("bool")  # an empty query string matches nothing in Lucene; ES: no docs
    node = parser.query(None)
    rest = parser.peek()
    if rest.kind != "EOF":
        raise _unexpected(rest)
    return node
