"""The environment's apply lock: who holds it, until when, and how to break a dead holder's."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from watchmgr.cluster import Cluster, connect_url
from watchmgr.errors import ConflictError
from watchmgr.sandbox import Sandbox, SandboxConfig

UNTIL = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with Sandbox(SandboxConfig()) as sandbox:
        yield connect_url(sandbox.url, "dev")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_lock_held_by_a_dead_process_of_this_host_says_so_and_how_to_break_it(
    cluster: Cluster,
) -> None:
    cluster.acquire(f"{socket.gethostname()}:{dead_pid()}:0badf00d")
    with pytest.raises(ConflictError) as caught:
        cluster.acquire("other-host:42:cafe")
    message = str(caught.value)
    assert "a process of this host that no longer runs" in message, message
    assert "run 'watchmgr unlock --env dev' to release it" in message
    assert re.search(f"expires at {UNTIL}", message), message


def test_a_lock_held_elsewhere_says_who_holds_it_and_until_when(cluster: Cluster) -> None:
    cluster.acquire("ci-runner-7:4242:beef")
    with pytest.raises(ConflictError) as caught:
        cluster.acquire("laptop:1:cafe")
    message = str(caught.value)
    assert re.search(f"is running \\(ci-runner-7:4242:beef, lock until {UNTIL}\\)", message)
    assert "'watchmgr unlock --env dev' releases its lock" in message


def test_unlock_frees_the_lock_and_reports_what_it_broke(cluster: Cluster) -> None:
    assert cluster.unlock() is None  # no lock yet
    cluster.acquire("ci-runner-7:4242:beef")
    broken = cluster.unlock()
    assert broken is not None and broken.holder == "ci-runner-7:4242:beef"
    assert cluster.unlock() is None  # already free
    cluster.acquire("laptop:1:cafe")  # free again: taken without a conflict
