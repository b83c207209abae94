"""The HTTP side of the sandbox: a threading stdlib server, faults, the request log.

`Sandbox(config).start()` serves on a free loopback port in a background thread (tests,
`environments/local.yaml`); `serve_forever(...)` is the foreground entry of `watchmgr sandbox`.
Injected latency is a per-request deadline: the answer leaves no sooner than `latency_ms` after
the request line arrived, the sandbox's own work included (a cluster's latency includes its
processing). The wait is taken outside every lock, so parallel clients overlap it.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import random
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from watchmgr.sandbox.api import Api, Request, Response
from watchmgr.sandbox.config import ApiKey, Faults, SandboxConfig, Security
from watchmgr.sandbox.errors import EsError
from watchmgr.sandbox.store import Store
from watchmgr.sandbox.tls import Certificates, certificates


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One answered request. `write` is true for routes that change state."""

    method: str
    path: str
    status: int
    write: bool
    query: str = ""


_REASONS = {code.value: code.phrase for code in HTTPStatus}


class _FaultState:
    def __init__(self, faults: Faults) -> None:
        self.lock = threading.Lock()
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.writes = 0

    def draw(self) -> float:
        with self.lock:
            return self.rng.random()

    def next_write(self) -> int:
        with self.lock:
            self.writes += 1
            return self.writes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: Sandbox
    tls: ssl.SSLContext | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that rejects the certificate or hangs up is its own business, as for ES.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Buffer the response so headers and body leave in one segment (flushed per request).
    wbufsize = 1 << 16
    server: _Server
    req_headers: dict[str, str]
    arrived: float

    def setup(self) -> None:
        if self.server.tls is not None:
            # The handshake runs here, in the connection's own thread, not in accept().
            self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        super().setup()
        # Keep-alive plus Nagle plus delayed ACKs would add ~40 ms to every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request log replaces stderr access logs

    def handle_one_request(self) -> None:
        # A lean HTTP/1.1 request parser: the stdlib one goes through email.feedparser, which
        # costs more than the whole Watcher API call and would eat the latency budget.
        line = self.rfile.readline(65537)
        if not line:
            self.close_connection = True
            return
        self.arrived = time.monotonic()
        try:
            method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        except ValueError:
            self.close_connection = True
            return
        headers: dict[str, str] = {}
        while True:
            raw = self.rfile.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.command, self.path, self.request_version = method, target, version
        self.req_headers = headers
        self.close_connection = (
            headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
        )
        self.server.sandbox._dispatch(self)
        self.wfile.flush()


