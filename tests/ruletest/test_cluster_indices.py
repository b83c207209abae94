"""The cluster calls of `watchmgr test` and `check`: scratch indices, bulk, search, mappings,
through the official client; failures are one ClusterError that says what to do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.test_cluster_answers import FakeServer, json_answer
from watchmgr.cluster import FIELDS_PER_URL, Cluster, connect_url
from watchmgr.errors import ClusterError
from watchmgr.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer({})
    server.thread.start()
    yield server
    server.server.shutdown()


def _cluster(url: str) -> Cluster:
    return connect_url(url, "test")


@pytest.mark.parametrize("version", ["8.19.0", "9.1.0"])
def test_a_scratch_index_round_trip_against_either_major(version: str) -> None:
    with Sandbox(SandboxConfig(es_version=version)) as sandbox:
        cluster = _cluster(sandbox.url)
        cluster.create_index("scratch")
        cluster.bulk_index("scratch", [("a", {"F": "x y"}), ("b", {"F": "z"})])
        good = {"size": 2, "query": {"query_string": {"query": "F:x"}}}
        bad = {"query": {"no_such_query": {}}}
        assert cluster.search_many("scratch", [good, bad, good]) == [
            ["a"],
            "parsing_exception: unknown query [no_such_query]",
            ["a"],
        ]
        assert cluster.field_mappings(["scratch"], ["F.keyword"]) == {
            "scratch": {"F.keyword": {"type": "keyword", "ignore_above": 256}}
        }
        cluster.delete_index("scratch")
        cluster.delete_index("scratch")  # already gone: fine
        assert sandbox.api.store.index_names() == []


def test_events_the_cluster_refuses_are_one_error_naming_the_first(fake: FakeServer) -> None:
    refused = {
        "index": {
            "_id": "r0-t0-e1",
            "status": 400,
            "error": {"type": "document_parsing_exception", "reason": "failed to parse [EventID]"},
        }
    }
    fine = {"index": {"_id": "r0-t0-e0", "status": 201, "result": "created"}}
    fake.routes[("PUT", "/_bulk")] = json_answer({"errors": True, "items": [fine, refused]})
    fake.routes[("POST", "/_bulk")] = fake.routes[("PUT", "/_bulk")]
    with pytest.raises(ClusterError) as caught:
        _cluster(fake.url).bulk_index("i", [("r0-t0-e0", {}), ("r0-t0-e1", {})])
    assert str(caught.value) == (
        "1 of 2 events could not be indexed into 'i'; the first, 'r0-t0-e1': failed to parse "
        "[EventID]"
    )


def test_a_missing_index_privilege_is_named(fake: FakeServer) -> None:
    denied = {
        "error": {
            "type": "security_exception",
            "reason": "action [indices:admin/create] is unauthorized",
        },
        "status": 403,
    }
    fake.routes[("PUT", "/watchmgr-test-1")] = json_answer(denied, 403)
    with pytest.raises(ClusterError) as caught:
        _cluster(fake.url).create_index("watchmgr-test-1")
    assert str(caught.value).startswith(
        "cannot create index 'watchmgr-test-1': the credentials lack the index privilege "
        "'create_index' on 'watchmgr-test-1' (403: action [indices:admin/create] is unauthorized)"
    )


def test_a_search_answer_without_hits_or_with_too_few_answers_is_refused(
    fake: FakeServer,
) -> None:
    fake.routes[("POST", "/_msearch")] = json_answer({"responses": [{"took": 1}]})
    with pytest.raises(ClusterError) as caught:
        _cluster(fake.url).search_many("i", [{"query": {"match_all": {}}}])
    assert "answered the searches of 'i' in a shape Elasticsearch does not use" in str(caught.value)
    fake.routes[("POST", "/_msearch")] = json_answer({"responses": [{"hits": {"hits": []}}]})
    with pytest.raises(ClusterError) as caught:
        _cluster(fake.url).search_many("i", [{"size": 0}, {"size": 0}])
    assert "answered 1 of 2 searches of 'i'" in str(caught.value)


def test_many_fields_are_asked_for_in_parts_that_fit_a_request_line(fake: FakeServer) -> None:
    fake.routes[("GET", "/logs-")] = json_answer({"logs-1": {"mappings": {}}})
    fields = [f"field_number_{n:04}" for n in range(400)]
    found = _cluster(fake.url).field_mappings(["logs-*"], fields)
    assert found == {"logs-1": {}}
    asked = [path for method, path in fake.requests if method == "GET"]
    # 400 names of 17 characters and their commas: 7,199 characters, three parts of <= 2,500.
    assert len(",".join(fields)) == 7199 and FIELDS_PER_URL == 2500
    assert len(asked) == 3
    assert all(len(path) < 4096 for path in asked)
    sent = [f for path in asked for f in path.split("/_mapping/field/")[1].split("?")[0].split(",")]
    assert sorted(sent) == fields
    assert "ignore_unavailable=true" in asked[0]
