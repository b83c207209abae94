"""The cluster adapter: the only module that imports `elasticsearch`.

`connect(env)` builds one client from the environment (a sandbox environment's URL comes from
the `LocalCluster` the CLI passes, which starts the sandbox; nothing after that knows the
difference). `Cluster` lists the watches an environment owns
(``query_watches``, paged with ``search_after``), finds watches at given ids in batches, and
writes with ``if_seq_no``/``if_primary_term``. Transport errors become `ClusterError`s that
say what to do; a 409 becomes `errors.ConflictError`. 429 (honouring ``Retry-After``),
502/503/504 and connection errors are retried here with capped exponential backoff.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from watchmgr.errors import ClusterError, ConflictError, SourceLocation
from watchmgr.plan import LiveWatch
from watchmgr.watch import OWNER_KEY

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from watchmgr.config import Environment

T = TypeVar("T")

#: Watches per ``query_watches`` page (the server caps from + size at 10,000).
PAGE_SIZE = 1000
#: Ids per ``ids`` query when looking for watches that desired ids would take.
ID_BATCH = 1000
#: Retries of one request on 429 / 502 / 503 / 504 / connection errors.
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 5.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})

#: Metadata key of the environment's lock watch (never owned: it is not `OWNER_KEY`).
LOCK_KEY = "watchmgr_lock"
#: A lock older than this is taken over (its holder crashed).
LOCK_LEASE_S = 15 * 60

PLAN_PRIVILEGE = "monitor_watcher"
APPLY_PRIVILEGE = "manage_watcher"


@dataclass(frozen=True, slots=True)
class Written:
    """What a successful PUT returned."""

    seq_no: int
    primary_term: int
    created: bool


class Cluster:
    """One environment's view of its cluster. Thread-safe: apply shares it between workers."""

    def __init__(
        self,
        client: Elasticsearch,
        environment: str,
        where: SourceLocation | None,
        describe: str,
        expected_uuid: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.environment = environment
        self.where = where
        self.describe = describe
        self.expected_uuid = expected_uuid
        self._sleep = sleep
        self._uuid: str | None = None
        self._uuid_read = False
        self._lock = threading.Lock()
        self.retries = 0

    # -------------------------------------------------------------------------- reading

    def cluster_uuid(self) -> str | None:
        """The cluster's uuid (``GET /``), or None when the credentials may not read it."""
        with self._lock:
            if self._uuid_read:
                return self._uuid
        from elasticsearch import AuthorizationException

        try:
            info = self._call("read the cluster's identity", PLAN_PRIVILEGE, self.client.info)
            uuid: str | None = str(info["cluster_uuid"])
        except ClusterError as err:
            if not isinstance(err.__cause__, AuthorizationException):
                raise
            uuid = None
        with self._lock:
            self._uuid, self._uuid_read = uuid, True
        return uuid

    def check_identity(self) -> None:
        """Refuse a cluster whose uuid is not the one the environment names."""
        if self.expected_uuid is None:
            return
        uuid = self.cluster_uuid()
        if uuid is None:
            raise self._error(
                "the environment names a cluster_uuid, but the credentials may not read it "
                "(GET / needs the 'monitor' cluster privilege)"
            )
        if uuid != self.expected_uuid:
            raise self._error(
                f"{self.describe} is cluster {uuid}, but the environment says cluster_uuid "
                f"{self.expected_uuid}: is the URL right?"
            )

    def list_owned(self) -> list[LiveWatch]:
        """Every watch whose ``metadata.watchmgr.environment`` is this environment, by id.

        One ``query_watches`` request per page; the count in the first answer says when to stop,
        so a listing takes ⌈owned / PAGE_SIZE⌉ requests (one when there are none).
        """
        query = {"term": {f"metadata.{OWNER_KEY}.environment.keyword": self.environment}}
        return self._query_all(query)

    def find(self, ids: Iterable[str]) -> list[LiveWatch]:
        """The watches at `ids` (any owner), by id; batches of ID_BATCH ids per request."""
        wanted = sorted(set(ids))
        found: list[LiveWatch] = []
        for start in range(0, len(wanted), ID_BATCH):
            batch = wanted[start : start + ID_BATCH]
            found.extend(self._query_all({"ids": {"values": batch}}))
        return found

    def get(self, watch_id: str) -> LiveWatch | None:
        """One watch, or None when it does not exist."""
        answer = self._unless_missing(
            f"read watch {watch_id!r}",
            PLAN_PRIVILEGE,
            lambda: self.client.watcher.get_watch(id=watch_id),
        )
        return None if answer is None else _live(watch_id, answer)

    def _query_all(self, query: dict[str, Any]) -> list[LiveWatch]:
        found: list[LiveWatch] = []
        after: list[Any] | None = None
        while True:
            page = self._call("list watches", PLAN_PRIVILEGE, self._page(query, after))
            items = page.get("watches") or []
            found.extend(_live(item["_id"], item) for item in items)
            if len(items) < PAGE_SIZE or len(found) >= int(page.get("count", 0)):
                return found
            after = [items[-1]["_id"]]

    def _page(self, query: dict[str, Any], after: list[Any] | None) -> Callable[[], Any]:
        def request() -> Any:
            return self.client.watcher.query_watches(
                query=query, sort=[{"_id": "asc"}], size=PAGE_SIZE, search_after=after
            )

        return request

    # -------------------------------------------------------------------------- writing

    def put(
        self,
        watch_id: str,
        body: dict[str, Any],
        active: bool,
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
    ) -> Written:
        """PUT a watch; conditional when `if_seq_no` is given (then 409 -> ConflictError).

        A conditional PUT is a partial update on the server (watcher-api.md §1.1): fields the
        stored watch has and `body` lacks survive. Callers that remove fields follow it with
        an unconditional PUT (see `apply`).
        """
        answer = self._call(
            f"write watch {watch_id!r}",
            APPLY_PRIVILEGE,
            lambda: self.client.watcher.put_watch(
                id=watch_id,
                body=body,
                active=active,
                if_seq_no=if_seq_no,
                if_primary_term=if_primary_term,
            ),
            conflict=f"watch {watch_id!r} changed since it was read; run plan again",
        )
        return Written(
            int(answer["_seq_no"]), int(answer["_primary_term"]), bool(answer["created"])
        )

    def delete(self, watch_id: str) -> bool:
        """Delete a watch; False when it was already gone."""
        answer = self._unless_missing(
            f"delete watch {watch_id!r}",
            APPLY_PRIVILEGE,
            lambda: self.client.watcher.delete_watch(id=watch_id),
        )
        return answer is not None

    def set_active(self, watch_id: str, active: bool) -> None:
        """Activate or deactivate a watch (no body is sent; the status alone changes)."""
        watcher = self.client.watcher
        call = watcher.activate_watch if active else watcher.deactivate_watch
        verb = "activate" if active else "deactivate"
        self._call(f"{verb} watch {watch_id!r}", APPLY_PRIVILEGE, lambda: call(watch_id=watch_id))

    # -------------------------------------------------------------------------- the lock

    @property
    def lock_id(self) -> str:
        return f"watchmgr-lock-{self.environment}"

    def acquire(self, holder: str) -> None:
        """Take the environment's apply lock, a watch that is never active and never runs.

        Taking it is a conditional write, so of two applies that read it free only one gets
        it; the other fails with ConflictError. A lock older than LOCK_LEASE_S is taken over.
        (The very first lock of an environment is created by a plain PUT: the Watcher API has
        no create-only write. Two first-ever applies racing could both get it.)
        """
        now = time.time()
        current = self.get(self.lock_id)
        body = self._lock_body(holder, now + LOCK_LEASE_S)
        if current is None:
            self.put(self.lock_id, body, active=False)
            current = self.get(self.lock_id)
            if current is None or _lock_holder(current) != holder:
                raise ConflictError(self._busy(current), self.where)
            return
        held_by = _lock_holder(current)
        expires = float((current.body.get("metadata") or {}).get(LOCK_KEY, {}).get("expires", 0))
        if held_by and held_by != holder and expires > now:
            raise ConflictError(self._busy(current), self.where)
        try:
            self.put(self.lock_id, body, False, current.seq_no, current.primary_term)
        except ConflictError as err:
            raise ConflictError(self._busy(self.get(self.lock_id)), self.where) from err

    def release(self, holder: str) -> None:
        """Give the lock back (best effort: a lost release only waits out the lease)."""
        try:
            current = self.get(self.lock_id)
            if current is not None and _lock_holder(current) == holder:
                body = self._lock_body("", 0)
                self.put(self.lock_id, body, False, current.seq_no, current.primary_term)
        except ClusterError:
            pass

    def _lock_body(self, holder: str, expires: float) -> dict[str, Any]:
        return {
            "trigger": {"schedule": {"interval": "1d"}},
            "input": {"none": {}},
            "condition": {"never": {}},
            "actions": {},
            "metadata": {
                LOCK_KEY: {
                    "environment": self.environment,
                    "holder": holder,
                    "expires": int(expires),
                    "note": "watchmgr apply holds this while it writes; it never runs",
                }
            },
        }

    def _busy(self, current: LiveWatch | None) -> str:
        holder = _lock_holder(current) if current is not None else "?"
        return (
            f"another watchmgr apply of environment {self.environment!r} is running "
            f"({holder}); wait for it to finish and run plan again"
        )

    # -------------------------------------------------------------------------- transport

    def _call(
        self,
        what: str,
        privilege: str,
        request: Callable[[], T],
        conflict: str | None = None,
    ) -> T:
        """Run one request with retries; translate what still fails into a domain error."""
        from elasticsearch import ApiError, ConnectionError, ConnectionTimeout

        attempt = 0
        while True:
            attempt += 1
            try:
                return request()
            except (ConnectionError, ConnectionTimeout) as err:
                if attempt >= MAX_ATTEMPTS:
                    raise self._error(
                        f"cannot reach {self.describe} ({_reason(err)}); check the address and "
                        "that the cluster is up",
                    ) from err
                self._backoff(attempt, None)
            except ApiError as err:
                status = err.status_code
                if status in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                    self._backoff(attempt, _retry_after(err))
                    continue
                raise self._api_error(what, privilege, err, conflict) from err

    def _unless_missing(self, what: str, privilege: str, request: Callable[[], T]) -> T | None:
        """`_call`, with None for a 404 (the watch does not exist)."""
        from elasticsearch import NotFoundError

        try:
            return self._call(what, privilege, request)
        except ClusterError as err:
            if isinstance(err.__cause__, NotFoundError):
                return None
            raise

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        with self._lock:
            self.retries += 1
        delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        delay = delay * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 30.0))
        self._sleep(delay)

    def _api_error(self, what: str, privilege: str, err: Any, conflict: str | None) -> ClusterError:
        status = int(err.status_code)
        kind, reason = _error_text(err)
        if status == 409:
            return ConflictError(conflict or f"cannot {what}: {reason}", self.where)
        if status == 401:
            return self._error(
                f"{self.describe} refused the credentials (401: {reason}); check the variables "
                "the environment names"
            )
        if status == 403 and "license" in reason:
            return self._error(
                f"{self.describe} has a licence without Watcher ({reason}); Watcher needs a "
                "standard, gold, platinum, enterprise or trial licence (a basic licence has none)"
            )
        if status == 403:
            needed = (
                "'monitor_watcher' (or 'manage_watcher'), which plan needs"
                if privilege == PLAN_PRIVILEGE
                else "'manage_watcher', which apply needs"
            )
            return self._error(
                f"cannot {what}: the credentials lack the cluster privilege {needed} "
                f"(403: {reason})"
            )
        if kind == "media_type_header_exception":
            return self._error(
                f"{self.describe} does not accept this watchmgr's Elasticsearch client ({reason}); "
                "an 8.x cluster needs watchmgr installed with elasticsearch>=8,<9"
            )
        return self._error(f"cannot {what}: {status} {kind}: {reason}")

    def _error(self, message: str) -> ClusterError:
        return ClusterError(message, self.where)


