"""Fixtures for the sandbox tests: a running sandbox, a client, the shared reference data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_support import REST_RESULTS

from watchmgr.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(es_version="9.1.0")) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    from elasticsearch import Elasticsearch

    with Elasticsearch(sandbox.url, max_retries=0) as es:
        yield es


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if REST_RESULTS:
        parts = ", ".join(f"{n} {k}" for k, n in sorted(REST_RESULTS.items()))
        terminalreporter.write_line(f"ES Watcher YAML REST tests against the sandbox: {parts}")
