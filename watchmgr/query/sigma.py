"""The ``sigma`` dialect (the default): query_string text that matches what the Sigma rule says.

It prints the same condition tree as the sigmac dialects, in the same watch shape, but each
value means in Lucene what it means in Sigma:

- **Case.** Sigma compares strings case-insensitively unless ``|cased``; ``.keyword`` terms,
  wildcards and regexes are case-sensitive. A value with letters is therefore a regex on the
  exact field with a class per letter (``Image.keyword:/.*\\\\[cC][mM][dD]\\.[eE][xX][eE]/``); one
  without letters (``4688``, ``\\\\*``) stays a term or wildcard. A ``|cased`` value is a plain
  term or wildcard on the exact field. (Why regexes and not the query DSL's
  ``case_insensitive``: README, "Does it fire?".)
- **Equality is the whole value**: a term or an unwildcarded regex on the exact field, never a
  phrase on the analyzed one (which matches any value containing those words).
- **Empty values** are the exact term ``F.keyword:""`` (a phrase of no words is dropped from the
  query); ``null`` and ``exists: false`` are ``(NOT _exists_:F)``, parenthesized so that ES
  gives the purely negative group its match-all (``A OR NOT B`` alone means ``A AND NOT B``).
- **CIDR** on the text field of a dynamic mapping is expanded to a regex over the address
  text, beside the network as a term for ``ip``-typed fields; with keyword-typed fields
  (``keyword_suffix: ""``, ECS) only the term, since ECS types addresses as ``ip``.
- **Keywords** (values without a field) are searched in every exact field, case-insensitively.

A value whose case-insensitive regex would exceed Elasticsearch's ``index.max_regex_length``
(1,000 characters) is searched as written, with a note (a warning): case-sensitively.
"""

from __future__ import annotations

import ipaddress
import re

from watchmgr.query.lucene import CLAUSE_FLOOR, MAX_REGEX_LENGTH
from watchmgr.query.regex import slashed, to_lucene_regex
from watchmgr.query.sigmac import SigmacDialect, _escape_field, _surround
from watchmgr.query.tree import (
    WILD_MULTI,
    WILD_SINGLE,
    And,
    Cased,
    Cidr,
    Compare,
    Exists,
    Node,
    Not,
    Null,
    Number,
    Or,
    Regex,
    Term,
    Text,
    Value,
    ValueList,
)

#: characters that stand for themselves in a Lucene regex (everything else is escaped).
_REGEX_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_,;:=!%'")

Clause = tuple[str, str]  # (field as printed, query token)
#: marks a clause's field as holding a number (`SigmaDialect.numeric`)
_NUMERIC = "\x00numeric:"
_BOOLEANS = ('"true"', '"false"')


