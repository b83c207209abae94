"""What Elasticsearch would refuse at search time, found at render time (pure).

A watch whose query ES cannot run fails at every trigger, and nobody sees it. ES refuses a
regex that Lucene's ``RegExp`` cannot parse, one whose automaton has more than 10,000 states
once determinized, one longer than ``index.max_regex_length`` (1,000), and a query with more
clauses than the search allows. This module reads regexes as Lucene's ``RegExp`` does (its
grammar with ES's flags: ``&`` intersection, ``~`` complement, ``#`` empty, ``@`` any string,
``<n-m>`` intervals, and the ``\\d \\s \\w`` classes) and determinizes them by subset
construction, stopping at the limit. The tests hold these verdicts against real Lucene.

The grammar and the automaton are `watchmgr.lucene.regexp`'s, which the sandbox's matcher
shares; this module reads regexes as Elasticsearch 8/9's Lucene 9/10 does.
"""

from __future__ import annotations

from watchmgr.lucene import regexp

#: Elasticsearch's `index.max_regex_length` default.
MAX_REGEX_LENGTH = 1000
#: Lucene's default `maxDeterminizedStates`, which ES uses for query_string regexes.
MAX_DETERMINIZED_STATES = regexp.MAX_DETERMINIZED_STATES
#: Elasticsearch 8/9 allow max(1,024, heap in GB × 65,536 / search threads) clauses
#: (`SearchUtils.calculateMaxClauseValue`): 1,024 is the floor (a warning above it), 4,096
#: what a 1 GB heap with 16 search threads allows (an error above it).
CLAUSE_FLOOR = 1024
MAX_CLAUSES = 4096
#: leading-wildcard values above which a query warns of its cost (an automaton each, per search).
COSTLY_PATTERNS = 500
#: determinized states above which a regex warns of its cost: Lucene builds and minimizes the
#: automaton at every search (the corpus's 6,609-state regex took Lucene 8 two minutes).
COSTLY_STATES = 2000


class RegexRejected(ValueError):
    """A regex Elasticsearch would refuse; the message says why, as ES would."""


_TOO_COMPLEX = (
    f"the regex is too complex: determinizing it needs more than {MAX_DETERMINIZED_STATES:,} states"
)


def _parse(regex: str) -> regexp.Regex:
    try:
        return regexp.parse(regex, lucene=regexp.LUCENE_9)
    except regexp.RegexError as err:
        raise RegexRejected(str(err)) from err


def check_regex(regex: str, *, determinize: bool = True) -> int:
    """Raise RegexRejected if Elasticsearch would refuse `regex` in a query_string search.

    Returns the determinized automaton's states (0 when not determinized here: on request, and
    for ``&`` and ``~``, which Lucene builds from automata rather than counts).
    """
    length = len(regex.encode("utf-16-le")) // 2
    if length > MAX_REGEX_LENGTH:
        raise RegexRejected(
            f"the regex is {length:,} characters long, over Elasticsearch's "
            f"index.max_regex_length of {MAX_REGEX_LENGTH:,}"
        )
    tree = _parse(regex)
    if not determinize or regexp.has_boolean_operators(tree):
        return 0
    try:
        return regexp.determinize(tree, limit=MAX_DETERMINIZED_STATES).states
    except regexp.TooComplex as err:
        raise RegexRejected(_TOO_COMPLEX) from err


def min_length(regex: str) -> int:
    """The fewest characters a value `regex` matches has (0 when Lucene cannot parse it)."""
    try:
        return regexp.min_length(regexp.parse(regex, lucene=regexp.LUCENE_9))
    except regexp.RegexError:
        return 0
