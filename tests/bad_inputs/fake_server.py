"""A small fake server on loopback that answers every request the same way: a broken proxy,
a wrong server, or an Elasticsearch whose answers have the wrong shape. It logs what it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What Elasticsearch sends with every answer; the official client checks the product header.
ES_HEADERS = {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: Mapping[str, str] = field(default_factory=lambda: dict(ES_HEADERS))
    #: close the connection without answering (a reset)
    reset: bool = False


@dataclass
class FakeServer:
    answer: Answer
    url: str = ""
    log: list[tuple[str, str]] = field(default_factory=list)

    def writes(self) -> list[tuple[str, str]]:
        """Requests that would change a cluster: anything but reads and watch queries."""
        return [
            (method, path)
            for method, path in self.log
            if method in ("PUT", "DELETE") or (method == "POST" and "/_query/" not in path)
        ]


@contextmanager
def fake_server(answer: Answer) -> Iterator[FakeServer]:
    server = FakeServer(answer)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            server.log.append((self.command, self.path.split("?")[0]))
            if server.answer.reset:
                self.close_connection = True
                return
            self.send_response(server.answer.status)
            for name, value in server.answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(server.answer.body)))
            self.end_headers()
            self.wfile.write(server.answer.body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