class SigmaDialect(SigmacDialect):
    """Print the condition tree with Sigma's semantics (see the module's docstring)."""

    null_format = "(NOT _exists_:{})"

    def __init__(self, keyword_suffix: str = ".keyword") -> None:
        super().__init__(legacy=False, keyword_suffix=keyword_suffix)
        self.warnings: list[str] = []  # about the whole query, for warnings
        self.negated = 0  # how many NOTs the term being printed is under
        #: values printed inside another value's regex (`packed`): clauses the tree counts
        #: that the query does not have
        self.folded = 0

    def node(self, node: Node) -> str | None:
        if isinstance(node, (Text, Number)):
            return self.keyword_group(Or([node]))  # a lone keyword, as a keyword list
        if isinstance(node, Not):
            self.negated += 1
            try:
                return super().node(node)
            finally:
                self.negated -= 1
        if isinstance(node, And):
            # sigmac leaves what stands under a NOT ungrouped, so `|all` values in a filter
            # printed `A OR B AND C`, which Lucene reads as `B AND C` (A only optional).
            token = self.or_token if isinstance(node, Or) else self.and_token
            parts = []
            for item in node.items:
                text = self.node(item)
                if text is not None and isinstance(item, And) and type(item) is not type(node):
                    text = self.group_format.format(text)
                if text is not None:
                    parts.append(text)
            return token.join(parts) if parts else None
        return super().node(node)

    def keyword_group(self, node: And) -> str:
        token = self.or_token if isinstance(node, Or) else self.and_token
        field = "\\*" + self.keyword_suffix
        values = [self.keyword_token(_surround(item)) for item in node.items]
        return field + ":" + self.group_format.format(token.join(values))

    def keyword_token(self, value: Value) -> str:
        if isinstance(value, Number):
            return f"*{self.escape(value.text)}*"
        assert isinstance(value, Text)
        return self.text_token(value.parts)

    def term(self, term: Term) -> str:
        value = term.value
        field = _escape_field(term.field)
        exact = field + self.keyword_suffix
        if isinstance(value, (Null, Exists)):
            exists = isinstance(value, Exists) and value.exists
            return (self.exists_format if exists else self.null_format).format(field)
        if isinstance(value, Compare):
            return self.term_format.format(field, value.op + value.number)
        if isinstance(value, Regex):
            lucene = to_lucene_regex(value.pattern, value.ignore_case, self.notes)
            self.regexes.append((lucene, True))
            return self.term_format.format(exact, slashed(lucene))
        listed = value.values if isinstance(value, ValueList) else (value,)
        packed: list[Clause] = []
        values = listed
        if len(listed) > CLAUSE_FLOOR:
            packed, values = self.packed(exact, listed)
        clauses = [*packed, *(clause for v in values for clause in self.clauses(field, exact, v))]
        printed = self.join(clauses)
        if packed:
            # Their words on the text field would be a clause per value again.
            self.warnings.append(
                f"{len(listed) - len(values):,} values are searched as regexes of "
                f"alternatives in {exact} only: a value of {field} over 256 characters, which "
                "dynamic mapping leaves out of it, is not found (map the field as wildcard)"
            )
            return printed
        words = self.long_values(field, exact, values)
        if words is None:
            return printed
        return f"({printed} OR {words})"

    def packed(
        self, exact: str, values: tuple[Value, ...]
    ) -> tuple[list[Clause], tuple[Value, ...]]:
        """A list too long for one clause per value: its values as regexes of alternatives.

        Elasticsearch refuses a query over its clause limit, and each regex clause costs an
        automaton and a pass over the field's terms per search. Values of one shape (``*x*``,
        ``x*``, ``*x``, ``x``, case-insensitive) are sorted and written as few regexes as
        ``index.max_regex_length`` allows, each with its alternatives' common prefix once:
        ``.*[mM][dD]5=([aA]1...|[bB]2...).*``. Returns those clauses and the values left as
        they were.
        """
        shapes: dict[tuple[bool, bool], list[list[str]]] = {}
        rest: list[Value] = []
        for value in values:
            shape = _packable(value)
            if shape is None:
                rest.append(value)
                continue
            lead, trail, literal = shape
            tokens = [_regex_part(c) for c in literal]
            if _java_length("".join(tokens)) + 4 > MAX_REGEX_LENGTH:
                rest.append(value)  # alone too long: matched as written, with its warning
                continue
            shapes.setdefault((lead, trail), []).append(tokens)
        clauses: list[Clause] = []
        for (lead, trail), shaped in sorted(shapes.items()):
            ends = (".*" if lead else "", ".*" if trail else "")
            regexes = _alternations(sorted(shaped), *ends)
            self.folded += len(shaped) - len(regexes)
            for regex in regexes:
                self.regexes.append((regex, False))
                clauses.append((exact, slashed(regex)))
        return clauses, tuple(rest)

    def long_values(self, field: str, exact: str, values: tuple[Value, ...]) -> str | None:
        """Where a value is too long for the keyword sub-field, its words on the text field.

        ES's dynamic mapping does not index values over 256 characters in ``.keyword``
        (``ignore_above``), so a command line or script block that long never matches there.
        For those documents only (no ``.keyword``), the value's words as phrases on the text
        field: looser (words, not characters), so never under a NOT, where matching more would
        drop true hits. A value with no word has no phrase: then nothing is added.
        """
        if self.negated or not self.keyword_suffix:
            return None
        phrases = [_phrases(v) for v in values if isinstance(v, (Text, Cased)) and not _numeric(v)]
        if not phrases or any(not p for p in phrases):
            return None
        alternatives = [p[0] if len(p) == 1 else "(" + " AND ".join(p) + ")" for p in phrases]
        if all(len(p) == 1 for p in phrases) or len(alternatives) == 1:
            words = self.term_format.format(field, self.values(alternatives))
        else:
            words = "(" + " OR ".join(f"{field}:{a}" for a in alternatives) + ")"
        return f"({words} AND NOT {self.exists_format.format(exact)})"

    def join(self, clauses: list[Clause]) -> str:
        """``F:a`` or ``F:(a OR b)``, values on different fields ORed in a group."""
        by_field: dict[str, list[str]] = {}
        for field, token in clauses:
            by_field.setdefault(field, []).append(token)
        printed = []
        for field, tokens in by_field.items():
            if field.startswith(_NUMERIC):
                printed.append(self.numeric(field.removeprefix(_NUMERIC), tokens))
            else:
                printed.append(self.term_format.format(field, self.values(tokens)))
        return printed[0] if len(printed) == 1 else self.group_format.format(" OR ".join(printed))

    def values(self, tokens: list[str]) -> str:
        return tokens[0] if len(tokens) == 1 else self.list_format.format(" OR ".join(tokens))

    def numeric(self, field: str, tokens: list[str]) -> str:
        """Numbers and booleans: exact on the keyword sub-field of a text field, else on the field.

        On a text field itself they would be phrases (``"pre 4688 post"`` would match); a
        numeric or boolean field (JSON numbers and booleans under a dynamic mapping) has no
        keyword sub-field, and there the field's own term is exact.
        """
        value = self.values(tokens)
        if not self.keyword_suffix:
            return self.term_format.format(field, value)
        exact = field + self.keyword_suffix
        # Sigma compares `true`/`false` case-insensitively, as every string.
        on_exact = self.values(
            [self.text_token((t[1:-1],)) if t in _BOOLEANS else t for t in tokens]
        )
        missing = self.exists_format.format(exact)
        return f"({exact}:{on_exact} OR ({field}:{value} AND NOT {missing}))"

    def clauses(self, field: str, exact: str, value: Value) -> list[Clause]:
        if isinstance(value, Number):
            return [(_NUMERIC + field, f'"{value.text}"')]
        if isinstance(value, Cased):
            return [(exact, self.cased_token(value.text.parts))]
        if isinstance(value, Cidr):
            return self.cidr(field, exact, value.network)
        if isinstance(value, Text):
            literal = "".join(value.parts)
            if _numeric(value):
                # A number written as a string: the field may be numeric (no .keyword there).
                return [(_NUMERIC + field, f'"{literal}"')]
            return [(exact, self.text_token(value.parts))]
        raise ValueError(f"{type(value).__name__} inside a value list")

    def text_token(self, parts: tuple[str, ...]) -> str:
        """A case-insensitive whole-value token: a term or wildcard without letters, else regex."""
        if not any(_has_case(part) for part in parts if part not in (WILD_MULTI, WILD_SINGLE)):
            return self.cased_token(parts)
        regex = "".join(_regex_part(part) for part in parts)
        if _java_length(regex) > MAX_REGEX_LENGTH:
            self.warnings.append(
                "a value too long for a case-insensitive regex "
                f"(over {MAX_REGEX_LENGTH:,} characters) is matched case-sensitively, as written"
            )
            return self.cased_token(parts)
        self.regexes.append((regex, False))
        return slashed(regex)

    def cased_token(self, parts: tuple[str, ...]) -> str:
        """The value as written: a wildcard term, or an exact (quoted) term."""
        if any(part in (WILD_MULTI, WILD_SINGLE) for part in parts):
            return "".join(self.part(part) for part in parts)
        literal = "".join(parts)
        return '"' + literal.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def cidr(self, field: str, exact: str, network: str) -> list[Clause]:
        term = (field, f'"{network}"')
        if not self.keyword_suffix:
            return [term]
        pattern = cidr_regex(network)
        if pattern is None:
            return [term]
        self.regexes.append((pattern, False))
        return [term, (exact, slashed(pattern))]


