"""A killed apply never blocks deploys for long: SIGTERM releases the lock, and `watchmgr unlock`
breaks a dead holder's lock explicitly, guarded, saying what it broke."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.plan.support import Repo, dev_repo, show, successful_writes
from watchmgr.cluster import connect_url
from watchmgr.sandbox import Faults, Sandbox, SandboxConfig

UNLOCKS = "/_watcher/watch/watchmgr-lock-dev"


@pytest.fixture
def sandbox() -> Sandbox:  # type: ignore[misc]
    with Sandbox(SandboxConfig(es_version="9.1.0")) as sb:
        yield sb


@pytest.fixture
def repo(tmp_path: Path, sandbox: Sandbox) -> Repo:
    return dev_repo(tmp_path, sandbox, rules=12)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_sigterm_during_apply_stops_it_releases_the_lock_and_says_so(
    repo: Repo, sandbox: Sandbox
) -> None:
    sandbox.set_faults(Faults(latency_ms=150, path_prefix="/_watcher/watch/Rule"))
    command = [sys.executable, "-c", "from watchmgr.cli import main; main()"]
    args = ["apply", "--env", "dev", "--yes", "--parallelism", "1", "--root", str(repo.root)]
    process = subprocess.Popen(
        [*command, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any("/Rule-" in e.path for e in successful_writes(sandbox)):
            assert process.poll() is None and time.monotonic() < deadline, "apply never wrote"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        sandbox.set_faults(Faults())
    output = f"exit {process.returncode}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    assert process.returncode == 1, output
    assert "Traceback" not in stderr, output
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("watchmgr: interrupted: "), output
    assert "not applied: interrupted" in stdout, output
    written = [e for e in successful_writes(sandbox) if "/Rule-" in e.path]
    assert 1 <= len(written) < 12, output
    assert connect_url(sandbox.url, "dev").lock_state() is None  # released on the way out
    again = repo.run("apply", "--env", "dev", "--yes")  # no unlock needed
    assert again.exit_code == 0, show(again)
    assert f"{12 - len(written)} done, 0 not done" in again.stdout, show(again)


def test_unlock_without_a_lock_is_one_line_and_writes_nothing(repo: Repo, sandbox: Sandbox) -> None:
    result = repo.run("unlock", "--env", "dev")
    assert result.exit_code == 0, show(result)
    assert result.stderr == "environment 'dev' has no lock to release: no apply holds it\n"
    assert result.stdout == ""
    assert sandbox.writes() == []


def test_unlock_shows_the_holder_and_refuses_without_yes_when_it_cannot_ask(
    repo: Repo, sandbox: Sandbox
) -> None:
    holder = f"{socket.gethostname()}:{dead_pid()}:0badf00d"
    connect_url(sandbox.url, "dev").acquire(holder)
    sandbox.clear_log()
    result = repo.run("unlock", "--env", "dev")
    assert result.exit_code == 2, show(result)
    first, second = result.stderr.strip().splitlines()
    assert first.startswith(
        f"the lock of environment 'dev' is held by {holder}, a process of this host that no "
        "longer runs (lock until "
    ), show(result)
    assert second == (
        "watchmgr: unlock asks before releasing a lock and stdin is not a terminal; pass --yes "
        "to release it without asking"
    )
    assert sandbox.writes() == []
    state = connect_url(sandbox.url, "dev").lock_state()
    assert state is not None and state.holder == holder


def test_unlock_yes_breaks_the_lock_says_what_it_broke_and_apply_goes_on(
    repo: Repo, sandbox: Sandbox
) -> None:
    connect_url(sandbox.url, "dev").acquire("ci-runner-7:4242:beef")
    blocked = repo.run("apply", "--env", "dev", "--yes")
    assert blocked.exit_code == 1, show(blocked)
    assert "'watchmgr unlock --env dev' releases its lock" in blocked.stderr
    sandbox.clear_log()
    result = repo.run("unlock", "--env", "dev", "--yes")
    assert result.exit_code == 0, show(result)
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "released the lock of environment 'dev' held by ci-runner-7:4242:beef (lock until "
        )
    ), show(result)
    assert [e.path for e in successful_writes(sandbox)] == [UNLOCKS]
    assert connect_url(sandbox.url, "dev").lock_state() is None
    assert repo.run("apply", "--env", "dev", "--yes").exit_code == 0


@pytest.mark.parametrize(("answer", "exit_code", "released"), [("n\n", 1, False), ("y\n", 0, True)])
def test_unlock_asks_at_a_terminal(
    repo: Repo,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    exit_code: int,
    released: bool,
) -> None:
    from watchmgr.cli import lock

    monkeypatch.setattr(lock, "_interactive", lambda: True)
    connect_url(sandbox.url, "dev").acquire("laptop:1:cafe")
    result = repo.run("unlock", "--env", "dev", input=answer)
    assert result.exit_code == exit_code, show(result)
    assert "Release the lock of environment 'dev'? A running apply would lose it" in result.stderr
    state = connect_url(sandbox.url, "dev").lock_state()
    assert (state is None) is released, show(result)
    if not released:
        assert "watchmgr: unlock cancelled; the lock is still held" in result.stderr


def test_unlock_breaks_only_the_lock_it_showed(sandbox: Sandbox) -> None:
    from watchmgr.errors import ConflictError

    cluster = connect_url(sandbox.url, "dev")
    cluster.acquire("first:1:aa")
    with pytest.raises(ConflictError, match="changed hands meanwhile; nothing was released"):
        cluster.unlock("second:2:bb")
    state = cluster.lock_state()
    assert state is not None and state.holder == "first:1:aa"