class Sandbox:
    """A running (or startable) sandbox. Use as a context manager or call start()/stop()."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._store: Store | None = None
        self._api: Api | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log: list[LogEntry] = []
        self._log_lock = threading.Lock()
        self._faults = _FaultState(self.config.faults)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        """Bind, load state and serve in a daemon thread; returns self."""
        self._store = Store(self.config.state_path, primary_term=self.config.primary_term)
        self._api = Api(self.config, self._store)
        tls = None if self.config.tls_dir is None else self.certificates.server_context()
        server = _Server((self.config.host, self.config.port), _Handler)
        server.sandbox = self
        server.tls = tls
        self._server = server
        self._api.http_address = f"{self.config.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            name="watchmgr-sandbox",
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and snapshot the state file (if any)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._store is not None:
            self._store.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ observation / control

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        scheme = "http" if self.config.tls_dir is None else "https"
        return f"{scheme}://{host}:{self.port}"

    @functools.cached_property
    def certificates(self) -> Certificates:
        """The TLS files (made on first use); only for a sandbox with `tls_dir`."""
        if self.config.tls_dir is None:
            raise RuntimeError("the sandbox serves plain HTTP")
        return certificates(self.config.tls_dir)

    @property
    def request_log(self) -> list[LogEntry]:
        """A copy of every answered request so far, in order."""
        with self._log_lock:
            return list(self._log)

    def writes(self) -> list[LogEntry]:
        """Logged requests to routes that change state (any status)."""
        return [e for e in self.request_log if e.write]

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def set_faults(self, faults: Faults) -> None:
        """Replace the fault plan; the write counter for `fail_writes` restarts at zero."""
        self._faults = _FaultState(faults)

    def set_license(self, mode: str) -> None:
        self._require_api().license = mode

    def set_security(self, security: Security | None) -> None:
        self._require_api().security = security

    @property
    def api(self) -> Api:
        return self._require_api()

    def _require_api(self) -> Api:
        if self._api is None:
            raise RuntimeError("the sandbox is not running")
        return self._api

    # ------------------------------------------------------------------ request handling

    def _dispatch(self, handler: _Handler) -> None:
        api = self._require_api()
        faults = self._faults
        plan = faults.faults
        due = handler.arrived
        if plan.latency_ms or plan.jitter_ms:
            due += (plan.latency_ms + (faults.draw() * 2 - 1) * plan.jitter_ms) / 1000
        length = int(handler.req_headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        if body and handler.req_headers.get("content-encoding", "").lower() == "gzip":
            # ES inflates compressed request bodies (http.compression); the client compresses
            # them when told to, and always for a cloud_id.
            with contextlib.suppress(OSError, EOFError):
                body = gzip.decompress(body)
        parts = urlsplit(handler.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        request = Request(
            method=handler.command,
            path=parts.path or "/",
            params=params,
            headers=handler.req_headers,
            body=body,
        )
        route = api.route_for(request)
        is_write = bool(route and route.write)
        response = self._inject(request, is_write, faults)
        if response is None:
            try:
                response = api.handle(request)
            except Exception as err:
                response = Response(
                    500, EsError(500, "exception", f"sandbox bug: {err!r}").to_body()
                )
        with self._log_lock:
            self._log.append(
                LogEntry(request.method, request.path, response.status, is_write, parts.query)
            )
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if response.reset:
            self._reset(handler)
            return
        self._write(handler, request, response)

    def _inject(self, request: Request, is_write: bool, faults: _FaultState) -> Response | None:
        plan = faults.faults
        if not request.path.startswith(plan.path_prefix):
            return None
        if plan.reset_rate and faults.draw() < plan.reset_rate:
            return Response(0, None, reset=True)
        if plan.rate_429 and faults.draw() < plan.rate_429:
            err = EsError(
                429,
                "es_rejected_execution_exception",
                "rejected execution of coordinating operation [sandbox fault injection]",
            )
            return Response(429, err.to_body(), {"Retry-After": str(plan.retry_after_s)})
        if plan.rate_503 and faults.draw() < plan.rate_503:
            err = EsError(
                503,
                "unavailable_shards_exception",
                "[.watches][0] primary shard is not active Timeout: [1m]",
            )
            return Response(503, err.to_body())
        if is_write and plan.fail_writes and faults.next_write() in plan.fail_writes:
            err = EsError(
                plan.fail_status, "exception", "sandbox fault injection: this write failed"
            )
            return Response(plan.fail_status, err.to_body())
        return None

    def _write(self, handler: _Handler, request: Request, response: Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        headers = dict(response.headers)
        content_type = headers.pop("Content-Type", None) or (
            "application/json;charset=utf-8" if response.status >= 400 else "application/json"
        )
        lines = [
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}",
            "X-elastic-product: Elasticsearch",
            f"Content-Type: {content_type}",
        ]
        lines += [
            f"{name}: {value}" for name, value in headers.items() if name != "WWW-Authenticate"
        ]
        if response.status == 401 and isinstance(response.body, dict):
            for challenge in response.body["error"].get("header", {}).get("WWW-Authenticate", []):
                lines.append(f"WWW-Authenticate: {challenge}")
        lines.append(f"Content-Length: {len(payload)}")
        if handler.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        handler.wfile.write(head if request.method == "HEAD" else head + payload)

    @staticmethod
    def _reset(handler: _Handler) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        sock: socket.socket = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        sock.close()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 9200,
    state: Path | None = None,
    es_version: str = "8.19.0",
    latency_ms: float = 0.0,
    *,
    jitter_ms: float = 0.0,
    license: str = "trial",
    api_keys: tuple[ApiKey, ...] = (),
    rate_429: float = 0.0,
    rate_503: float = 0.0,
    reset_rate: float = 0.0,
    fail_writes: frozenset[int] = frozenset(),
    cluster_name: str = "watchmgr-sandbox",
    seed: int | None = None,
    tls_dir: Path | None = None,
) -> None:
    """Run a sandbox in the foreground until SIGINT/SIGTERM; prints its URL on stdout.

    With `tls_dir` it serves HTTPS and prints the CA's file and SHA-256 fingerprint, as ES does
    at its first start. Raises OSError (the port is taken, say) and TlsSetupError.
    """
    config = SandboxConfig(
        host=host,
        port=port,
        es_version=es_version,
        cluster_name=cluster_name,
        state_path=state,
        license=license,
        security=Security(api_keys=api_keys) if api_keys else None,
        faults=Faults(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            rate_429=rate_429,
            rate_503=rate_503,
            reset_rate=reset_rate,
            fail_writes=fail_writes,
            seed=seed,
        ),
        tls_dir=tls_dir,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    sandbox = Sandbox(config).start()
    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        print(
            f"watchmgr sandbox (Elasticsearch {es_version} Watcher API) listening on {sandbox.url}",
            flush=True,
        )
        if tls_dir is not None:
            print(f"CA certificate: {sandbox.certificates.ca}", flush=True)
            print(
                f"CA certificate SHA-256 fingerprint: {sandbox.certificates.fingerprint()}",
                flush=True,
            )
        if state is not None:
            print(f"state file: {state}", flush=True)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
        print("watchmgr sandbox stopped", file=sys.stderr, flush=True)


def with_faults(config: SandboxConfig, **changes: Any) -> SandboxConfig:
    """A copy of `config` whose faults have `changes` applied."""
    return replace(config, faults=replace(config.faults, **changes))