def cidr_regex(network: str) -> str | None:
    """A Lucene regex for the text of the addresses in `network`, None if it cannot be written."""
    net = ipaddress.ip_network(network, strict=False)
    if net.version == 4:
        return _ipv4_regex(net)
    return _ipv6_regex(net)


def _ipv4_regex(net: ipaddress.IPv4Network) -> str:
    octets = str(net.network_address).split(".")
    whole, partial = divmod(net.prefixlen, 8)
    fixed = octets[:whole]
    if whole == 4:
        return "\\.".join(fixed)
    if partial:
        size = 1 << (8 - partial)
        first = int(octets[whole])
        fixed.append("(" + "|".join(str(n) for n in range(first, first + size)) + ")")
    if not fixed:
        return ".*"
    if len(fixed) == 4:  # the network ends inside the last octet
        return "\\.".join(fixed)
    return "\\.".join(fixed) + "\\..*"


_HEX = "[0-9a-fA-F]"


def _ipv6_regex(net: ipaddress.IPv6Network) -> str | None:
    if net.prefixlen == 128:
        return "".join(_regex_part(c) for c in net.network_address.compressed)
    groups = net.network_address.exploded.split(":")
    whole, partial = divmod(net.prefixlen, 16)
    if whole == 0 and partial == 0:
        return ".*"
    fixed = [format(int(g, 16), "x") for g in groups[:whole]]
    if any(g == "0" for g in fixed):
        return None  # zero groups may be compressed to `::`: no one prefix text
    prefix = ":".join(_regex_part(g) for g in fixed)
    if not partial:
        return prefix + ":.*"
    group = groups[whole]
    nibbles, bits = divmod(partial, 4)
    if group[0] == "0":
        return None  # leading zeros are dropped: the group's text has no fixed length
    head = "".join(_regex_part(c) for c in group[:nibbles])
    if bits:
        first = int(group[nibbles], 16)
        options = [format(n, "x") for n in range(first, first + (1 << (4 - bits)))]
        head += "[" + "".join(dict.fromkeys(c for o in options for c in (o, o.upper()))) + "]"
        nibbles += 1
    rest = 4 - nibbles
    tail = _HEX + (f"{{{rest}}}" if rest > 1 else "") if rest else ""
    return (prefix + ":" if prefix else "") + head + tail + ":.*"


