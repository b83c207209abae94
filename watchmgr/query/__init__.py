"""The query dialects: a Sigma rule's condition as query_string text (pure).

`render` is the one entry: it builds the condition tree from pySigma's parsed rule
(`build`, `tree`) and prints it in the named dialect (`DIALECTS`); regular expressions are
translated to Lucene's syntax in `regex`.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchmgr.errors import RuleError
from watchmgr.query import lucene
from watchmgr.query.build import Builder
from watchmgr.query.regex import UnsupportedRegex, to_lucene_regex
from watchmgr.query.sigma import SigmaDialect
from watchmgr.query.sigmac import SigmacDialect
from watchmgr.query.tree import Node, clause_counts, optimize
from watchmgr.rules import Rule, RuleCondition

__all__ = ["DIALECTS", "Query", "UnsupportedRegex", "render", "to_lucene_regex"]


@dataclass(frozen=True, slots=True)
class Query:
    """A rendered query and the approximations it had to make (for warnings)."""

    text: str
    #: approximations made translating the rule's regular expressions
    notes: tuple[str, ...] = ()
    #: what may keep the query from matching or running as meant (cost, limits, case)
    warnings: tuple[str, ...] = ()
    #: whether a search with it is extreme in cost (one of the warnings says why)
    costly: bool = False


def render(
    rule: Rule, condition: RuleCondition, dialect: str = "sigma", keyword_suffix: str = ".keyword"
) -> Query:
    """The query_string text of one condition of `rule` in the named dialect (`DIALECTS`).

    Raises RuleError for what the dialect cannot express and for a query Elasticsearch would
    refuse at every run (`lucene`: regex syntax, size and complexity, the clause limit).
    """
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
    folded = getattr(printer, "folded", 0)
    limits, costly = _check_limits(rule, tree, printer.regexes, folded)
    warnings = [*getattr(printer, "warnings", ()), *limits]
    return Query(text, tuple(dict.fromkeys(printer.notes)), tuple(dict.fromkeys(warnings)), costly)


def _check_limits(
    rule: Rule, tree: Node, regexes: list[tuple[str, bool]], folded: int = 0
) -> tuple[list[str], bool]:
    """Raise RuleError where Elasticsearch would refuse the query; else (warnings, costly):
    where a small node may refuse it, and whether its cost is extreme. `folded` values of the
    tree were printed inside other values' regexes (no clause, no pattern of their own)."""
    warnings = []
    costly = False
    for regex, from_rule in regexes:
        try:
            # The dialect's own regexes (case classes, address prefixes) are linear: only
            # the rule's may blow up when determinized.
            states = lucene.check_regex(regex, determinize=from_rule)
        except lucene.RegexRejected as err:
            raise RuleError(
                f"Elasticsearch would refuse this query at every run: {err} "
                "(simplify the regular expression or split the rule)",
                rule.locate(r"\|re\b") if from_rule else rule.locate(r"^detection:"),
            ) from err
        if states > lucene.COSTLY_STATES:
            costly = True
            warnings.append(
                f"a regular expression needs {states:,} automaton states: Lucene builds it at "
                "every search, which can take seconds to minutes (bound its repeats)"
            )
    clauses, patterns = clause_counts(tree)
    clauses, patterns = clauses - folded, max(patterns - folded, 0)
    where = rule.locate(r"^detection:")
    if clauses > lucene.MAX_CLAUSES:
        raise RuleError(
            f"the query has {clauses:,} clauses, more than the {lucene.MAX_CLAUSES:,} a search "
            "on a 1 GB-heap Elasticsearch node allows (split the rule's value lists)",
            where,
        )
    if clauses > lucene.CLAUSE_FLOOR:
        warnings.append(
            f"the query has {clauses:,} clauses: nodes with a small heap allow only "
            f"{lucene.CLAUSE_FLOOR:,} (Elasticsearch allows heap in GB × 65,536 / search threads)"
        )
    if patterns > lucene.COSTLY_PATTERNS:
        costly = True
        warnings.append(
            f"the query has {patterns:,} values with a leading wildcard: each search builds an "
            "automaton for each and scans every term of the field (seconds per run)"
        )
    return warnings, costly


#: The dialects: `sigma` (the default) means what the rule says; `sigmac` is sigmac 2020's
#: text with its mistakes put right (and sigmac's semantics: case-sensitive, equality as a
#: phrase); `sigmac-2020` keeps the mistakes, byte for byte, to adopt watches sigmac deployed.
DIALECTS = ("sigma", "sigmac", "sigmac-2020")
