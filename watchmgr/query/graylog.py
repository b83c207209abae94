"""``render --format query --target graylog``: the Graylog search text sigmac (2020) printed.

sigmac's ``graylog`` backend was a plain ``SingleTextQueryBackend``: the same condition tree and
optimizer as ``es-qs`` (so the same parentheses, `watchmgr.query.tree`), printed with other
tokens. Every value is a quoted phrase, wildcards and numbers included, on the field as written
(no ``.keyword``); a value list is space-separated (``F:("a" "b")``); its escaping is its own
(below: no whitespace, no ``=``, and ``<``, ``>`` kept). It had no type modifiers, so a regular
expression was an error, and no aggregations. The ``sigmac-2020`` text of the ``es-qs`` dialect
is the model (`SigmacDialect` with ``legacy``), so the raw strings sigmac saw are used as sigmac
saw them, mistakes included: this prints what a 2020 Graylog user had, for comparison.
"""

from __future__ import annotations

import re

from watchmgr.errors import RuleError
from watchmgr.query.build import Builder
from watchmgr.query.sigmac import SigmacDialect, _legacy_raw
from watchmgr.query.tree import And, Group, Node, Number, Or, Regex, Text, Value, optimize
from watchmgr.rules import Rule

#: sigmac's GraylogQuerystringBackend.reEscape: Lucene specials (not whitespace, not ``=``), and
#: a backslash unless it escapes ``*``, ``?`` or another backslash. No reClear: ``<``, ``>`` stay.
_GRAYLOG_ESCAPE = re.compile(r'([+\-!(){}\[\]^"~:/]|(?<!\\)\\(?![*?\\])|&&|\|\|)')


class GraylogDialect(SigmacDialect):
    """sigmac 2020's graylog tokens over the legacy tree (see the module's docstring)."""

    #: ``listSeparator = " "``: no OR between a field's values (query_string's default
    #: operator, OR, joins the quoted phrases).
    list_separator = " "

    def __init__(self) -> None:
        super().__init__(legacy=True, keyword_suffix="")

    def group(self, node: Group) -> str | None:
        # Unbound keywords are quoted values like any other; no ``\*.keyword`` field.
        inner = node.item
        if (
            isinstance(inner, And)
            and inner.items
            and all(isinstance(i, (Text, Number)) for i in inner.items)
        ):
            token = self.or_token if isinstance(inner, Or) else self.and_token
            values = token.join(self.value(item, keyword=False) for item in inner.items)
            return self.group_format.format(values)
        return super().group(node)

    def wants_keyword(self, value: Value) -> bool:
        if isinstance(value, Regex):
            raise ValueError(
                "a regular expression ('|re') has no graylog form: sigmac's graylog backend "
                "had no type modifiers"
            )
        return False  # every value a quoted phrase, on the field as written

    def node(self, node: Node) -> str | None:
        if isinstance(node, (Text, Number)):
            return self.value(node, keyword=False)
        return super().node(node)

    def value(self, value: Node | Value, keyword: bool) -> str:
        if isinstance(value, Text):
            escaped = _GRAYLOG_ESCAPE.sub(r"\\\1", _legacy_raw(value))
            return f'"{escaped}"'
        return super().value(value, keyword=False)


def render(rule: Rule) -> list[str]:
    """The graylog text of each condition of `rule`, in order.

    Raises RuleError for what sigmac's graylog backend could not print: an aggregation, a
    regular expression.
    """
    queries = []
    for condition in rule.conditions:
        if condition.aggregation is not None:
            raise RuleError(
                f"the aggregation {condition.aggregation.text!r} has no graylog form: sigmac's "
                "graylog backend printed searches only",
                rule.locate(r"^\s*condition:"),
            )
        tree = optimize(Builder(rule, legacy=True).condition(condition))
        try:
            queries.append(GraylogDialect().render(tree))
        except ValueError as err:
            raise RuleError(f"{err}", rule.locate(r"\|re\b")) from err
    return queries