_WORD = re.compile(r"\w")


def _numeric(value: Value) -> bool:
    """A number written as a string (``'4688'``): its field may be numeric."""
    if not isinstance(value, Text) or value.has_wildcard:
        return False
    literal = "".join(value.parts)
    return literal.isdigit() and literal.isascii()


def _phrases(value: Text | Cased) -> list[str]:
    """The value's literal runs (between wildcards) as quoted phrases; [] if one has no word."""
    text = value.text if isinstance(value, Cased) else value
    runs: list[str] = []
    current: list[str] = []
    for part in text.parts:
        if part in (WILD_MULTI, WILD_SINGLE):
            runs.append("".join(current))
            current = []
        else:
            current.append(part)
    runs.append("".join(current))
    runs = [run for run in runs if run]
    if not runs or any(not _WORD.search(run) for run in runs):
        return []
    return ['"' + run.replace("\\", "\\\\").replace('"', '\\"') + '"' for run in runs]


def _packable(value: Value) -> tuple[bool, bool, str] | None:
    """(leading ``*``, trailing ``*``, literal) of a case-insensitive ``*x*``-shaped value."""
    if not isinstance(value, Text) or _numeric(value):
        return None
    parts = list(value.parts)
    lead = parts[:1] == [WILD_MULTI]
    trail = len(parts) > int(lead) and parts[-1] == WILD_MULTI
    middle = parts[int(lead) : len(parts) - int(trail)]
    if not middle or any(part in (WILD_MULTI, WILD_SINGLE) for part in middle):
        return None
    literal = "".join(middle)
    return (lead, trail, literal) if _has_case(literal) else None


def _alternations(tokens: list[list[str]], lead: str, trail: str) -> list[str]:
    """Sorted values (one regex token per character) as few regexes as the length limit allows."""
    regexes: list[str] = []
    start = 0
    while start < len(tokens):
        end = start + 1
        best = _alternation(tokens[start:end], lead, trail)
        while end < len(tokens):
            longer = _alternation(tokens[start : end + 1], lead, trail)
            if _java_length(longer) > MAX_REGEX_LENGTH:
                break
            best, end = longer, end + 1
        regexes.append(best)
        start = end
    return regexes


def _alternation(tokens: list[list[str]], lead: str, trail: str) -> str:
    """``lead prefix(rest|rest...) trail``, the values' common prefix written once."""
    if len(tokens) == 1:
        return lead + "".join(tokens[0]) + trail
    first, last = tokens[0], tokens[-1]  # sorted: their common prefix is everyone's
    common = 0
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1
    rests = ["".join(t[common:]) or "()" for t in tokens]
    return lead + "".join(first[:common]) + "(" + "|".join(rests) + ")" + trail


def _has_case(text: str) -> bool:
    return any(c.lower() != c.upper() for c in text)


def _regex_part(part: str) -> str:
    if part == WILD_MULTI:
        return ".*"
    if part == WILD_SINGLE:
        return "."
    out = []
    for c in part:
        low, high = c.lower(), c.upper()
        if low != high and len(low) == 1 and len(high) == 1:
            out.append(f"[{low}{high}]")
        elif c in _REGEX_PLAIN:
            out.append(c)
        else:
            out.append("\\" + c)
    return "".join(out)


def _java_length(text: str) -> int:
    """The length Elasticsearch measures: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
