"""Sigma condition → the query tree: pySigma's parsed rule rebuilt as sigmac's parse tree.

pySigma does all the parsing, modifiers and pipelines; this walks its result and builds the
tree of `watchmgr.query.tree`, keeping what sigmac's text depends on (parentheses under a NOT,
the pairwise reduction of ``a and b and c``, which values were written as a YAML list).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from watchmgr.errors import RuleError
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
    optimize,
)
from watchmgr.rules import Rule, RuleCondition, rule_error


class Builder:
    """Rebuild sigmac's parse tree for one condition of a loaded rule."""

    def __init__(self, rule: Rule, legacy: bool = False) -> None:
        self.rule = rule
        self.legacy = legacy
        self.detections = rule.sigma.detection.detections
        self.not_parens: list[bool] = []

    def condition(self, condition: RuleCondition) -> Node:
        parsed = _parse_tree(self.rule, condition.index)
        # pySigma's tree does not keep parentheses, and below a NOT they shape sigmac's text:
        # whether each `not` (in text order, which is the tree's left-to-right order) was
        # followed by one.
        self.not_parens = [m.group(1) is not None for m in _NOT_TOKEN.finditer(condition.search)]
        return self.node(parsed)

    def node(self, cond: Any) -> Node:
        from sigma.conditions import (
            ConditionAND,
            ConditionIdentifier,
            ConditionNOT,
            ConditionOR,
            ConditionSelector,
        )

        if isinstance(cond, ConditionIdentifier):
            return Group(self.definition(cond.identifier))
        if isinstance(cond, ConditionSelector):
            return self.selector(cond)
        if isinstance(cond, ConditionNOT):
            parenthesized = self.not_parens.pop(0) if self.not_parens else False
            inner = cond.args[0]
            built = self.node(inner)
            if parenthesized or isinstance(inner, (ConditionAND, ConditionOR)):
                # sigmac optimized a parenthesized group on its own and kept its parentheses.
                built = Group(optimize(built))
            return Not(built)
        if isinstance(cond, (ConditionAND, ConditionOR)):
            kind: type[And] = And if isinstance(cond, ConditionAND) else Or
            args = [
                # A nested AND/OR came from parentheses in the rule: optimized on its own first.
                Group(optimize(self.node(arg)))
                if isinstance(arg, (ConditionAND, ConditionOR))
                else self.node(arg)
                for arg in cond.args
            ]
            # sigmac reduced `a and b and c` pairwise from the left.
            tree: Node = args[0]
            for arg in args[1:]:
                tree = kind([tree, arg])
            return tree
        raise RuleError(f"unexpected condition element {type(cond).__name__}", self.rule.location)

    def selector(self, cond: Any) -> Node:
        from sigma.conditions import ConditionAND

        kind: type[And] = And if cond.cond_class is ConditionAND else Or
        pattern = cond.pattern
        if pattern != "them" and "*" not in pattern:
            return Group(self.definition(pattern, kind))
        names = [
            ident.identifier
            for ident in cond.resolve_referenced_detections(self.rule.sigma.detection)
        ]
        if not names:
            raise RuleError(
                f"'{cond.args[0]} of {pattern}' matches no search identifier",
                self.rule.locate(r"^\s*condition:"),
            )
        return Group(kind([Group(self.definition(name)) for name in names]))

    def definition(self, name: str, override: type[And] | None = None) -> Node:
        detection = self.detections.get(name)
        if detection is None:
            raise RuleError(
                f"condition names search identifier {name!r}, "
                "which is not defined under 'detection'",
                self.rule.locate(rf"^\s*condition:.*\b{re.escape(name)}\b"),
            )
        return self.detection(detection, override)

    def detection(self, detection: Any, override: type[And] | None = None) -> Node:
        from sigma.conditions import ConditionAND
        from sigma.rule import SigmaDetection

        items = detection.detection_items
        if len(items) == 1 and not isinstance(items[0], SigmaDetection) and items[0].field is None:
            return self.keywords(items[0], override)
        linking: type[And] = And if detection.item_linking is ConditionAND else Or
        if override is not None and linking is Or:
            linking = override
        built: list[Node] = []
        for item in items:
            if isinstance(item, SigmaDetection):
                built.append(self.detection(item))
            elif item.field is None:
                built.append(self.keywords(item))
            else:
                built.append(self.item(item))
        return linking(built)

    def keywords(self, item: Any, override: type[And] | None = None) -> Node:
        from sigma.conditions import ConditionAND

        kind: type[And] = And if item.value_linking is ConditionAND else (override or Or)
        values = self.item_values(item)
        node: Node = kind([v for v in values if isinstance(v, (Text, Number))])
        if any(not isinstance(v, (Text, Number)) for v in values):
            raise RuleError(
                "keyword searches (values without a field) must be plain strings or numbers",
                self.rule.locate(r"^\s*-|^\s*\S"),
            )
        return Not(node) if item.negated else node

    def item(self, item: Any) -> Node:
        from sigma.conditions import ConditionAND

        field = str(item.field)
        values = self.item_values(item)
        node: Node
        if not values:
            node = Term(field, Null())
        elif item.value_linking is ConditionAND and len(values) > 1:
            node = And([Term(field, v) for v in values])
        elif len(values) > 1 and not _listable(values):
            node = Or([Term(field, v) for v in values])
        elif len(values) > 1 or (id(item) in self.rule.list_valued and _listable(values)):
            node = Term(field, ValueList(tuple(values)))
        else:
            node = Term(field, values[0])
        return Not(node) if item.negated else node

    def item_values(self, item: Any) -> list[Value]:
        values = [v for value in item.value for v in self.values(value)]
        legacy = _legacy_raws(item) if self.legacy else None
        if legacy is not None and len(legacy) == len(values):
            values = [
                Text(v.parts, raw) if isinstance(v, Text) else v
                for v, raw in zip(values, legacy, strict=True)
            ]
        return values

    def values(self, value: Any) -> list[Value]:
        from sigma import types as st

        if isinstance(value, st.SigmaExpansion):
            return [v for inner in value.values for v in self.values(inner)]
        if isinstance(value, st.SigmaCasedString):
            return [Cased(self.text(value))]
        if isinstance(value, st.SigmaString):
            return [self.text(value)]
        if isinstance(value, st.SigmaBool):
            # Printed as sigmac printed it; as a Number the dialects keep it off `.keyword`
            # (a boolean field has none).
            return [Number("true" if value.boolean else "false")]
        if isinstance(value, st.SigmaNumber):
            return [Number(str(value.number))]
        if isinstance(value, st.SigmaNull):
            return [Null()]
        if isinstance(value, st.SigmaExists):
            return [Exists(bool(value.exists))]
        if isinstance(value, st.SigmaRegularExpression):
            flags = {flag.name for flag in value.flags}
            return [Regex(value.regexp.to_plain_regex(), ignore_case="IGNORECASE" in flags)]
        if isinstance(value, st.SigmaCompareExpression):
            ops = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
            return [Compare(ops[value.op.name], str(value.number.number))]
        if isinstance(value, st.SigmaCIDRExpression):
            return [Cidr(str(value.network))]
        if isinstance(value, st.SigmaFieldReference):
            raise RuleError(
                "modifier 'fieldref' cannot be expressed in query_string "
                "(it compares two fields of one event)",
                self.rule.locate(r"\|fieldref"),
            )
        name = type(value).__name__.removeprefix("Sigma")
        raise RuleError(
            f"a {name} value cannot be expressed in query_string", self.rule.locate(r"^detection:")
        )

    def text(self, value: Any) -> Text:
        from sigma.types import Placeholder, SpecialChars

        parts: list[str] = []
        for part in value.s:
            if isinstance(part, str):
                parts.append(part)
            elif part is SpecialChars.WILDCARD_MULTI:
                parts.append(WILD_MULTI)
            elif part is SpecialChars.WILDCARD_SINGLE:
                parts.append(WILD_SINGLE)
            elif isinstance(part, Placeholder):
                raise RuleError(
                    f"placeholder %{part.name}% has no value "
                    "(give it values under mapping.placeholders in the environment file)",
                    self.rule.locate(rf"%{re.escape(part.name)}%|\|expand"),
                )
        return Text(tuple(parts))


