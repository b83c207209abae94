"""Load and durability: concurrent clients, paging 10,000 watches, kill -9 with a state file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from watchmgr.sandbox import Sandbox, SandboxConfig

N_WATCHES = 10_000
CLIENTS = 8


def _watch(i: int) -> dict[str, Any]:
    return {
        "trigger": {"schedule": {"interval": f"{i % 50 + 1}m"}},
        "input": {"simple": {"n": i}},
        "actions": {"log": {"logging": {"text": f"watch {i}"}}},
        "metadata": {"n": i, "shard": f"s{i % CLIENTS}"},
    }


@pytest.fixture(scope="module")
def loaded() -> Any:
    """A sandbox filled by 8 concurrent clients with 10,000 puts, each followed by a get.

    The sandbox runs in its own process (as `watchmgr sandbox` does), so that server and
    clients do not share one GIL.
    """
    proc, url = _start_subprocess(None)
    try:
        problems: list[str] = []

        def worker(k: int) -> None:
            with Elasticsearch(url, max_retries=0) as es:
                for i in range(k, N_WATCHES, CLIENTS):
                    put = es.watcher.put_watch(id=f"w{i:05d}", body=_watch(i))
                    got = es.watcher.get_watch(id=f"w{i:05d}")
                    if not put["created"] or got["watch"]["input"]["simple"] != {"n": i}:
                        problems.append(f"w{i:05d}: {put} / {got['watch']}")

        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(worker, range(CLIENTS)))
        yield url, problems, time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait()


def test_concurrent_puts_and_gets_lose_nothing(loaded: Any) -> None:
    url, problems, _elapsed = loaded
    assert problems == []
    with Elasticsearch(url) as es:
        seq_nos: list[int] = []
        for start in range(0, N_WATCHES, 1000):
            page = es.watcher.query_watches(sort=[{"_id": "asc"}], from_=start, size=1000)
            for item in page["watches"]:
                i = int(item["_id"][1:])
                assert item["watch"]["input"]["simple"] == {"n": i}, item  # not torn
                assert item["watch"]["metadata"] == {"n": i, "shard": f"s{i % CLIENTS}"}
                seq_nos.append(item["_seq_no"])
        assert sorted(seq_nos) == list(range(N_WATCHES))  # one shard-wide counter, no gaps


def test_query_watches_pages_through_10000(loaded: Any) -> None:
    url, _, _ = loaded
    with Elasticsearch(url) as es:
        seen: list[str] = []
        after: list[Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"sort": [{"_id": {"order": "asc"}}], "size": 1000}
            if after:
                kwargs["search_after"] = after
            page = es.watcher.query_watches(**kwargs)
            assert page["count"] == N_WATCHES
            if not page["watches"]:
                break
            seen += [w["_id"] for w in page["watches"]]
            after = [seen[-1]]
        assert seen == [f"w{i:05d}" for i in range(N_WATCHES)]
        last = es.watcher.query_watches(sort=[{"_id": "asc"}], from_=9990, size=10)
        assert [w["_id"] for w in last["watches"]] == [f"w{i:05d}" for i in range(9990, 10_000)]
        shard3 = es.watcher.query_watches(query={"term": {"metadata.shard.keyword": "s3"}}, size=0)
        assert shard3["count"] == N_WATCHES // CLIENTS


# ---------------------------------------------------------------------------- kill -9


def _start_subprocess(state: Path | None) -> tuple[subprocess.Popen[str], str]:
    code = (
        "import sys; from pathlib import Path; from watchmgr.sandbox.server import serve_forever;"
        "serve_forever('127.0.0.1', 0, Path(sys.argv[1]) if sys.argv[1:] else None, '9.1.0')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *([str(state)] if state else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line
    return proc, line.rsplit(" ", 1)[-1].strip()


def test_state_file_survives_kill_9(tmp_path: Path) -> None:
    rng = random.Random(20240607)
    state = tmp_path / "state.json"
    acknowledged: dict[str, int] = {}
    for run in range(20):
        proc, url = _start_subprocess(state)
        stop = threading.Event()

        def writer(k: int, url: str = url, run: int = run, stop: threading.Event = stop) -> None:
            with Elasticsearch(url, max_retries=0, request_timeout=5) as es:
                i = 0
                while not stop.is_set():
                    watch_id = f"r{run}-{k}-{i % 40}"
                    try:
                        put = es.watcher.put_watch(id=watch_id, body=_watch(i))
                    except Exception:
                        return
                    acknowledged[watch_id] = put["_version"]
                    i += 1

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        # The file must load, and every acknowledged write must be there.
        with Sandbox(SandboxConfig(es_version="9.1.0", state_path=state)) as sandbox:
            store = sandbox.api.store
            for watch_id, version in acknowledged.items():
                doc = store.get(watch_id)
                assert doc is not None, f"run {run}: acknowledged {watch_id} lost"
                assert doc.version >= version, f"run {run}: {watch_id} went back in time"
                assert doc.source["input"]["simple"]["n"] >= 0
    assert len(acknowledged) > 100
