"""The query dialects: a Sigma rule's condition as query_string text (pure).

`render` is the one entry: it builds the condition tree from pySigma's parsed rule
(`build`, `tree`) and prints it in the named dialect (`DIALECTS`); regular expressions are
translated to Lucene's syntax in `regex`.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchmgr.errors import RuleError
from watchmgr.query.build import Builder
from watchmgr.query.regex import UnsupportedRegex, to_lucene_regex
from watchmgr.query.sigma import SigmaDialect
from watchmgr.query.sigmac import SigmacDialect
from watchmgr.query.tree import optimize
from watchmgr.rules import Rule, RuleCondition

__all__ = ["DIALECTS", "Query", "UnsupportedRegex", "render", "to_lucene_regex"]


@dataclass(frozen=True, slots=True)
class Query:
    """A rendered query and the approximations it had to make (for warnings)."""

    text: str
    notes: tuple[str, ...] = ()


def render(
    rule: Rule, condition: RuleCondition, dialect: str = "sigma", keyword_suffix: str = ".keyword"
) -> Query:
    """The query_string text of one condition of `rule` in the named dialect (`DIALECTS`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown query dialect {dialect!r}")
    legacy = dialect == "sigmac-2020"
    tree = optimize(Builder(rule, legacy).condition(condition))
    printer = (
        SigmaDialect(keyword_suffix)
        if dialect == "sigma"
        else SigmacDialect(legacy=legacy, keyword_suffix=keyword_suffix)
    )
    try:
        text = printer.render(tree)
    except UnsupportedRegex as err:
        raise RuleError(
            f"regular expression cannot be expressed in Lucene syntax: {err}",
            rule.locate(r"\|re\b"),
        ) from err
    except ValueError as err:
        raise RuleError(
            f"cannot express the condition in query_string: {err}", rule.location
        ) from err
    return Query(text, tuple(dict.fromkeys(printer.notes)))


#: The dialects: `sigma` (the default) means what the rule says; `sigmac` is sigmac 2020's
#: text with its mistakes put right (and sigmac's semantics: case-sensitive, equality as a
#: phrase); `sigmac-2020` keeps the mistakes, byte for byte, to adopt watches sigmac deployed.
DIALECTS = ("sigma", "sigmac", "sigmac-2020")
