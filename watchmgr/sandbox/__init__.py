"""A local, faithful emulation of the Elasticsearch Watcher REST API (see README.md here).

    with Sandbox(SandboxConfig(es_version="9.1.0")) as sandbox:
        client = Elasticsearch(sandbox.url)

Nothing here imports product code: the sandbox is an independent emulator of ES.
"""

from watchmgr.sandbox.config import ApiKey, Faults, SandboxConfig, Security, User
from watchmgr.sandbox.server import LogEntry, Sandbox, serve_forever

__all__ = [
    "ApiKey",
    "Faults",
    "LogEntry",
    "Sandbox",
    "SandboxConfig",
    "Security",
    "User",
    "serve_forever",
]
