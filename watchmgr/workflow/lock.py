"""The apply lock of an environment's cluster: who holds it, and breaking it (`unlock`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster, LockState


def lock_state(cluster: Cluster) -> LockState | None:
    """Who holds the environment's apply lock and until when; None when nobody does."""
    return cluster.lock_state()


def unlock(cluster: Cluster, holder: str) -> LockState | None:
    """Break `holder`'s lock (refused if another holder has it by now); what was broken."""
    return cluster.unlock(holder)