def _live(watch_id: str, answer: Any) -> LiveWatch:
    """A watch as get_watch answers it, or as one item of query_watches."""
    return LiveWatch(
        id=watch_id,
        body=answer["watch"],
        active=bool(answer["status"]["state"]["active"]),
        seq_no=int(answer["_seq_no"]),
        primary_term=int(answer["_primary_term"]),
    )


def _lock_holder(watch: LiveWatch | None) -> str:
    if watch is None:
        return ""
    lock = (watch.body.get("metadata") or {}).get(LOCK_KEY)
    holder = lock.get("holder") if isinstance(lock, dict) else None
    return holder if isinstance(holder, str) else ""


def _reason(err: Exception) -> str:
    message = getattr(err, "message", None) or str(err)
    return str(message).split("\n")[0][:200]


def _error_text(err: Any) -> tuple[str, str]:
    body = getattr(err, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("type", "")), str(error.get("reason", ""))
    if isinstance(body, dict) and "error" in body:
        return "", str(body["error"])
    return str(getattr(err, "message", "")), str(body)[:200]


def _retry_after(err: Any) -> float | None:
    headers = getattr(getattr(err, "meta", None), "headers", None) or {}
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def holder_name() -> str:
    """Who is applying, for the lock: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 32):08x}"


# ------------------------------------------------------------------------------ connecting


def _client_major() -> int:
    from importlib.metadata import version

    return int(version("elasticsearch").split(".")[0])


def sandbox_es_version() -> str:
    """The ES version the embedded sandbox emulates: one this client talks to (§6.3)."""
    return "9.1.0" if _client_major() >= 9 else "8.19.0"


def _client(kwargs: dict[str, Any], parallelism: int) -> Elasticsearch:
    from elasticsearch import Elasticsearch

    # Retries are ours (backoff, Retry-After); one pooled connection per worker thread.
    return Elasticsearch(
        **kwargs,
        max_retries=0,
        retry_on_status=(),
        retry_on_timeout=False,
        connections_per_node=max(10, parallelism + 2),
    )


#: Starts the local cluster a sandbox environment stands for and yields its URL and how to
#: name it in messages; it runs until the block ends. The CLI provides it (`watchmgr.cli`), so
#: that this module, and everything the flow imports, knows nothing of the sandbox.
LocalCluster = Callable[["Environment"], AbstractContextManager[tuple[str, str]]]


@contextmanager
def connect(
    env: Environment,
    *,
    local: LocalCluster | None = None,
    parallelism: int = 8,
    environ: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Cluster]:
    """A `Cluster` for `env`; a local (sandbox) environment's cluster comes from `local`."""
    from watchmgr.config import ElasticsearchTarget, connection_params

    target = env.target
    if isinstance(target, ElasticsearchTarget):
        params = connection_params(env, environ)
        client = _client(params.client_kwargs(), parallelism)
        where = target.location or SourceLocation(env.path)
        cluster = Cluster(
            client, env.name, where, target.describe(), params.cluster_uuid, sleep=sleep
        )
        try:
            yield cluster
        finally:
            client.close()
        return
    if local is None:
        raise ClusterError(
            f"environment {env.name!r} deploys to a local sandbox, which only the watchmgr "
            "command starts",
            target.location,
        )
    with local(env) as (url, describe):
        client = _client({"hosts": [url]}, parallelism)
        try:
            yield Cluster(client, env.name, target.location, describe, sleep=sleep)
        finally:
            client.close()


def connect_url(
    url: str, environment: str, *, parallelism: int = 8, **client_kwargs: Any
) -> Cluster:
    """A `Cluster` for a URL (tests and benchmarks point it at a sandbox they started)."""
    client = _client({"hosts": [url], **client_kwargs}, parallelism)
    return Cluster(client, environment, None, url)


def ids_of(watches: Sequence[LiveWatch]) -> list[str]:
    return [w.id for w in watches]
