"""Requests and time of plan and apply at scale, against the in-process sandbox (ES 9).

    python benchmarks/plan_apply.py [--watches 3780] [--latency-ms 10] [--parallelism 8]
        [--server thread|process]

1. Apply of N creates with `--latency-ms` injected per request: wall time against the ideal
   N × latency / parallelism (budget 1.3×).
2. Plan of the N owned watches with no changes: watcher requests counted from the sandbox's
   request log (budget ⌈N / page size⌉ + 1).
With ``--server process`` the apply is also timed against a sandbox in its own process
(as a real cluster would be), so the sandbox's request handling does not share watchmgr's GIL;
the client's CPU per request is printed too. Exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import math
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from watchmgr import cluster as cluster_module
from watchmgr.apply import apply_plan, read_plan
from watchmgr.cluster import connect_url
from watchmgr.plan import with_owner
from watchmgr.sandbox import Faults, Sandbox, SandboxConfig
from watchmgr.watch import Watch

ENV = "bench"


def desired(count: int) -> list[Watch]:
    watches = []
    for i in range(count):
        body = {
            "metadata": {
                "title": f"Rule {i}",
                "watchmgr": {"rule_id": f"r{i}", "source": f"rules/r{i}.yml"},
            },
            "trigger": {"schedule": {"interval": "30m"}},
            "input": {
                "search": {
                    "request": {
                        "body": {"size": 0, "query": {"query_string": {"query": f"event:{i}"}}},
                        "indices": ["logs-*"],
                    }
                }
            },
            "condition": {"compare": {"ctx.payload.hits.total": {"not_eq": 0}}},
            "actions": {"log": {"logging": {"text": f"rule {i} matched"}}},
        }
        watches.append(with_owner(Watch(f"bench-{i:05}", f"rules/r{i}.yml", 1, body), ENV))
    return watches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=3780)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--server", choices=("thread", "process"), default="thread")
    args = parser.parse_args()
    watches = desired(args.watches)
    ok = True
    with Sandbox(SandboxConfig(es_version="9.1.0")) as sandbox:
        cluster = connect_url(sandbox.url, ENV, parallelism=args.parallelism)
        plan = read_plan(cluster, watches)
        sandbox.set_faults(Faults(latency_ms=args.latency_ms, path_prefix="/_watcher/watch/"))
        started = time.perf_counter()
        report = apply_plan(cluster, plan, parallelism=args.parallelism)
        elapsed = time.perf_counter() - started
        sandbox.set_faults(Faults())
        assert report.ok, [r for r in report.results if not r.ok][:5]
        ideal = args.watches * args.latency_ms / 1000 / args.parallelism
        ratio = elapsed / ideal
        puts = sum(1 for e in sandbox.request_log if e.method == "PUT")
        print(
            f"apply: {args.watches} creates, {args.latency_ms:g} ms latency, parallelism "
            f"{args.parallelism}: {elapsed:.2f} s; ideal {ideal:.2f} s; {ratio:.2f}x "
            f"(budget 1.30x) [{puts} PUT requests]"
        )
        ok &= ratio <= 1.3

        sandbox.clear_log()
        started = time.perf_counter()
        again = read_plan(cluster, watches)
        plan_s = time.perf_counter() - started
        assert not again.has_changes
        watcher = [e for e in sandbox.request_log if e.path.startswith("/_watcher")]
        budget = math.ceil(args.watches / cluster_module.PAGE_SIZE) + 1
        print(
            f"plan: {args.watches} owned watches, no changes: {len(watcher)} watcher requests "
            f"(budget {budget}, page size {cluster_module.PAGE_SIZE}); {plan_s:.2f} s"
        )
        ok &= len(watcher) <= budget
    if args.server == "process":
        ok &= apply_in_process(args, watches)
    return 0 if ok else 1


def apply_in_process(args: argparse.Namespace, watches: list[Watch]) -> bool:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "watchmgr.sandbox", "--port", str(port)]
    command += ["--es-version", "9.1.0", "--latency-ms", str(args.latency_ms)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "listening on ..."
        cluster = connect_url(f"http://127.0.0.1:{port}", ENV, parallelism=args.parallelism)
        plan = read_plan(cluster, watches)
        cpu, started = time.process_time(), time.perf_counter()
        report = apply_plan(cluster, plan, parallelism=args.parallelism)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert report.ok
        bare = bare_client(f"http://127.0.0.1:{port}", watches, args.parallelism)
    finally:
        server.terminate()
        server.wait()
    ideal = args.watches * args.latency_ms / 1000 / args.parallelism
    print(
        f"apply, sandbox in its own process: {elapsed:.2f} s; {elapsed / ideal:.2f}x; "
        f"client CPU {cpu * 1000 / args.watches:.2f} ms per watch"
    )
    print(
        f"reference, the bare client in {args.parallelism} threads (put_watch in a loop, no "
        f"watchmgr code) against the same server: {bare:.2f} s; {bare / ideal:.2f}x"
    )
    return elapsed / ideal <= 1.3


def bare_client(url: str, watches: list[Watch], parallelism: int) -> float:
    """The time the official client alone takes for the same PUTs: the floor for apply."""
    from concurrent.futures import ThreadPoolExecutor

    from elasticsearch import Elasticsearch

    client = Elasticsearch(url, connections_per_node=parallelism + 2, max_retries=0)
    started = time.perf_counter()
    with ThreadPoolExecutor(parallelism) as pool:
        for _ in pool.map(
            lambda w: client.watcher.put_watch(id=f"bare-{w.id}", body=w.body), watches
        ):
            pass
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
