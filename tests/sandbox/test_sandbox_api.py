"""The sandbox through the official client: watcher APIs, versions, errors, protocol, faults."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any

import elasticsearch
import pytest
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
)

from watchmgr.sandbox import ApiKey, Faults, Sandbox, SandboxConfig, Security

WATCH = {
    "trigger": {"schedule": {"interval": "10m"}},
    "input": {"simple": {"hits": {"total": 3}}},
    "condition": {"compare": {"ctx.payload.hits.total": {"gt": 0}}},
    "actions": {"log": {"logging": {"text": "found {{ctx.payload.hits.total}}"}}},
    "metadata": {"owner": "soc", "rule": {"id": "r-1"}},
}


def raw(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


# ---------------------------------------------------------------------------- round trips


def test_every_watcher_api_round_trips(client: Elasticsearch) -> None:
    put = client.watcher.put_watch(id="w", body=WATCH)
    assert put.meta.status == 201
    assert dict(put) == {
        "_id": "w",
        "_version": 1,
        "_seq_no": 0,
        "_primary_term": 1,
        "created": True,
    }
    got = client.watcher.get_watch(id="w")
    assert list(got) == ["found", "_id", "_version", "_seq_no", "_primary_term", "status", "watch"]
    assert got["watch"]["metadata"] == WATCH["metadata"]
    assert got["status"]["version"] == 1 and got["status"]["state"]["active"] is True
    query = client.watcher.query_watches()
    assert query["count"] == 1
    assert list(query["watches"][0]) == ["_id", "watch", "status", "_seq_no", "_primary_term"]
    assert query["watches"][0]["status"]["version"] == -1  # §1.4: stored value, not _version
    assert client.watcher.deactivate_watch(watch_id="w")["status"]["state"]["active"] is False
    assert client.watcher.activate_watch(watch_id="w")["status"]["state"]["active"] is True
    ack = client.watcher.ack_watch(watch_id="w")
    assert ack["status"]["actions"]["log"]["ack"]["state"] == "awaits_successful_execution"
    run = client.watcher.execute_watch(id="w", record_execution=True)
    record = run["watch_record"]
    assert record["state"] == "executed"
    assert record["result"]["condition"]["met"] is True
    assert record["result"]["actions"][0]["logging"]["logged_text"] == "found 3"
    assert record["status"]["actions"]["log"]["ack"]["state"] == "ackable"
    acked = client.watcher.ack_watch(watch_id="w", action_id="log")
    assert acked["status"]["actions"]["log"]["ack"]["state"] == "acked"
    inline = client.watcher.execute_watch(watch=WATCH, action_modes={"_all": "simulate"})
    assert inline["watch_record"]["watch_id"] == "_inlined_"
    assert inline["watch_record"]["result"]["actions"][0]["status"] == "simulated"
    stats = client.watcher.stats()
    assert stats["stats"][0]["watcher_state"] == "started" and stats["stats"][0]["watch_count"] == 1
    assert client.watcher.stop()["acknowledged"] is True
    assert client.watcher.stats()["manually_stopped"] is True
    assert client.watcher.start()["acknowledged"] is True
    assert client.watcher.get_settings()["index"]["number_of_replicas"] == "0"
    client.watcher.update_settings(index_auto_expand_replicas="0-all")
    assert client.watcher.get_settings()["index"]["auto_expand_replicas"] == "0-all"
    deleted = client.watcher.delete_watch(id="w")
    assert deleted["found"] is True
    with pytest.raises(NotFoundError) as missing:
        client.watcher.get_watch(id="w")
    assert missing.value.body == {"found": False, "_id": "w"}
    with pytest.raises(NotFoundError) as gone:
        client.watcher.delete_watch(id="w")
    assert gone.value.body["found"] is False


def test_client_info_and_product_header(sandbox: Sandbox, client: Elasticsearch) -> None:
    info = client.info()
    assert info["version"]["number"] == "9.1.0"
    assert info["cluster_uuid"] == sandbox.config.cluster_uuid
    assert info.meta.headers["x-elastic-product"] == "Elasticsearch"
    assert (
        info.meta.headers["content-type"] == "application/vnd.elasticsearch+json;compatible-with=9"
    )
    status, headers, _ = raw(sandbox.url + "/_watcher/watch/nope")
    assert status == 404 and headers["X-elastic-product"] == "Elasticsearch"


def test_license_endpoint(client: Elasticsearch) -> None:
    assert client.license.get()["license"]["type"] == "trial"


# ---------------------------------------------------------------------------- versions and CAS


def test_seq_no_is_shard_wide_and_version_per_watch(client: Elasticsearch) -> None:
    a1 = client.watcher.put_watch(id="a", body=WATCH)
    b1 = client.watcher.put_watch(id="b", body=WATCH)
    a2 = client.watcher.put_watch(id="a", body=WATCH)
    assert (a1["_seq_no"], b1["_seq_no"], a2["_seq_no"]) == (0, 1, 2)
    assert (a1["_version"], b1["_version"], a2["_version"]) == (1, 1, 2)
    assert a2.meta.status == 200 and a2["created"] is False
    client.watcher.deactivate_watch(watch_id="b")  # §5: status writes move seq_no too
    assert client.watcher.get_watch(id="b")["_seq_no"] == 3
    client.watcher.execute_watch(id="b")  # no record_execution: no write
    assert client.watcher.get_watch(id="b")["_seq_no"] == 3
    deleted = client.watcher.delete_watch(id="a")
    assert deleted["_version"] == 3
    again = client.watcher.put_watch(id="a", body=WATCH)  # tombstone: the version continues
    assert again["_version"] == 4 and again["created"] is True


def test_put_resets_status_and_reactivates(client: Elasticsearch) -> None:
    client.watcher.put_watch(id="w", body=WATCH)
    client.watcher.execute_watch(id="w", record_execution=True)
    client.watcher.deactivate_watch(watch_id="w")
    client.watcher.put_watch(id="w", body=WATCH)
    status = client.watcher.get_watch(id="w")["status"]
    assert status["state"]["active"] is True
    assert "last_checked" not in status
    assert status["actions"]["log"]["ack"]["state"] == "awaits_successful_execution"
    client.watcher.put_watch(id="w", body=WATCH, active=False)
    assert client.watcher.get_watch(id="w")["status"]["state"]["active"] is False


def test_cas_conflict_and_update_mode_merge(client: Elasticsearch) -> None:
    first = client.watcher.put_watch(id="w", body=WATCH)
    with pytest.raises(ConflictError) as conflict:
        client.watcher.put_watch(id="w", body=WATCH, if_seq_no=99, if_primary_term=1)
    error = conflict.value.body["error"]
    assert error["type"] == "version_conflict_engine_exception"
    assert error["reason"] == (
        "[w]: version conflict, required seqNo [99], primary term [1]. current document has "
        "seqNo [0] and primary term [1]"
    )
    assert error["index"] == ".watches" and error["shard"] == "0"
    # update mode deep-merges: a field missing from the new body survives (§1.1)
    slim = {k: v for k, v in WATCH.items() if k != "metadata"}
    updated = client.watcher.put_watch(
        id="w", body=slim, if_seq_no=first["_seq_no"], if_primary_term=first["_primary_term"]
    )
    assert updated["_version"] == 2
    assert client.watcher.get_watch(id="w")["watch"]["metadata"] == WATCH["metadata"]
    client.watcher.put_watch(id="w", body=slim)  # plain PUT replaces
    assert "metadata" not in client.watcher.get_watch(id="w")["watch"]
    with pytest.raises(NotFoundError) as missing:
        client.watcher.put_watch(id="nope", body=WATCH, if_seq_no=0, if_primary_term=1)
    assert missing.value.body["error"]["type"] == "document_missing_exception"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"if_seq_no": 1}, "Validation Failed: 1: ifSeqNo is set, but primary term is [0];"),
        (
            {"if_primary_term": 3},
            "Validation Failed: 1: ifSeqNo is unassigned, but primary term is [3];",
        ),
        (
            {"version": 2, "if_seq_no": 1, "if_primary_term": 1},
            "Validation Failed: 1: compare and write operations can not use versioning;",
        ),
    ],
)
def test_cas_parameter_validation(
    client: Elasticsearch, params: dict[str, int], reason: str
) -> None:
    with pytest.raises(BadRequestError) as bad:
        client.watcher.put_watch(id="w", body=WATCH, **params)
    assert bad.value.body["error"]["type"] == "action_request_validation_exception"
    assert bad.value.body["error"]["reason"] == reason


# ---------------------------------------------------------------------------- query_watches


def test_query_watches_query_sort_and_paging(client: Elasticsearch) -> None:
    for i in range(25):
        client.watcher.put_watch(
            id=f"w{i:02d}",
            trigger={"schedule": {"interval": "1m"}},
            metadata={"team": "red" if i % 2 else "blue", "n": i, "name": f"Rule number {i}"},
        )
    page = client.watcher.query_watches(size=5)
    assert page["count"] == 25 and [w["_id"] for w in page["watches"]] == [
        f"w0{i}" for i in range(5)
    ]
    red = client.watcher.query_watches(query={"term": {"metadata.team": "red"}}, size=100)
    assert red["count"] == 12
    both = client.watcher.query_watches(
        query={
            "bool": {
                "filter": [{"terms": {"_id": ["w01", "w02", "w03"]}}],
                "must_not": [{"term": {"metadata.team.keyword": "blue"}}],
            }
        },
    )
    assert sorted(w["_id"] for w in both["watches"]) == ["w01", "w03"]
    assert client.watcher.query_watches(query={"prefix": {"_id": "w1"}})["count"] == 10
    assert client.watcher.query_watches(query={"range": {"metadata.n": {"gte": 20}}})["count"] == 5
    assert (
        client.watcher.query_watches(query={"match": {"metadata.name": "number 7"}})["count"] == 25
    )
    assert client.watcher.query_watches(query={"exists": {"field": "metadata.none"}})["count"] == 0
    desc = client.watcher.query_watches(sort=[{"metadata.n": {"order": "desc"}}], size=3)
    assert [w["_id"] for w in desc["watches"]] == ["w24", "w23", "w22"]
    seen: list[str] = []
    after: list[Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"sort": [{"_id": "asc"}], "size": 7}
        if after is not None:
            kwargs["search_after"] = after
        batch = client.watcher.query_watches(**kwargs)
        assert batch["count"] == 25
        if not batch["watches"]:
            break
        seen += [w["_id"] for w in batch["watches"]]
        after = [seen[-1]]
    assert seen == sorted(f"w{i:02d}" for i in range(25))
    with pytest.raises(BadRequestError) as text_sort:
        client.watcher.query_watches(sort=[{"metadata.team": "asc"}])
    assert "Fielddata is disabled on [metadata.team]" in text_sort.value.body["error"]["reason"]
    with pytest.raises(BadRequestError) as unknown:
        client.watcher.query_watches(query={"no_such_query": {}})
    assert unknown.value.body["error"]["reason"] == "unknown query [no_such_query]"
    # §1.4: only _id and metadata.* are indexed
    assert client.watcher.query_watches(query={"exists": {"field": "trigger"}})["count"] == 0


# ---------------------------------------------------------------------------- execute


def test_execute_options(client: Elasticsearch) -> None:
    client.watcher.put_watch(id="w", body=WATCH)
    low = client.watcher.execute_watch(id="w", alternative_input={"hits": {"total": 0}})
    assert low["watch_record"]["state"] == "execution_not_needed"
    assert low["watch_record"]["result"]["condition"]["met"] is False
    forced = client.watcher.execute_watch(
        id="w", alternative_input={"hits": {"total": 0}}, ignore_condition=True
    )
    assert forced["watch_record"]["state"] == "executed"
    skipped = client.watcher.execute_watch(id="w", action_modes={"log": "skip"})
    assert skipped["watch_record"]["result"]["actions"][0]["status"] == "throttled"
    before = client.watcher.get_watch(id="w")["_version"]
    client.watcher.execute_watch(id="w", record_execution=True)
    assert client.watcher.get_watch(id="w")["_version"] == before + 1
    with pytest.raises(NotFoundError) as missing:
        client.watcher.execute_watch(id="nope")
    assert missing.value.body["error"]["type"] == "resource_not_found_exception"
    with pytest.raises(BadRequestError) as inline_record:
        client.watcher.execute_watch(watch=WATCH, record_execution=True)
    assert "cannot be recorded" in inline_record.value.body["error"]["reason"]


def _search_watch(query: str) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": "5m"}},
        "input": {
            "search": {
                "request": {
                    "indices": ["logs-*"],
                    "body": {"query": {"query_string": {"query": query}}},
                }
            }
        },
        "condition": {"compare": {"ctx.payload.hits.total": {"gt": 0}}},
        "actions": {"log": {"logging": {"text": "hit"}}},
    }


def test_execute_search_input_validates_query_string(client: Elasticsearch) -> None:
    ok = client.watcher.execute_watch(watch=_search_watch('process.name:"cmd.exe" AND user:*'))
    record = ok["watch_record"]
    assert record["result"]["input"]["status"] == "success"
    assert record["result"]["input"]["payload"]["hits"]["total"] == 0  # no data: 0 hits
    assert record["state"] == "execution_not_needed"
    bad = client.watcher.execute_watch(watch=_search_watch("process.name:(cmd.exe"))
    record = bad["watch_record"]
    assert record["state"] == "failed"
    error = record["result"]["input"]["error"]
    assert error["type"] == "search_phase_execution_exception"
    assert error["root_cause"][0]["type"] == "query_shard_exception"
    assert error["caused_by"]["caused_by"]["reason"].startswith(
        "Cannot parse 'process.name:(cmd.exe'"
    )


def test_execute_search_input_matches_indexed_documents(client: Elasticsearch) -> None:
    client.index(index="logs-1", id="1", document={"process": {"name": "cmd.exe"}, "user": "bob"})
    client.index(index="logs-1", id="2", document={"process": {"name": "calc.exe"}})
    hit = client.watcher.execute_watch(watch=_search_watch('process.name:"cmd.exe" AND user:*'))
    assert hit["watch_record"]["result"]["input"]["payload"]["hits"]["total"] == 1
    assert hit["watch_record"]["state"] == "executed"


# ---------------------------------------------------------------------------- errors


def test_error_envelopes(sandbox: Sandbox, client: Elasticsearch) -> None:
    with pytest.raises(BadRequestError) as empty:
        client.watcher.put_watch(id="w")
    assert (
        empty.value.body["error"]["reason"]
        == "could not parse watch [w]. missing required field [trigger]"
    )
    with pytest.raises(BadRequestError) as blank:
        client.watcher.put_watch(id="bad id", body=WATCH)
    assert blank.value.body == {
        "error": {
            "root_cause": [
                {
                    "type": "action_request_validation_exception",
                    "reason": "Validation Failed: 1: watch id contains whitespace;",
                }
            ],
            "type": "action_request_validation_exception",
            "reason": "Validation Failed: 1: watch id contains whitespace;",
        },
        "status": 400,
    }
    headers = {"Content-Type": "application/json"}
    status, _, body = raw(sandbox.url + "/_watcher/watch/w", "PUT", b'{"trigger": ', headers)
    assert status == 400 and body["error"]["type"] == "x_content_parse_exception"
    dup = b'{"trigger": {"schedule": {"interval": "1m"}}, "trigger": {}}'
    status, _, body = raw(sandbox.url + "/_watcher/watch/w", "PUT", dup, headers)
    assert status == 400 and "Duplicate field 'trigger'" in body["error"]["reason"]
    status, _, body = raw(sandbox.url + "/_watcher/watch/w?colour=red", "PUT", b"{}", headers)
    assert status == 400
    assert (
        body["error"]["reason"]
        == "request [/_watcher/watch/w] contains unrecognized parameter: [colour]"
    )
    status, _, body = raw(sandbox.url + "/_watcher/_start", "GET")
    assert status == 405 and body["error"].startswith(
        "Incorrect HTTP method for uri [/_watcher/_start]"
    )
    with pytest.raises(BadRequestError):
        client.watcher.query_watches(sort=["_id:asc"])  # the client moves it to a URL param


# ---------------------------------------------------------------------------- protocol


def test_9x_client_against_8x_sandbox_fails_like_es8() -> None:
    with (
        Sandbox(SandboxConfig(es_version="8.19.0")) as sandbox,
        Elasticsearch(sandbox.url, max_retries=0) as client,
        pytest.raises(BadRequestError) as bad,
    ):
        client.watcher.get_watch(id="x")
    assert bad.value.body == {
        "error": {
            "root_cause": [
                {
                    "type": "media_type_header_exception",
                    "reason": "Invalid media-type value on headers [Accept, Content-Type]",
                }
            ],
            "type": "media_type_header_exception",
            "reason": "Invalid media-type value on headers [Accept, Content-Type]",
            "caused_by": {
                "type": "status_exception",
                "reason": "Accept version must be either version 8 or 7, but found 9. "
                "Accept=application/vnd.elasticsearch+json; compatible-with=9",
            },
        },
        "status": 400,
    }


def test_compat_headers_over_raw_http() -> None:
    with Sandbox(SandboxConfig(es_version="9.0.0")) as sandbox:
        vendor8 = "application/vnd.elasticsearch+json; compatible-with=8"
        status, headers, _ = raw(sandbox.url + "/", headers={"Accept": vendor8})
        assert status == 200
        assert headers["Content-Type"] == "application/vnd.elasticsearch+json;compatible-with=8"
        status, _, body = raw(sandbox.url + "/", headers={"Accept": vendor8.replace("8", "7")})
        assert status == 400
        assert body["error"]["caused_by"]["reason"].startswith(
            "Accept version must be either version 9 or 8, but found 7."
        )
        status, _, body = raw(
            sandbox.url + "/_watcher/_query/watches",
            "POST",
            b"{}",
            {"Accept": vendor8, "Content-Type": "application/json"},
        )
        assert status == 400
        assert "A compatible version is required on both Content-Type and Accept" in json.dumps(
            body
        )
        status, headers, _ = raw(sandbox.url + "/")
        assert status == 200 and headers["Content-Type"] == "application/json"


# ---------------------------------------------------------------------------- security / licence


def test_security_api_keys() -> None:
    manage = ApiKey("k1", "secret1", frozenset({"manage_watcher"}))
    monitor = ApiKey("k2", "secret2", frozenset({"monitor_watcher"}))
    config = SandboxConfig(es_version="9.1.0", security=Security(api_keys=(manage, monitor)))
    with Sandbox(config) as sandbox:
        status, headers, body = raw(sandbox.url + "/_watcher/watch/w")
        assert status == 401
        assert (
            body["error"]["reason"]
            == "missing authentication credentials for REST request [/_watcher/watch/w]"
        )
        assert "ApiKey" in headers["WWW-Authenticate"] or "Basic" in headers["WWW-Authenticate"]
        with (
            Elasticsearch(sandbox.url, max_retries=0) as anonymous,
            pytest.raises(AuthenticationException),
        ):
            anonymous.watcher.get_watch(id="w")
        with (
            Elasticsearch(sandbox.url, api_key=("k1", "wrong"), max_retries=0) as wrong,
            pytest.raises(AuthenticationException),
        ):
            wrong.watcher.stats()
        with Elasticsearch(sandbox.url, api_key=("k1", "secret1"), max_retries=0) as admin:
            admin.watcher.put_watch(id="w", body=WATCH)
        with Elasticsearch(sandbox.url, api_key=monitor.encoded, max_retries=0) as reader:
            assert reader.watcher.get_watch(id="w")["found"] is True
            assert reader.watcher.query_watches()["count"] == 1
            with pytest.raises(AuthorizationException) as denied:
                reader.watcher.put_watch(id="w", body=WATCH)
        assert denied.value.body["error"]["reason"] == (
            "action [cluster:admin/xpack/watcher/watch/put] is unauthorized for API key id [k2] "
            "of user [sandbox-user], this action is granted by the cluster privileges "
            "[manage_watcher,manage,all]"
        )


def test_basic_license_blocks_watcher_but_not_delete() -> None:
    with (
        Sandbox(SandboxConfig(es_version="9.1.0", license="basic")) as sandbox,
        Elasticsearch(sandbox.url, max_retries=0) as client,
    ):
        with pytest.raises(AuthorizationException) as denied:
            client.watcher.put_watch(id="w", body=WATCH)
        assert denied.value.body == {
            "error": {
                "root_cause": [
                    {
                        "type": "security_exception",
                        "reason": "current license is non-compliant for [watcher]",
                        "license.expired.feature": "watcher",
                    }
                ],
                "type": "security_exception",
                "reason": "current license is non-compliant for [watcher]",
                "license.expired.feature": "watcher",
            },
            "status": 403,
        }
        with pytest.raises(BadRequestError):  # request validation runs before the licence
            client.watcher.put_watch(id="bad id", body=WATCH)
        with pytest.raises(NotFoundError):  # delete is not licence-gated
            client.watcher.delete_watch(id="w")
        sandbox.set_license("platinum")
        assert client.watcher.put_watch(id="w", body=WATCH)["created"] is True


# ---------------------------------------------------------------------------- faults and the log


def test_request_log_proves_zero_writes(sandbox: Sandbox, client: Elasticsearch) -> None:
    client.watcher.put_watch(id="w", body=WATCH)
    sandbox.clear_log()
    client.watcher.get_watch(id="w")
    client.watcher.query_watches()
    client.watcher.execute_watch(id="w")
    assert [(e.method, e.path, e.status) for e in sandbox.request_log] == [
        ("GET", "/_watcher/watch/w", 200),
        ("POST", "/_watcher/_query/watches", 200),
        ("PUT", "/_watcher/watch/w/_execute", 200),
    ]
    assert [e for e in sandbox.writes() if e.path != "/_watcher/watch/w/_execute"] == []
    client.watcher.delete_watch(id="w")
    assert [(e.method, e.path) for e in sandbox.writes()][-1] == ("DELETE", "/_watcher/watch/w")


def test_fault_429_503_reset_and_fail_nth_write(sandbox: Sandbox, client: Elasticsearch) -> None:
    sandbox.set_faults(Faults(rate_429=1.0, retry_after_s=7))
    with pytest.raises(ApiError) as busy:
        client.watcher.stats()
    assert busy.value.meta.status == 429 and busy.value.meta.headers["retry-after"] == "7"
    assert busy.value.body["error"]["type"] == "es_rejected_execution_exception"
    sandbox.set_faults(Faults(rate_503=1.0))
    with pytest.raises(ApiError) as down:
        client.watcher.stats()
    assert down.value.meta.status == 503
    sandbox.set_faults(Faults(reset_rate=1.0))
    with pytest.raises(elasticsearch.ConnectionError):
        client.watcher.stats()
    sandbox.set_faults(Faults(fail_writes=frozenset({2})))
    client.watcher.put_watch(id="a", body=WATCH)
    client.watcher.get_watch(id="a")  # reads do not count
    with pytest.raises(ApiError) as failed:
        client.watcher.put_watch(id="b", body=WATCH)
    assert failed.value.meta.status == 500
    client.watcher.put_watch(id="c", body=WATCH)
    assert client.watcher.query_watches()["count"] == 2  # the failed write was not applied
    sandbox.set_faults(Faults(rate_429=1.0, path_prefix="/_watcher/stats"))
    assert client.watcher.get_watch(id="a")["found"] is True


def test_latency_is_per_request_and_parallel(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # 16 requests of 200 ms over 8 connections: 0.4 s overlapped, 3.2 s serialized. The bound sits
    # halfway, so that a loaded machine cannot make overlap look serial (nor the reverse).
    sandbox.set_faults(Faults(latency_ms=200))
    with Elasticsearch(sandbox.url, max_retries=0, connections_per_node=8) as es:
        start = time.perf_counter()
        es.watcher.stats()
        single = time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: es.watcher.stats(), range(16)))
        parallel = time.perf_counter() - start
    assert single >= 0.2
    assert parallel < 0.2 * 16 / 2, parallel  # overlapped, not serialized


def test_latency_is_a_deadline_that_includes_the_sandbox_own_work(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cluster's latency includes its processing: a request that takes the sandbox 100 ms to
    # handle, under 150 ms of latency, answers after about 150 ms, not 250 ms.
    handle = sandbox.api.handle

    def slow(request: Any) -> Any:
        time.sleep(0.1)
        return handle(request)

    monkeypatch.setattr(sandbox.api, "handle", slow)
    sandbox.set_faults(Faults(latency_ms=150))
    with Elasticsearch(sandbox.url, max_retries=0) as es:
        es.watcher.stats()  # the connection is open before the timed request
        start = time.perf_counter()
        es.watcher.stats()
        took = time.perf_counter() - start
    assert 0.15 <= took < 0.22, took


# ---------------------------------------------------------------------------- state file


def test_state_file_survives_restart(tmp_path: Any) -> None:
    state = tmp_path / "state.json"
    config = SandboxConfig(es_version="9.1.0", state_path=state)
    with Sandbox(config) as sandbox, Elasticsearch(sandbox.url) as client:
        client.watcher.put_watch(id="a", body=WATCH)
        client.watcher.put_watch(id="b", body=WATCH)
        client.watcher.delete_watch(id="b")
        client.watcher.deactivate_watch(watch_id="a")
    assert json.loads(state.read_text())["seq_no"] == 3
    with Sandbox(config) as sandbox, Elasticsearch(sandbox.url) as client:
        got = client.watcher.get_watch(id="a")
        assert (got["_version"], got["_seq_no"]) == (2, 3)
        assert got["status"]["state"]["active"] is False
        assert client.watcher.query_watches()["count"] == 1
        assert client.watcher.put_watch(id="c", body=WATCH)["_seq_no"] == 4


def test_basic_auth_user(tmp_path: Any) -> None:
    from watchmgr.sandbox import User

    config = SandboxConfig(es_version="9.1.0", security=Security(users=(User("elastic", "pw"),)))
    with Sandbox(config) as sandbox:
        token = base64.b64encode(b"elastic:bad").decode()
        status, _, body = raw(sandbox.url + "/", headers={"Authorization": f"Basic {token}"})
        assert (
            status == 401
            and body["error"]["reason"]
            == "unable to authenticate user [elastic] for REST request [/]"
        )
        with Elasticsearch(sandbox.url, basic_auth=("elastic", "pw")) as client:
            assert client.watcher.stats()["stats"][0]["watcher_state"] == "started"


def test_8x_sandbox_has_no_schedule_timezone() -> None:
    # §2.2 S14 / §9: before 9.x, `timezone` is read as a schedule type
    watch = {"trigger": {"schedule": {"timezone": "UTC", "cron": "0 0 12 * * ?"}}}
    with Sandbox(SandboxConfig(es_version="8.19.0")) as sandbox:
        status, _, body = raw(
            sandbox.url + "/_watcher/watch/tz", "PUT", json.dumps(watch).encode(),
            {"Content-Type": "application/json"},
        )  # fmt: skip
    assert status == 400
    assert (
        body["error"]["reason"]
        == "could not parse schedule for [tz]. unknown schedule type [timezone]"
    )
