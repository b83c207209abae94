"""Sandboxes for the tests of this folder (ES 9.1 unless a test asks for another version)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from watchmgr.sandbox import Sandbox, SandboxConfig

ES_VERSION = "9.1.0"


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(es_version=ES_VERSION)) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def es_client(shared_sandbox: Sandbox) -> Any:
    from elasticsearch import Elasticsearch

    return Elasticsearch(shared_sandbox.url)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh sandbox per test, for tests that count writes or change its state.

    Parametrize it indirectly with an ES version to run a test against several.
    """
    version = getattr(request, "param", ES_VERSION)
    with Sandbox(SandboxConfig(es_version=version)) as sb:
        yield sb
