"""The sandbox's query_string lexer on Lucene's single `&` and `|`, which are term characters."""

from __future__ import annotations

import pytest

from watchmgr.sandbox.querystring import QueryStringError, parse_query_string


@pytest.mark.parametrize(
    "query",
    [
        "CallTrace.keyword:UNKNOWN\\(0\\)|UNKNOWN\\(1\\)|*",
        "a | b",
        "Cmd.keyword:*a&b*",
        "a && b || c",
    ],
)
def test_single_ampersand_and_pipe_are_part_of_terms(query: str) -> None:
    assert parse_query_string(query) is not None


def test_an_unclosed_group_is_still_a_syntax_error() -> None:
    with pytest.raises(QueryStringError):
        parse_query_string("a:(b")
