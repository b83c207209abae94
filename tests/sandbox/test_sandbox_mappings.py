"""An index created with explicit mappings is searched as its field types say, as ES does.

ECS users map `keyword` (with `ignore_above`), `wildcard`, `text`, `ip` and `long` fields, and
render with `mapping.keyword_suffix: ""` so that queries go on the field itself. The rows are
behaviours ES documents for those types: a `keyword` or `wildcard` field is one exact term per
value (whole value, case as written; `ignore_above` leaves longer values out, and a `wildcard`
field has no bound unless set), a `text` field its analyzed words, an `ip` field an address
that an address or CIDR term matches, a `long` field a number; a wildcard, prefix or regex term
on an `ip` or number field, and a term such a field cannot read, fail the search. Real Lucene
(the oracle) does not model explicit mappings: these rows are not checked against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from watchmgr.sandbox import Sandbox, SandboxConfig

ECS = {
    "properties": {
        "process": {
            "properties": {
                "executable": {"type": "keyword", "ignore_above": 32},
                "command_line": {
                    "type": "wildcard",
                    "fields": {"text": {"type": "match_only_text"}},
                },
                "pid": {"type": "long"},
            }
        },
        "source": {"properties": {"ip": {"type": "ip"}}},
        "message": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        "event": {"properties": {"code": {"type": "keyword"}}},
    }
}
LONG = "C:\\Program Files\\Some Vendor\\Agent\\agent.exe"  # over the 32 of ignore_above
DOCS: dict[str, dict[str, Any]] = {
    "a": {
        "process": {
            "executable": "C:\\Windows\\System32\\cmd.exe",
            "command_line": "cmd.exe /c whoami",
            "pid": 4,
        },
        "source": {"ip": "10.1.2.3"},
        "message": "User ADMIN logged on",
        "event": {"code": 4688},
    },
    "b": {
        "process.executable": "C:\\WINDOWS\\SYSTEM32\\CMD.EXE",
        "process.command_line": "CMD.EXE /C WHOAMI " + "x" * 300,
        "process.pid": "4688",
        "source.ip": "192.168.1.1",
        "message": "user admin",
    },
    "c": {"process": {"executable": LONG, "pid": 70000}, "source": {"ip": "2001:db8::1"}},
}


@pytest.fixture(scope="module")
def es() -> Iterator[Any]:
    from elasticsearch import Elasticsearch

    with (
        Sandbox(SandboxConfig(es_version="9.1.0")) as running,
        Elasticsearch(running.url, max_retries=0) as client,
    ):
        client.indices.create(index="ecs", mappings=ECS)
        operations: list[dict[str, Any]] = []
        for doc_id, doc in DOCS.items():
            operations += [{"index": {"_index": "ecs", "_id": doc_id}}, doc]
        client.bulk(operations=operations, refresh=True)
        yield client


def hits(es: Any, query: str) -> set[str]:
    found = es.search(index="ecs", query={"query_string": {"query": query}}, size=10)
    return {hit["_id"] for hit in found["hits"]["hits"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # keyword: the whole value is one term, case as written
        ("process.executable:C\\:\\\\Windows\\\\System32\\\\cmd.exe", {"a"}),
        ("process.executable:cmd.exe", set()),
        ("process.executable:*\\\\cmd.exe", {"a"}),
        ("process.executable:/.*\\\\[cC][mM][dD]\\.[eE][xX][eE]/", {"a", "b"}),
        ("process.executable:C\\:\\\\WINDOWS*", {"b"}),
        # keyword: a value over ignore_above is kept in _source only
        ("process.executable:*agent.exe", set()),
        ("_exists_:process.executable", {"a", "b"}),
        # wildcard: exact like keyword, with no ignore_above unless set
        ("process.command_line:*whoami*", {"a"}),
        ("process.command_line:/.*[wW][hH][oO][aA][mM][iI].*/", {"a", "b"}),
        ("process.command_line:*xxx", {"b"}),
        ("process.command_line:whoami", set()),
        ("process.command_line.text:whoami", {"a", "b"}),
        # text with a keyword multi-field
        ("message:admin", {"a", "b"}),
        ('message:"admin logged"', {"a"}),
        ("message.raw:user\\ admin", {"b"}),
        ("message.raw:User*", {"a"}),
        # a keyword field holds a JSON number as its text
        ("event.code:4688", {"a"}),
        # ip: an address, or a CIDR block's network; IPv6 too
        ("source.ip:10.1.2.3", {"a"}),
        ('source.ip:"10.0.0.0/8"', {"a"}),
        ("source.ip:192.168.0.0\\/16", {"b"}),
        ('source.ip:"2001:db8::/32"', {"c"}),
        ("source.ip:[10.0.0.0 TO 10.255.255.255]", {"a"}),
        # long: numbers, a string value coerced
        ("process.pid:4688", {"b"}),
        ("process.pid:[1 TO 5000]", {"a", "b"}),
        ("process.pid:[65536 TO *]", {"c"}),
        ("source.ip:[2001\\:db8\\:\\: TO *]", {"c"}),  # IPv4 sorts as ::ffff:a.b.c.d
        ("_exists_:process.pid", {"a", "b", "c"}),
        # the default field `*` is lenient: an ip or long field is passed over, not an error
        ("whoami", {"a", "b"}),
    ],
)
def test_explicitly_mapped_fields_are_searched_as_their_types_say(
    es: Any, query: str, expected: set[str]
) -> None:
    assert hits(es, query) == expected


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (
            "source.ip:10.*",
            "Can only use prefix queries on keyword, text and wildcard fields - not on "
            "[source.ip] which is of type [ip]",
        ),
        (
            "source.ip:10.*.3",
            "Can only use wildcard queries on keyword, text and wildcard fields - not on "
            "[source.ip] which is of type [ip]",
        ),
        (
            "process.pid:/4.*/",
            "Can only use regexp queries on keyword and text fields - not on [process.pid] "
            "which is of type [long]",
        ),
        ("source.ip:somehost", "'somehost' is not an IP string literal."),
        ("process.pid:abc", 'For input string: "abc"'),
    ],
)
def test_a_term_an_ip_or_number_field_cannot_run_fails_the_search(
    es: Any, query: str, reason: str
) -> None:
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as failed:
        hits(es, query)
    error = failed.value.body["error"]
    assert error["type"] == "search_phase_execution_exception"
    assert error["caused_by"] == {
        "type": "query_shard_exception",
        "reason": f"failed to create query: {reason}",
        "index_uuid": "_na_",
        "index": "_na_",
    }


def test_an_index_without_mappings_keeps_dynamic_mapping(es: Any) -> None:
    es.index(index="dynamic", id="a", document=DOCS["a"], refresh=True)
    found = es.search(
        index="dynamic",
        query={"query_string": {"query": "process.executable:cmd.exe AND source.ip:10.1.2.3"}},
    )
    assert [hit["_id"] for hit in found["hits"]["hits"]] == ["a"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"term": {"process.executable": "C:\\WINDOWS\\SYSTEM32\\CMD.EXE"}}, {"b"}),
        ({"term": {"process.executable": "cmd.exe"}}, set()),
        ({"wildcard": {"process.command_line": {"value": "cmd.exe *"}}}, {"a"}),
        ({"prefix": {"message.raw": "User"}}, {"a"}),
        ({"match": {"message": "ADMIN"}}, {"a", "b"}),
        ({"exists": {"field": "process.executable"}}, {"a", "b"}),
        ({"term": {"event.code": "4688"}}, {"a"}),
    ],
)
def test_the_query_dsl_meets_mapped_fields_as_their_types_say(
    es: Any, query: dict[str, Any], expected: set[str]
) -> None:
    found = es.search(index="ecs", query=query, size=10)
    assert {hit["_id"] for hit in found["hits"]["hits"]} == expected


SUB_FIELD = "illegal field [k], only fields can be specified inside fields"
NOT_A_MAP = "Expected map for property [fields] on field [a] but got a class java.lang.String"


@pytest.mark.parametrize(
    ("mappings", "cause"),
    [
        # a multi-field's spec must be an object (TypeParsers.parseMultiField)
        (
            {"properties": {"a": {"type": "text", "fields": {"k": "x"}}}},
            {"type": "mapper_parsing_exception", "reason": SUB_FIELD},
        ),
        (
            {"properties": {"o": {"properties": {"b": {"type": "text", "fields": {"k": 1}}}}}},
            {"type": "mapper_parsing_exception", "reason": SUB_FIELD},
        ),
        (
            {"properties": {"a": {"type": "text", "fields": {"k.x": {"type": "keyword"}}}}},
            {
                "type": "mapper_parsing_exception",
                "reason": "Field name [k.x] which is a multi field of [a] cannot contain '.'",
            },
        ),
        (
            {"properties": {"a": {"type": "text", "fields": "k"}}},
            {
                "type": "mapper_parsing_exception",
                "reason": "expected map for property [fields] on field [k] or [fields] "
                "but got a class java.lang.String",
            },
        ),
        # a property's spec must be an object; ES names the class of the *name* (String)
        (
            {"properties": {"a": "keyword"}},
            {"type": "mapper_parsing_exception", "reason": NOT_A_MAP},
        ),
        ({"properties": {"a": 7}}, {"type": "mapper_parsing_exception", "reason": NOT_A_MAP}),
        (
            {"properties": {"o": {"properties": "x"}}},
            {"type": "parse_exception", "reason": "properties must be a map type"},
        ),
    ],
)
def test_a_malformed_mapping_is_refused_at_index_creation(
    es: Any, mappings: dict[str, Any], cause: dict[str, str]
) -> None:
    from elasticsearch import BadRequestError, NotFoundError

    with pytest.raises(BadRequestError) as failed:
        es.indices.create(index="malformed", mappings=mappings)
    assert failed.value.body == {
        "error": {
            "root_cause": [cause],
            "type": "mapper_parsing_exception",
            "reason": f"Failed to parse mapping: {cause['reason']}",
            "caused_by": cause,
        },
        "status": 400,
    }
    with pytest.raises(NotFoundError):
        es.indices.get_field_mapping(index="malformed", fields="*")


def test_an_empty_list_stands_for_an_empty_object_in_a_mapping(es: Any) -> None:
    es.indices.create(
        index="empty-lists",
        mappings={
            "properties": {"a": {"type": "text", "fields": []}, "b": [], "o": {"properties": []}}
        },
    )
    es.index(index="empty-lists", id="1", document={"a": "x y"}, refresh=True)
    assert hits_in(es, "empty-lists", "a:y") == {"1"}


def hits_in(es: Any, index: str, query: str) -> set[str]:
    found = es.search(index=index, query={"query_string": {"query": query}}, size=10)
    return {hit["_id"] for hit in found["hits"]["hits"]}
