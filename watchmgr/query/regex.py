"""Sigma's (PCRE-style, unanchored) regular expressions in Lucene's regex syntax."""

from __future__ import annotations

import itertools
import re

from watchmgr.query.boundary import resolve

#: Lucene's regexes have no escapes for control characters (``\\t`` is the letter t) and
#: Lucene 8 no ``\\s``: a PCRE ``\\n``, ``\\r``, ``\\t`` is written as the raw character, and
#: whitespace as the range tab to carriage return (a raw tab and carriage return) and the space.
#: So a watch's query may hold a raw newline or carriage return; ``render -f query`` writes
#: them as ``\\n``, ``\\r`` to keep one query a line.
_PCRE_CLASSES = {"d": "0-9", "w": "a-zA-Z0-9_", "s": "\t-\r "}
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
    pattern = resolve(pattern)
    return _fill_empty(_whole(pattern, ignore_case, [] if notes is None else notes))


def slashed(regex: str) -> str:
    """The regex as a query_string term, ``/regex/``.

    query_string's lexer reads ``\\/`` inside a regex as an escaped slash, so a regex ending
    in an escaped backslash (``\\\\``) would swallow its closing slash: that backslash is
    written as the class ``[\\\\]`` instead.
    """
    trailing = len(regex) - len(regex.rstrip("\\"))
    if trailing and trailing % 2 == 0:
        regex = regex[:-2] + "[\\\\]"
    return f"/{regex}/"


def _fill_empty(regex: str) -> str:
    """Write empty alternatives (``(a|)``, also left by a dropped ``\\b``) as ``()``.

    Lucene's parser reads a `|` or `)` where an alternative should start as a literal
    character, so ``(a|)`` is an unclosed group to it.
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(regex):
        c = regex[i]
        out.append(regex[i : i + 2] if c == "\\" else c)
        i += 2 if c == "\\" else 1
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        elif not in_class and (
            (c == "(" and regex[i : i + 1] == "|")
            or (c == "|" and regex[i : i + 1] in ("|", ")", ""))
        ):
            out.append("()")
    return "".join(out)


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
            text, i = _escape(body, i, in_class, notes)
        elif in_class:
            text, i, in_class = _in_class(body, i, ignore_case)
        elif c == "[":
            text, i = _class_start(body, i)
            in_class = True
        else:
            text, i = _outside_class(body, i, ignore_case)
        out.append(text)
    if in_class:
        raise UnsupportedRegex("unterminated character class")
    return "".join(out)


def _escape(body: str, i: int, in_class: bool, notes: list[str]) -> tuple[str, int]:
    """The Lucene text of the escape at `body[i]` (a backslash), and where the next part starts."""
    if i + 1 >= len(body):
        raise UnsupportedRegex("pattern ends with a lone backslash")
    n = body[i + 1]
    i += 2
    if n in _PCRE_CLASSES:
        return (_PCRE_CLASSES[n] if in_class else f"[{_PCRE_CLASSES[n]}]"), i
    if n in _PCRE_NEGATED:
        if in_class:
            raise UnsupportedRegex(f"'\\{n}' inside a character class")
        return f"[^{_PCRE_CLASSES[_PCRE_NEGATED[n]]}]", i
    if n in "bB":
        # Lucene has no word boundary; dropping it can only widen the match.
        notes.append(f"'\\{n}' inside the pattern is dropped (the watch may match more)")
        return "", i
    if n in "AzZG" or (n.isdigit() and n != "0"):
        raise UnsupportedRegex(f"'\\{n}' (anchors, word boundaries and back-references)")
    if n in "tnrf":
        # Raw: Lucene reads `\t` as the letter t.
        return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}[n], i
    if n == "x" and re.match(r"[0-9a-fA-F]{2}", body[i : i + 2]):
        return _literal(chr(int(body[i : i + 2], 16))), i + 2
    return _literal(n), i


def _in_class(body: str, i: int, ignore_case: bool) -> tuple[str, int, bool]:
    """One member of a character class (or its closing bracket), and whether the class goes on."""
    c = body[i]
    if c == "]":
        return c, i + 1, False
    if ignore_case and c.isalpha() and body[i + 1 : i + 2] == "-" and body[i + 2 : i + 3].isalpha():
        low, high = c, body[i + 2]
        return f"{low.lower()}-{high.lower()}{low.upper()}-{high.upper()}", i + 3, True
    if ignore_case and c.isalpha():
        return (c.lower() + c.upper() if c.lower() != c.upper() else c), i + 1, True
    if c in _LUCENE_ONLY_OPERATORS or c in "[/":
        return "\\" + c, i + 1, True
    return c, i + 1, True


def _class_start(body: str, i: int) -> tuple[str, int]:
    """A class's opening bracket, with its negation and a leading literal ']'."""
    text = "["
    if body[i + 1 : i + 2] == "^":
        text += "^"
        i += 1
    if body[i + 1 : i + 2] == "]":
        text += "\\]"
        i += 1
    return text, i + 1


def _outside_class(body: str, i: int, ignore_case: bool) -> tuple[str, int]:
    """One character or group opener outside a class."""
    c = body[i]
    if c == "(" and body[i + 1 : i + 2] == "?":
        if body[i + 2 : i + 3] != ":":
            raise UnsupportedRegex("look-around, named or inline-flag groups")
        return "(", i + 3
    if c == "(":
        return "(", i + 1
    if c in "*+?}" and body[i + 1 : i + 2] in ("?", "+"):
        # Lazy and possessive quantifiers match the same values as greedy ones.
        return c, i + 2
    if c in "^$":
        raise UnsupportedRegex(f"'{c}' in the middle of the pattern")
    if c == ".":
        return ".", i + 1
    if ignore_case and c.isalpha() and c.lower() != c.upper():
        return f"[{c.lower()}{c.upper()}]", i + 1
    if c in _LUCENE_ONLY_OPERATORS or c == "/":
        return "\\" + c, i + 1
    return c, i + 1


def _literal(c: str) -> str:
    if c.isalnum() or c in " _-,:;'=!%":
        return c
    return "\\" + c
