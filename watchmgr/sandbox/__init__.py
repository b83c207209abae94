"""A local, faithful emulation of the Elasticsearch Watcher REST API (see README.md here).

    with Sandbox(SandboxConfig(es_version="9.1.0")) as sandbox:
        client = Elasticsearch(sandbox.url)

Nothing here imports product code: the sandbox is an independent emulator of ES.
"""

from __future__ import annotations

from typing import Any

from watchmgr.sandbox.config import ApiKey, Faults, SandboxConfig, Security, Token, User


def __getattr__(name: str) -> Any:
    # The server is imported on first use, so that `watchmgr --help` does not pay for it.
    if name in ("LogEntry", "Sandbox", "serve_forever"):
        from watchmgr.sandbox import server

        return getattr(server, name)
    raise AttributeError(name)


__all__ = [
    "ApiKey",
    "Faults",
    "LogEntry",
    "Sandbox",
    "SandboxConfig",
    "Security",
    "Token",
    "User",
    "serve_forever",
]
