"""`unlock`: break an environment's apply lock that a killed apply left behind.

Terraform's ``force-unlock``: explicit, guarded (it shows the holder and asks, unless --yes),
and it says what it broke. Messages go to stderr; it prints no data.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import UnlockEnvOpt, UnlockRootOpt, UnlockYesOpt
from watchmgr.errors import Diagnostics, ExitCode

if TYPE_CHECKING:
    from watchmgr.cluster import LockState


def unlock_command(
    env_name: UnlockEnvOpt,
    yes: UnlockYesOpt = False,
    root: UnlockRootOpt = Path("."),
) -> None:
    """Release an environment's apply lock, left behind by an apply that was killed.

    Shows who holds the lock and until when, and asks first (unless --yes). An apply that is
    still running loses its lock this way: use it only when the holder is dead. Exit codes:
    0 released, or there was no lock; 1 an environment or cluster problem, or not confirmed;
    2 usage error.
    """
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import messages

    report = Diagnostics()
    with reporting(report):
        env = workflow.environment(root, env_name, report)
        with connector()(env) as cluster:
            held = workflow.lock_state(cluster)
            if held is None:
                messages.note(f"environment {env.name!r} has no lock to release: no apply holds it")
                return
            messages.note(f"the lock of environment {env.name!r} is held by {_holder(held)}")
            _confirm(yes, env.name)
            broken = workflow.unlock(cluster, held.holder)
        if broken is None:
            messages.note(f"environment {env.name!r} has no lock to release: freed meanwhile")
            return
        messages.note(
            f"released the lock of environment {env.name!r} held by {_holder(broken)}; if "
            "that apply was still running, its remaining writes are no longer guarded: run "
            f"'watchmgr plan --env {env.name}' to see where it left the cluster"
        )


def _holder(state: LockState) -> str:
    gone = ", a process of this host that no longer runs" if state.holder_is_gone() else ""
    return f"{state.holder}{gone} (lock until {state.until})"


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm(yes: bool, env_name: str) -> None:
    if yes:
        return
    if not _interactive():
        fail(
            "unlock asks before releasing a lock and stdin is not a terminal; pass --yes to "
            "release it without asking",
            ExitCode.USAGE,
        )
    question = f"Release the lock of environment {env_name!r}? A running apply would lose it"
    if not typer.confirm(question, err=True):
        fail("unlock cancelled; the lock is still held")
