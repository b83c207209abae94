"""The ``sigmac`` and ``sigmac-2020`` dialects: the query_string text of sigmac (2020).

Why this is not a pySigma ``TextQueryBackend``: the 2020 text is shaped by sigmac's condition
optimizer (it strips all groups, folds ``OR(X)`` to ``X``, removes repeats, flattens nested
ANDs/ORs, factors terms common to every branch out of an OR, and then puts parentheses around
every AND and OR again, leaving whatever stands under a NOT as written) and by the field-level
choice between ``F.keyword`` with bare wildcards and ``F`` with a quoted phrase. A token table
cannot say either, so `watchmgr.query.build` rebuilds sigmac's tree from pySigma's parsed rule
and `watchmgr.query.tree` runs the same optimizations; this module prints it.

Where the 2020 output was wrong, the ``sigmac`` dialect is right instead (each case is in the
README's deviation table): ``<``/``>`` are kept instead of deleted, a literal backslash before a
modifier-added ``*`` stays a backslash, a lone keyword with wildcards that 2020 quoted is
searched on ``\\*.keyword`` like a keyword list, and regular expressions are translated to
Lucene syntax on the keyword field. The ``sigmac-2020`` dialect keeps the mistakes.
"""

from __future__ import annotations

import re

from watchmgr.query.regex import slashed, to_lucene_regex
from watchmgr.query.tree import (
    WILD_MULTI,
    WILD_SINGLE,
    And,
    Cased,
    Cidr,
    Compare,
    Exists,
    Group,
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
        #: each regex printed, and whether the rule wrote it (`|re`) or the dialect made it
        self.regexes: list[tuple[str, bool]] = []

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
                self.regexes.append((value.pattern, True))
                return self.term_format.format(field, f"/{value.pattern}/")
            # A regex matches a whole value: on the exact sub-field, unanchored like Sigma's.
            lucene = to_lucene_regex(value.pattern, value.ignore_case, self.notes)
            self.regexes.append((lucene, True))
            return self.term_format.format(field + self.keyword_suffix, slashed(lucene))
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


_FIELD_SPECIALS = re.compile(r"([\s+\-=!(){}\[\]^\"~:/\\<>&|*?])")


def _escape_field(name: str) -> str:
    return _FIELD_SPECIALS.sub(r"\\\1", name)
