"""The sandbox's index routes that `watchmgr test` and `watchmgr check` use, through the official
client, in the shapes Elasticsearch documents: create (with mappings) and delete an index,
``_bulk``, ``_search`` over indexed documents and ``GET <index>/_mapping/field/<fields>``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from watchmgr.sandbox import Sandbox, SandboxConfig


@pytest.fixture(scope="module")
def es() -> Iterator[Any]:
    from elasticsearch import Elasticsearch

    with (
        Sandbox(SandboxConfig(es_version="9.1.0")) as running,
        Elasticsearch(running.url, max_retries=0) as client,
    ):
        yield client


def _bulk(es: Any, index: str, docs: dict[str, dict[str, Any]]) -> Any:
    operations: list[dict[str, Any]] = []
    for doc_id, doc in docs.items():
        operations += [{"index": {"_index": index, "_id": doc_id}}, doc]
    return es.bulk(operations=operations, refresh=True)


def test_an_index_is_created_filled_in_bulk_searched_and_deleted(es: Any) -> None:
    from elasticsearch import NotFoundError

    assert es.indices.create(index="scratch-1").body == {
        "acknowledged": True,
        "shards_acknowledged": True,
        "index": "scratch-1",
    }
    answer = _bulk(es, "scratch-1", {"a": {"Image": "C:\\x\\cmd.exe"}, "b": {"Image": "y.exe"}})
    assert answer["errors"] is False
    assert [
        (i["index"]["_id"], i["index"]["result"], i["index"]["status"]) for i in answer["items"]
    ] == [
        ("a", "created", 201),
        ("b", "created", 201),
    ]
    found = es.search(
        index="scratch-1",
        body={
            "size": 2,
            "query": {
                "bool": {
                    "must": [{"query_string": {"query": "Image.keyword:*.exe"}}],
                    "filter": [{"ids": {"values": ["a"]}}],
                }
            },
        },
    )
    assert found["hits"]["total"] == {"value": 1, "relation": "eq"}
    assert [h["_id"] for h in found["hits"]["hits"]] == ["a"]
    assert es.indices.delete(index="scratch-1").body == {"acknowledged": True}
    with pytest.raises(NotFoundError):
        es.search(index="scratch-1")


def test_deleting_a_missing_index_is_index_not_found(es: Any) -> None:
    from elasticsearch import NotFoundError

    with pytest.raises(NotFoundError) as caught:
        es.indices.delete(index="never-made")
    assert caught.value.body["error"]["type"] == "index_not_found_exception"
    assert caught.value.body["error"]["index"] == "never-made"


def test_bulk_create_of_an_existing_id_fails_that_item_only(es: Any) -> None:
    es.indices.create(index="scratch-2")
    _bulk(es, "scratch-2", {"a": {"x": 1}})
    answer = es.bulk(
        operations=[
            {"create": {"_index": "scratch-2", "_id": "a"}},
            {"x": 2},
            {"create": {"_index": "scratch-2", "_id": "b"}},
            {"x": 3},
            {"delete": {"_index": "scratch-2", "_id": "zz"}},
        ]
    )
    assert answer["errors"] is True
    first, second, third = (i for i in answer["items"])
    assert first["create"]["status"] == 409
    assert first["create"]["error"]["type"] == "version_conflict_engine_exception"
    assert second["create"]["result"] == "created"
    assert third["delete"]["result"] == "not_found" and third["delete"]["status"] == 404
    es.indices.delete(index="scratch-2")


def test_a_malformed_bulk_action_is_a_400(es: Any) -> None:
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as caught:
        es.bulk(operations=[{"upsert": {"_index": "x"}}, {"a": 1}])
    assert "Malformed action/metadata line [1]" in caught.value.body["error"]["reason"]


def test_field_mappings_are_dynamic_mapping_unless_the_index_was_created_with_them(
    es: Any,
) -> None:
    es.indices.create(
        index="ecs-1",
        mappings={
            "properties": {
                "process": {"properties": {"command_line": {"type": "wildcard"}}},
                "Image": {"type": "keyword", "ignore_above": 1024},
            }
        },
    )
    _bulk(es, "ecs-1", {"a": {"Image": "x", "process": {"command_line": "y"}, "EventID": 1}})
    es.indices.create(index="dyn-1")
    _bulk(
        es,
        "dyn-1",
        {"a": {"Image": "x", "EventID": 4624, "ok": True, "when": "2025-10-24T23:41:48Z"}},
    )
    answer = es.indices.get_field_mapping(
        index="ecs-1,dyn-*", fields="Image,EventID,process.command_line,Image.keyword,ok,when,nope"
    ).body
    assert answer["ecs-1"]["mappings"] == {
        "EventID": {"full_name": "EventID", "mapping": {"EventID": {"type": "long"}}},
        "Image": {
            "full_name": "Image",
            "mapping": {"Image": {"type": "keyword", "ignore_above": 1024}},
        },
        "process.command_line": {
            "full_name": "process.command_line",
            "mapping": {"command_line": {"type": "wildcard"}},
        },
    }
    dynamic = answer["dyn-1"]["mappings"]
    assert dynamic["Image"]["mapping"] == {
        "Image": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    }
    assert dynamic["Image.keyword"] == {
        "full_name": "Image.keyword",
        "mapping": {"keyword": {"type": "keyword", "ignore_above": 256}},
    }
    assert dynamic["EventID"]["mapping"] == {"EventID": {"type": "long"}}
    assert dynamic["ok"]["mapping"] == {"ok": {"type": "boolean"}}
    assert dynamic["when"]["mapping"] == {"when": {"type": "date"}}
    assert "nope" not in dynamic
    es.indices.delete(index="ecs-1")
    es.indices.delete(index="dyn-1")


def test_field_mappings_of_a_missing_index_are_404_unless_unavailable_ones_are_ignored(
    es: Any,
) -> None:
    from elasticsearch import NotFoundError

    with pytest.raises(NotFoundError):
        es.indices.get_field_mapping(index="gone", fields="x")
    assert (
        es.indices.get_field_mapping(index="gone", fields="x", ignore_unavailable=True).body == {}
    )
    assert es.indices.get_field_mapping(index="nothing-*", fields="x").body == {}


def test_index_mappings_and_deletes_survive_a_restart_of_a_durable_sandbox(tmp_path: Any) -> None:
    from watchmgr.sandbox.store import Store

    store = Store(tmp_path / "state.json")
    store.create_index("kept", {"properties": {"a": {"type": "keyword"}}})
    store.create_index("gone")
    store.index_doc("gone", "1", {"a": "x"})
    store.delete_index("gone")
    # not closed: the second store replays the journal, as after a kill
    again = Store(tmp_path / "state.json")
    assert again.index_names() == ["kept"]
    assert again.index_mappings("kept") == {"properties": {"a": {"type": "keyword"}}}


def test_msearch_answers_each_search_or_its_error_in_order(es: Any) -> None:
    es.indices.create(index="scratch-m")
    _bulk(es, "scratch-m", {"a": {"F": "x"}, "b": {"F": "y"}})
    answer = es.msearch(
        searches=[
            {"index": "scratch-m"},
            {"query": {"query_string": {"query": "F:x"}}},
            {"index": "scratch-m"},
            {"query": {"no_such_query": {}}},
            {"index": "missing-index"},
            {"query": {"match_all": {}}},
        ]
    )
    first, second, third = answer["responses"]
    assert first["status"] == 200 and [h["_id"] for h in first["hits"]["hits"]] == ["a"]
    assert second["status"] == 400 and second["error"]["type"] == "parsing_exception"
    assert third["status"] == 404 and third["error"]["type"] == "index_not_found_exception"
    es.indices.delete(index="scratch-m")
