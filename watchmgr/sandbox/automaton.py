"""Lucene's term patterns, matched in linear time: `WildcardQuery` and `RegExp` syntax.

A wildcard is `*` (any sequence), `?` (one code point) and `\\` escaping the next character;
there are no classes. A regular expression is read by `watchmgr.lucene.regexp` (the one
implementation of Lucene's `RegExp`, which the product's render-time checks share) as Lucene
8.7, the oracle's, reads it: `\\d` is the letter d there, the shorthand classes came later.
Its DFA costs one pass over each term and can never backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from watchmgr.lucene.regexp import (
    LUCENE_8,
    MAX_DETERMINIZED_STATES,
    Dfa,
    RegexError,
    compile_regexp,
)

__all__ = ["MAX_DETERMINIZED_STATES", "Dfa", "RegexError", "regexp", "wildcard"]


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


# ---------------------------------------------------------------------------- RegExp


def regexp(pattern: str) -> Dfa:
    """Lucene 8.7's ``RegExp(pattern, ALL)`` as a DFA; raises `RegexError` where Lucene does."""
    return compile_regexp(pattern, lucene=LUCENE_8)
