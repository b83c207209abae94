"""The local cluster a sandbox environment stands for: the embedded sandbox, started here.

The flow asks `cluster.connect` for a cluster and never learns which kind it got; this edge is
the one place that imports `watchmgr.sandbox` to provide one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from watchmgr.errors import ClusterError

if TYPE_CHECKING:
    from watchmgr.cluster import Cluster
    from watchmgr.config import Environment
    from watchmgr.workflow import Connect

#: The version the embedded sandbox emulates: the long-lived 8 line (9 is tested as well; every
#: client watchmgr supports talks to both).
SANDBOX_ES_VERSION = "8.19.0"


@contextmanager
def start_sandbox(env: Environment) -> Iterator[tuple[str, str]]:
    """Run the sandbox on a free loopback port with `env`'s state file; yield its URL."""
    from watchmgr.config import SandboxTarget, sandbox_state_path
    from watchmgr.sandbox import Sandbox, SandboxConfig

    target = env.target
    state = sandbox_state_path(env)
    assert isinstance(target, SandboxTarget)  # sandbox_state_path refuses any other
    # A stable identity per state file, so a saved plan is accepted by a later run.
    uuid = hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:22]
    sandbox = Sandbox(
        SandboxConfig(es_version=SANDBOX_ES_VERSION, state_path=state, cluster_uuid=uuid)
    )
    try:
        sandbox.start()
    except OSError as err:
        raise ClusterError(
            f"cannot start the sandbox with state {target.state}: {err}", target.location
        ) from err
    try:
        yield sandbox.url, f"the sandbox at {sandbox.url}"
    finally:
        sandbox.stop()


def connector(parallelism: int = 8) -> Connect:
    """How the commands open an environment's cluster: `cluster.connect`, sandbox included.

    The secrets an environment names are read from the process environment, here at the edge.
    """
    from watchmgr.cluster import connect

    opened: Connect = partial(
        connect, local=start_sandbox, parallelism=parallelism, environ=os.environ
    )
    return opened


@contextmanager
def test_cluster(env: Environment | None, parallelism: int = 8) -> Iterator[Cluster]:
    """The cluster `watchmgr test` indexes events in: `env`'s, or an embedded sandbox that
    lives in memory for the run (nothing of it is kept)."""
    from watchmgr.cluster import connect_url
    from watchmgr.sandbox import Sandbox, SandboxConfig

    if env is not None:
        with connector(parallelism)(env) as cluster:
            yield cluster
        return
    with Sandbox(SandboxConfig(es_version=SANDBOX_ES_VERSION)) as sandbox:
        cluster = connect_url(sandbox.url, "test", parallelism=parallelism)
        cluster.describe = "the embedded sandbox"
        try:
            yield cluster
        finally:
            cluster.client.close()