#: Parse trees by condition text. The builder only reads them, and rule sets repeat a few
#: conditions thousands of times ("selection", "selection and not filter"), so each text is
#: parsed (and copied by pySigma) once per process.
_PARSED: dict[str, Any] = {}


def _parse_tree(rule: Rule, index: int) -> Any:
    condition = rule.sigma.detection.parsed_condition[index]
    tree = _PARSED.get(condition.condition)
    if tree is None:
        try:
            tree = condition.parse(postprocess=False)
        except Exception as err:  # pySigma's condition errors, with the rule's line
            raise rule_error(err, rule.locate) from err
        if len(_PARSED) < 4096:
            _PARSED[condition.condition] = tree
    return tree


_NOT_TOKEN = re.compile(r"\bnot\b\s*(\()?", re.IGNORECASE)


_LEGACY_MODIFIERS = {
    "contains": (True, True),
    "startswith": (False, True),
    "endswith": (True, False),
}


def _legacy_raws(item: Any) -> list[str | None] | None:
    """What sigmac 2020 saw for each value of `item`, when only string modifiers apply."""
    from sigma.modifiers import reverse_modifier_mapping
    from sigma.types import SigmaString

    names = [reverse_modifier_mapping.get(m.__name__, "?") for m in item.modifiers]
    if any(name not in _LEGACY_MODIFIERS and name != "all" for name in names):
        return None
    raws: list[str | None] = []
    for original in item.original_value or ():
        if not isinstance(original, SigmaString):
            raws.append(None)
            continue
        raw = original.original
        for name in names:
            before, after = _LEGACY_MODIFIERS.get(name, (False, False))
            if before and not raw.startswith("*"):
                raw = "*" + raw
            if after and not raw.endswith("*"):
                raw += "*"
        raws.append(raw)
    return raws


def _listable(values: Sequence[Value]) -> bool:
    return all(isinstance(v, (Text, Number, Cased, Cidr)) for v in values)
