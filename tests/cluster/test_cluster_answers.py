"""A server that is not quite Elasticsearch (a proxy's page, a truncated body, a wrong service)
gets one line naming the cluster and what was wrong, exit 1, and nothing written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.plan.support import Repo, show

ES_HEADERS = {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}
ROOT = {"cluster_uuid": "abcdefghij0123456789ab", "version": {"number": "9.1.0"}}
GOOD_WATCH = {
    "_id": "Rule-0000",
    "_seq_no": 1,
    "_primary_term": 1,
    "status": {"state": {"active": True}},
    "watch": {"trigger": {"schedule": {"interval": "30m"}}},
}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: dict(ES_HEADERS))


def json_answer(value: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(value).encode())


class FakeServer:
    """Answers each request by the first route whose (method, path prefix) matches."""

    def __init__(self, routes: dict[tuple[str, str], Answer]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                fake.requests.append((self.command, self.path))
                answer = fake.answer(self.command, self.path)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_PUT = do_POST = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, method: str, path: str) -> Answer:
        for (m, prefix), answer in self.routes.items():
            if m == method and path.startswith(prefix):
                return answer
        return json_answer({"error": "no route", "status": 404}, 404)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def writes(self) -> list[tuple[str, str]]:
        return [
            r for r in self.requests if r[0] in ("PUT", "DELETE", "POST") and "_query" not in r[1]
        ]


def listing(*items: Any, count: int | None = None) -> Answer:
    return json_answer({"count": len(items) if count is None else count, "watches": list(items)})


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


CASES: dict[str, tuple[dict[tuple[str, str], Answer], str]] = {
    "a proxy's HTML page with status 200": (
        {("POST", "/_watcher/_query"): Answer(200, b"<html>Login</html>")},
        "not readable JSON",
    ),
    "a truncated body": (
        {("POST", "/_watcher/_query"): Answer(200, b'{"count": 1, "watches": [{"_id"')},
        "not readable JSON",
    ),
    "an answer nested 100,000 deep": (
        {("POST", "/_watcher/_query"): Answer(200, b"[" * 100_000 + b"]" * 100_000)},
        "not readable JSON",
    ),
    "a body that is a list": (
        {("POST", "/_watcher/_query"): json_answer([GOOD_WATCH])},
        "'count' is missing: its parent is not an object",
    ),
    "a listing item without its watch": (
        {("POST", "/_watcher/_query"): listing(without(GOOD_WATCH, "watch"))},
        "'watch' is missing",
    ),
    "a listing item with a null status": (
        {("POST", "/_watcher/_query"): listing({**GOOD_WATCH, "status": None})},
        "'status.state.active' is missing: its parent is not an object",
    ),
    "a seq_no that is a string": (
        {("POST", "/_watcher/_query"): listing({**GOOD_WATCH, "_seq_no": "7"})},
        "'_seq_no' is a string",
    ),
    "watches that are an object": (
        {("POST", "/_watcher/_query"): json_answer({"count": 1, "watches": {}})},
        "'watches' is an object",
    ),
    "an answer without Elasticsearch's product header": (
        {("POST", "/_watcher/_query"): Answer(200, b"{}", {"Content-Type": "application/json"})},
        "did not answer as Elasticsearch does",
    ),
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    repo = Repo(tmp_path)
    repo.rules(2)
    return repo


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[FakeServer] = []

    def start(routes: dict[tuple[str, str], Answer]) -> FakeServer:
        server = FakeServer({("GET", "/"): json_answer(ROOT), **routes})
        # More specific routes first: the root route matches every GET.
        server.routes = dict(sorted(server.routes.items(), key=lambda kv: -len(kv[0][1])))
        server.thread.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.server.shutdown()
        server.server.server_close()


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_answer_is_one_line_and_nothing_is_written(
    repo: Repo, serve: Any, case: str
) -> None:
    routes, fragment = CASES[case]
    server = serve(routes)
    repo.environment(
        "prod", f"elasticsearch:\n  hosts: [{server.url}]\nrules:\n  paths: [rules/]\n"
    )
    for command in (["plan"], ["apply", "--yes"]):
        result = repo.run(*command, "--env", "prod")
        assert result.exit_code == 1, show(result)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output, show(result)
        assert lines[0].startswith("watchmgr: environments/prod.yaml:1: "), show(result)
        assert server.url in lines[0] and fragment in lines[0], show(result)
    assert server.writes() == []


def test_a_write_answer_without_seq_no_stops_apply_in_one_line(repo: Repo, serve: Any) -> None:
    server = serve(
        {
            ("POST", "/_watcher/_query"): listing(),
            ("GET", "/_watcher/watch/"): json_answer({"found": False}, 404),
            ("PUT", "/_watcher/watch/"): json_answer({"_id": "x", "created": True}),
        }
    )
    repo.environment(
        "prod", f"elasticsearch:\n  hosts: [{server.url}]\nrules:\n  paths: [rules/]\n"
    )
    result = repo.run("apply", "--env", "prod", "--yes")
    assert result.exit_code == 1, show(result)
    # This server answers no field-mapping request: the plan's mapping check is skipped.
    note, line = result.stderr.strip().splitlines()
    assert note.startswith("watchmgr: note: mapping check skipped: "), show(result)
    assert "answered the write of watch 'watchmgr-lock-prod' in a shape" in line, show(result)
    assert "'_seq_no' is missing" in line
    # Only the lock was attempted: no watch of a rule was written.
    assert all("watchmgr-lock-prod" in path for _, path in server.writes()), server.writes()
