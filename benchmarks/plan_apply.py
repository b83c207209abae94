"""Requests and time of plan and apply at scale against the sandbox (ES 9).

    python benchmarks/plan_apply.py [--watches 3780] [--latency-ms 10] [--parallelism 8]
        [--runs 3] [--json OUT]

1. Apply of N creates, `--latency-ms` per request, against a sandbox in its own process (as a
   cluster is): wall time against the ideal N x latency / parallelism, budget 1.3x. The median
   of `--runs` runs, each against a fresh sandbox; each run also times the bare official client
   doing the same PUTs in as many threads (the floor), the two in alternating order.
2. Against a sandbox in this process, whose request log counts requests: plan of the N owned
   watches with no changes (budget ceil(N / page size) + 1 watcher requests) and a second apply
   (budget: zero writes). Apply is timed there too, for information: the sandbox then shares
   watchmgr's interpreter, which a cluster never does.
Exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from watchmgr import cluster as cluster_module
from watchmgr.apply import apply_plan, plan_against
from watchmgr.cluster import connect_url
from watchmgr.sandbox import Faults, Sandbox, SandboxConfig
from watchmgr.watch import Watch, with_owner

ENV = "bench"
ES_VERSION = "9.1.0"
APPLY_BUDGET = 1.3


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
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    watches = desired(args.watches)
    ideal = args.watches * args.latency_ms / 1000 / args.parallelism
    print(
        f"{args.watches} watches, {args.latency_ms:g} ms latency, parallelism "
        f"{args.parallelism}: ideal apply {ideal:.2f} s; {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.2f}"
    )

    runs = [apply_run(args, watches, bare_first=n % 2 == 1) for n in range(args.runs)]
    apply_s = [r["apply_s"] for r in runs]
    bare_s = [r["bare_s"] for r in runs]
    apply_ratio = statistics.median(apply_s) / ideal
    print(row("apply, sandbox in its own process", apply_s, ideal))
    print(f"    client CPU {statistics.median(r['cpu_ms'] for r in runs):.2f} ms per write")
    print(row("the bare client, same PUTs, same threads", bare_s, ideal))

    local = in_process(args, watches)
    print(row("apply, sandbox in this process (info)", [local["apply_s"]], ideal))
    print(
        f"plan of {args.watches} owned watches, no changes: {local['plan_requests']} watcher "
        f"requests (budget {local['plan_budget']}, page size {cluster_module.PAGE_SIZE}); "
        f"{local['plan_s']:.2f} s"
    )
    print(f"second apply: {local['second_writes']} write requests (budget 0)")

    met = {
        "apply": apply_ratio <= APPLY_BUDGET,
        "plan": local["plan_requests"] <= local["plan_budget"],
        "second_apply": local["second_writes"] == 0,
    }
    print(
        f"apply {apply_ratio:.2f}x (budget {APPLY_BUDGET}x): {'met' if met['apply'] else 'NOT met'}"
    )
    if args.json:
        figures = {
            "watches": args.watches,
            "latency_ms": args.latency_ms,
            "parallelism": args.parallelism,
            "ideal_s": ideal,
            "runs": runs,
            "apply_ratio_median": apply_ratio,
            "bare_ratio_median": statistics.median(bare_s) / ideal,
            "in_process": local,
            "budgets_met": met,
            "nproc": os.cpu_count(),
            "loadavg_after": os.getloadavg(),
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if all(met.values()) else 1


def row(what: str, seconds: list[float], ideal: float) -> str:
    mid = statistics.median(seconds)
    spread = f" (min {min(seconds):.2f}, max {max(seconds):.2f})" if len(seconds) > 1 else ""
    return f"{what}: {mid:.2f} s = {mid / ideal:.2f}x{spread}"


def apply_run(
    args: argparse.Namespace, watches: list[Watch], *, bare_first: bool
) -> dict[str, Any]:
    """One timed apply and one timed bare-client run against a fresh sandbox process."""
    with sandbox_process(args.latency_ms) as url:
        cluster = connect_url(url, ENV, parallelism=args.parallelism)
        plan = plan_against(cluster, watches)
        result: dict[str, Any] = {}
        for step in ("bare", "apply") if bare_first else ("apply", "bare"):
            if step == "bare":
                result["bare_s"] = bare_client(url, watches, args.parallelism)
                continue
            cpu, started = time.process_time(), time.perf_counter()
            report = apply_plan(cluster, plan, parallelism=args.parallelism)
            result["apply_s"] = time.perf_counter() - started
            result["cpu_ms"] = (time.process_time() - cpu) * 1000 / len(watches)
            assert report.ok, [r for r in report.results if not r.ok][:5]
    return result


@contextmanager
def sandbox_process(latency_ms: float) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "watchmgr.sandbox", "--port", str(port)]
    command += ["--es-version", ES_VERSION, "--latency-ms", str(latency_ms)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "listening on ..."
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def bare_client(url: str, watches: list[Watch], parallelism: int) -> float:
    """The official client alone doing the same PUTs (other ids): the floor for apply."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(url, connections_per_node=parallelism + 2, max_retries=0)
    started = time.perf_counter()
    with ThreadPoolExecutor(parallelism) as pool:
        for _ in pool.map(
            lambda w: client.watcher.put_watch(id=f"bare-{w.id}", body=w.body), watches
        ):
            pass
    return time.perf_counter() - started


def in_process(args: argparse.Namespace, watches: list[Watch]) -> dict[str, Any]:
    """Request counts from the request log of a sandbox in this process."""
    with Sandbox(SandboxConfig(es_version=ES_VERSION)) as sandbox:
        cluster = connect_url(sandbox.url, ENV, parallelism=args.parallelism)
        plan = plan_against(cluster, watches)
        sandbox.set_faults(Faults(latency_ms=args.latency_ms, path_prefix="/_watcher/watch/"))
        started = time.perf_counter()
        report = apply_plan(cluster, plan, parallelism=args.parallelism)
        apply_s = time.perf_counter() - started
        sandbox.set_faults(Faults())
        assert report.ok, [r for r in report.results if not r.ok][:5]

        sandbox.clear_log()
        started = time.perf_counter()
        again = plan_against(cluster, watches)
        plan_s = time.perf_counter() - started
        plan_requests = sum(1 for e in sandbox.request_log if e.path.startswith("/_watcher"))
        sandbox.clear_log()
        apply_plan(cluster, again, parallelism=args.parallelism)
        return {
            "apply_s": apply_s,
            "plan_s": plan_s,
            "plan_requests": plan_requests,
            "plan_budget": math.ceil(args.watches / cluster_module.PAGE_SIZE) + 1,
            "plan_has_changes": again.has_changes,
            "second_writes": len(sandbox.writes()),
        }


if __name__ == "__main__":
    raise SystemExit(main())
