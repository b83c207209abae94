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

import functools
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from watchmgr.errors import ClusterError, ConflictError, SourceLocation
from watchmgr.plan import LiveWatch
from watchmgr.rules import RESERVED_ID_PREFIX
from watchmgr.watch import Ownership

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

#: Metadata key of the environment's lock watch (never owned: it is not `Ownership.KEY`).
LOCK_KEY = "watchmgr_lock"
#: A lock older than this is taken over (its holder crashed).
LOCK_LEASE_S = 15 * 60

#: What watchmgr says to a server that is not Elasticsearch 8 or 9.
SUPPORTED = "watchmgr supports Elasticsearch 8.x and 9.x"
#: Every request asks for the 8.x REST API: ES 8 speaks it natively and ES 9 accepts it as
#: REST API compatibility (one major back), whichever client major is installed. The 9.x
#: client would ask for 9, which ES 8 refuses (media_type_header_exception).
COMPATIBLE_WITH = 8

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
        self._info_answer: dict[str, Any] | None = None
        self._info_read = False
        self._lock = threading.Lock()
        self.retries = 0

    # -------------------------------------------------------------------------- reading

    def _info(self) -> dict[str, Any] | None:
        """``GET /`` once per run, or None when the credentials may not read it.

        Least-privilege keys (``monitor_watcher`` / ``manage_watcher`` only) may not: ``GET /``
        needs the ``monitor`` cluster privilege, so nothing depends on it but the checks below.
        """
        with self._lock:
            if self._info_read:
                return self._info_answer
        from elasticsearch import AuthorizationException

        try:
            answer = self._call("read the cluster's identity", PLAN_PRIVILEGE, self.client.info)
            info: dict[str, Any] | None = self._checked("GET /", _root, answer)
        except ClusterError as err:
            if not isinstance(err.__cause__, AuthorizationException):
                raise
            info = None
        with self._lock:
            self._info_answer, self._info_read = info, True
        return info

    def cluster_uuid(self) -> str | None:
        """The cluster's uuid (``GET /``), or None when the credentials may not read it."""
        info = self._info()
        return None if info is None else str(info.get("cluster_uuid"))

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
        query = {"term": {f"{Ownership.ENVIRONMENT_FIELD}.keyword": self.environment}}
        return self._query_all(query)

    def list_all(self) -> list[LiveWatch]:
        """Every watch on the cluster, whoever owns it, by id (``export --all``)."""
        return self._query_all({"match_all": {}})

    def statuses(self) -> list[tuple[LiveWatch, dict[str, Any]]]:
        """Every watch this environment owns with its Watcher status (``status``), by id; the
        same paged ``query_watches`` as `list_owned`, never one request per watch."""
        query = {"term": {f"{Ownership.ENVIRONMENT_FIELD}.keyword": self.environment}}
        found: list[tuple[LiveWatch, dict[str, Any]]] = []
        after: list[Any] | None = None
        while True:
            page = self._call("list watches", PLAN_PRIVILEGE, self._page(query, after))
            count, items = self._checked("the watch listing", _listing, page)
            found.extend(
                (item, dict(raw.get("status") or {}))
                for item, raw in zip(items, page.get("watches", []), strict=True)
            )
            if len(items) < PAGE_SIZE or len(found) >= count:
                return found
            after = [items[-1].id]

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
        return None if answer is None else self._checked(f"watch {watch_id!r}", _live, answer)

    def _query_all(self, query: dict[str, Any]) -> list[LiveWatch]:
        found: list[LiveWatch] = []
        after: list[Any] | None = None
        while True:
            page = self._call("list watches", PLAN_PRIVILEGE, self._page(query, after))
            count, items = self._checked("the watch listing", _listing, page)
            found.extend(items)
            if len(items) < PAGE_SIZE or len(found) >= count:
                return found
            after = [items[-1].id]

    def _page(self, query: dict[str, Any], after: list[Any] | None) -> Callable[[], Any]:
        def request() -> Any:
            return self.client.watcher.query_watches(
                query=query, sort=[{"_id": "asc"}], size=PAGE_SIZE, search_after=after
            )

        return request

    # -------------------------------------------------------------------------- test indices

    def create_index(self, index: str, mappings: dict[str, Any] | None = None) -> None:
        """Create `index` (watchmgr test's scratch index); the cluster's templates apply."""
        self._call(
            f"create index {index!r}",
            _index_privilege("create_index", index),
            lambda: self.client.indices.create(index=index, mappings=mappings),
        )

    def bulk_index(self, index: str, docs: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Index `docs` (id, source) into `index` in one request, searchable when it returns."""
        operations: list[dict[str, Any]] = []
        for doc_id, source in docs:
            operations += [{"index": {"_index": index, "_id": doc_id}}, source]
        answer = self._call(
            f"index {len(docs)} events into {index!r}",
            _index_privilege("write", index),
            lambda: self.client.bulk(operations=operations, refresh=True),
        )
        failed = self._checked(f"the bulk write to {index!r}", _bulk_failures, answer)
        if failed:
            count, (doc_id, reason) = len(failed), failed[0]
            raise self._error(
                f"{count} of {len(docs)} events could not be indexed into {index!r}; the "
                f"first, {doc_id!r}: {reason}"
            )

    def search_many(self, index: str, bodies: Sequence[dict[str, Any]]) -> list[list[str] | str]:
        """Several searches of `index` in one ``_msearch`` request: per search, the ids of the
        documents it matches, or why the cluster refused it (each search fails alone)."""
        searches: list[dict[str, Any]] = []
        for body in bodies:
            searches += [{"index": index}, body]
        answer = self._call(
            f"search {index!r}",
            _index_privilege("read", index),
            lambda: self.client.msearch(searches=searches),
        )
        found = self._checked(f"the searches of {index!r}", _msearch_ids, answer)
        if len(found) != len(bodies):
            raise self._error(
                f"{self.describe} answered {len(found)} of {len(bodies)} searches of {index!r}"
            )
        return found

    def delete_index(self, index: str) -> None:
        """Delete `index`; one already gone is fine."""
        self._unless_missing(
            f"delete index {index!r}",
            _index_privilege("delete_index", index),
            lambda: self.client.indices.delete(index=index),
        )

    def field_mappings(
        self, indices: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """index -> field -> its mapping, for `fields` in the indices `indices` names.

        Indices that do not exist are left out (a pattern that matches none gives nothing).
        The field list is sent in parts short enough for any URL limit.
        """
        found: dict[str, dict[str, dict[str, Any]]] = {}
        target = ",".join(indices)
        for part in _url_parts(sorted(set(fields))):
            answer = self._call(
                f"read the field mappings of {target!r}",
                _index_privilege("view_index_metadata", target),
                lambda part=part: self.client.indices.get_field_mapping(  # type: ignore[misc]
                    index=target, fields=part, ignore_unavailable=True, allow_no_indices=True
                ),
            )
            for index, mapped in self._checked("the field mappings", _field_mappings, answer):
                found.setdefault(index, {}).update(mapped)
        return found

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
        return self._checked(f"the write of watch {watch_id!r}", _written, answer)

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
        return f"{RESERVED_ID_PREFIX}{self.environment}"

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
        if held_by and held_by != holder and _lock_expires(current) > now:
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

    def lock_state(self) -> LockState | None:
        """Who holds the environment's lock and until when; None when nobody does."""
        current = self.get(self.lock_id)
        state = None if current is None else _lock_state(current)
        return state if state is not None and state.holder else None

    def unlock(self, holder: str | None = None) -> LockState | None:
        """Free the environment's lock; the state it had, or None if it was free.

        With `holder`, only that holder's lock is freed (the one a person was shown and agreed
        to break): another holder's is a ConflictError. The write is conditional on the lock
        as read, so a lock taken over in between is left alone (ConflictError). For a holder
        that died: a live apply loses its lock this way.
        """
        current = self.get(self.lock_id)
        state = None if current is None else _lock_state(current)
        if current is None or state is None or not state.holder:
            return None
        changed = ConflictError(
            f"the lock of environment {self.environment!r} changed hands meanwhile; nothing "
            "was released: run unlock again to see who holds it now",
            self.where,
        )
        if holder is not None and state.holder != holder:
            raise changed
        body = self._lock_body("", 0)
        try:
            self.put(self.lock_id, body, False, current.seq_no, current.primary_term)
        except ConflictError as err:
            raise changed from err
        return state

    def _busy(self, current: LiveWatch | None) -> str:
        state = _lock_state(current) if current is not None else None
        if state is None:
            return (
                f"another watchmgr apply of environment {self.environment!r} took the lock "
                "just now; wait for it to finish and run plan again"
            )
        until = state.until
        unlock = f"watchmgr unlock --env {self.environment}"
        if state.holder_is_gone():
            return (
                f"the lock of environment {self.environment!r} is held by {state.holder}, a "
                f"process of this host that no longer runs (killed?); run '{unlock}' to "
                f"release it, or wait until it expires at {until}"
            )
        return (
            f"another watchmgr apply of environment {self.environment!r} is running "
            f"({state.holder}, lock until {until}); wait for it to finish and run plan again "
            f"(if that apply was killed on another host, '{unlock}' releases its lock)"
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
        from elasticsearch import (
            ApiError,
            ConnectionError,
            ConnectionTimeout,
            SerializationError,
            SSLError,
            UnsupportedProductError,
        )

        attempt = 0
        while True:
            attempt += 1
            try:
                return request()
            except SSLError as err:
                raise self._error(_tls_advice(self.describe, err)) from err
            except (SerializationError, RecursionError) as err:
                # A proxy's page, a truncated body, or JSON nested deeper than any ES answer.
                raise self._error(
                    f"cannot {what}: {self.describe} answered with a body that is not readable "
                    f"JSON ({_reason(err) or type(err).__name__}); is the URL an Elasticsearch "
                    "cluster, not a proxy or another service?"
                ) from err
            except UnsupportedProductError as err:
                raise self._error(
                    f"{self.describe} did not answer as Elasticsearch does ({_reason(err)}); "
                    f"is the URL right? {SUPPORTED}"
                ) from err
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

    def _checked(self, what: str, read: Callable[[Any], T], answer: Any) -> T:
        """`read(answer)`, or one ClusterError when the answer is not of Elasticsearch's shape."""
        try:
            return read(getattr(answer, "body", answer))
        except _Malformed as err:
            raise self._error(
                f"{self.describe} answered {what} in a shape Elasticsearch does not use "
                f"({err}); is the URL an Elasticsearch cluster, not a proxy or another service?"
            ) from err

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
        if status == 403 and privilege.startswith("index:"):
            _, name, index = privilege.split(":", 2)
            return self._error(
                f"cannot {what}: the credentials lack the index privilege {name!r} on "
                f"{index!r} (403: {reason})"
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
                f"{self.describe} refuses Elasticsearch {COMPATIBLE_WITH}.x requests ({reason}), "
                f"so it is not Elasticsearch 8 or 9; {SUPPORTED}"
            )
        return self._error(f"cannot {what}: {status} {kind}: {reason}")

    def _error(self, message: str) -> ClusterError:
        return ClusterError(message, self.where)


class _Malformed(Exception):
    """An answer that is not of the shape Elasticsearch gives; the message names the field."""


def _get(answer: Any, path: str, kind: type | tuple[type, ...]) -> Any:
    """The value at dotted `path` of `answer`, which must be of `kind`."""
    value = answer
    for key in path.split("."):
        if not isinstance(value, dict):
            raise _Malformed(f"{path!r} is missing: its parent is not an object")
        if key not in value:
            raise _Malformed(f"{path!r} is missing")
        value = value[key]
    # bool is an int in Python, never in JSON: a true _seq_no is as wrong as a missing one.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise _Malformed(f"{path!r} is {_json_kind(value)}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _json_kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _live(answer: Any) -> LiveWatch:
    """A watch as get_watch answers it, or as one item of query_watches."""
    return LiveWatch(
        id=_get(answer, "_id", str),
        body=_get(answer, "watch", dict),
        active=_get(answer, "status.state.active", bool),
        seq_no=_get(answer, "_seq_no", int),
        primary_term=_get(answer, "_primary_term", int),
    )


def _listing(answer: Any) -> tuple[int, list[LiveWatch]]:
    """(count, watches) of one query_watches page."""
    count = _get(answer, "count", int)
    items = answer.get("watches", [])
    if not isinstance(items, list):
        raise _Malformed(f"'watches' is {_json_kind(items)}")
    return count, [_live(item) for item in items]


def _written(answer: Any) -> Written:
    return Written(
        _get(answer, "_seq_no", int),
        _get(answer, "_primary_term", int),
        _get(answer, "created", bool),
    )


def _bulk_failures(answer: Any) -> list[tuple[str, str]]:
    """(id, reason) of each item a bulk answer says failed."""
    items = _get(answer, "items", list)
    failed: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            raise _Malformed("an item of 'items' is not one action")
        result = next(iter(item.values()))
        if isinstance(result, dict) and "error" in result:
            error = result["error"]
            reason = error.get("reason", error) if isinstance(error, dict) else error
            failed.append((str(result.get("_id")), str(reason)))
    return failed


def _msearch_ids(answer: Any) -> list[list[str] | str]:
    found: list[list[str] | str] = []
    for response in _get(answer, "responses", list):
        if isinstance(response, dict) and "error" in response:
            error = response["error"]
            reason = error.get("reason", error) if isinstance(error, dict) else error
            kind = error.get("type", "") if isinstance(error, dict) else ""
            found.append(f"{kind}: {reason}" if kind else str(reason))
        else:
            found.append(_hit_ids(response))
    return found


def _hit_ids(answer: Any) -> list[str]:
    hits = _get(answer, "hits.hits", list)
    return [_get(hit, "_id", str) for hit in hits]


def _field_mappings(answer: Any) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """(index, {field: its mapping}) of a get-field-mapping answer."""
    if not isinstance(answer, dict):
        raise _Malformed(f"the answer is {_json_kind(answer)}")
    found = []
    for index, entry in answer.items():
        fields = _get(entry, "mappings", dict)
        mapped: dict[str, dict[str, Any]] = {}
        for name, field in fields.items():
            mapping = _get(field, "mapping", dict)
            leaf = next(iter(mapping.values()), None)
            if not isinstance(leaf, dict):
                raise _Malformed(f"the mapping of {name!r} is not an object")
            mapped[name] = leaf
        found.append((str(index), mapped))
    return found


#: Characters of field names per get-field-mapping request: ES's request line limit is 4 KB.
FIELDS_PER_URL = 2500


def _url_parts(fields: Sequence[str]) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    for name in fields:
        if current and len(",".join([*current, name])) > FIELDS_PER_URL:
            parts.append(",".join(current))
            current = []
        current.append(name)
    if current:
        parts.append(",".join(current))
    return parts


def _index_privilege(privilege: str, index: str) -> str:
    return f"index:{privilege}:{index}"


def _root(answer: Any) -> dict[str, Any]:
    _get(answer, "cluster_uuid", str)
    return dict(answer)


@dataclass(frozen=True, slots=True)
class LockState:
    """Who holds an environment's lock (``host:pid:random``, see `holder_name`) and until when."""

    holder: str
    #: seconds since the epoch.
    expires: float

    @property
    def until(self) -> str:
        """When the lock expires, for people (UTC)."""
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.expires))

    def holder_is_gone(self) -> bool:
        """True when the holder was a process of this host that no longer runs."""
        parts = self.holder.split(":")
        if len(parts) < 3 or not parts[-2].isdigit():
            return False
        host, pid = ":".join(parts[:-2]), int(parts[-2])
        if host != socket.gethostname() or pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, under another user
            return False
        return False


def _lock_state(watch: LiveWatch) -> LockState | None:
    lock = (watch.body.get("metadata") or {}).get(LOCK_KEY)
    if not isinstance(lock, dict):
        return None
    holder, expires = lock.get("holder"), lock.get("expires")
    return LockState(
        holder if isinstance(holder, str) else "",
        float(expires) if isinstance(expires, (int, float)) else 0.0,
    )


def _lock_holder(watch: LiveWatch | None) -> str:
    state = None if watch is None else _lock_state(watch)
    return "" if state is None else state.holder


def _lock_expires(watch: LiveWatch) -> float:
    state = _lock_state(watch)
    return 0.0 if state is None else state.expires


def _tls_advice(describe: str, err: Exception) -> str:
    reason = _reason(err)
    if "fingerprints did not match" in reason.lower():
        return (
            f"no TLS certificate that {describe} presents has the fingerprint "
            "ssl_assert_fingerprint names; copy the CA certificate's SHA-256 fingerprint that "
            "Elasticsearch printed at its first start"
        )
    return (
        f"cannot verify the TLS certificate of {describe} ({reason}); give the environment "
        "the cluster's CA: ca_certs (a file), ca_certs_env (a variable holding its PEM text) "
        "or ssl_assert_fingerprint (its SHA-256 fingerprint)"
    )


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


_COMPAT_MEDIA = {
    # _bulk sends NDJSON, and ES wants both headers to ask for the same major.
    f"application/{kind}": (
        f"application/vnd.elasticsearch+{kind}; compatible-with={COMPATIBLE_WITH}"
    )
    for kind in ("json", "x-ndjson")
}


def _compatible(headers: Mapping[str, str] | None) -> dict[str, str]:
    """`headers` with JSON media types asking for the COMPATIBLE_WITH REST API."""
    out = dict(headers or {})
    for name, value in out.items():
        if name.lower() in ("accept", "content-type") and value in _COMPAT_MEDIA:
            out[name] = _COMPAT_MEDIA[value]
    return out


@functools.cache
def _client_class() -> type[Elasticsearch]:
    from elasticsearch import Elasticsearch

    class Compatible(Elasticsearch):
        """The official client, every request asking for the COMPATIBLE_WITH REST API.

        Each API method passes ``accept: application/json`` (and ``content-type`` with a body),
        which the client turns into its own major's vendor type; a vendor type given here is
        left as it is. ``perform_request`` is the client's public entry for every request,
        namespaced ones (``client.watcher``) included.
        """

        def perform_request(
            self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kw: Any
        ) -> Any:
            return super().perform_request(method, path, headers=_compatible(headers), **kw)

    return Compatible


def _client(
    kwargs: dict[str, Any], parallelism: int, where: SourceLocation | None
) -> Elasticsearch:
    # Retries are ours (backoff, Retry-After); one pooled connection per worker thread.
    try:
        return _client_class()(
            **kwargs,
            max_retries=0,
            retry_on_status=(),
            retry_on_timeout=False,
            connections_per_node=max(10, parallelism + 2),
        )
    except ValueError as err:  # the client's own checks: a malformed cloud_id, say
        raise ClusterError(f"cannot connect: {err}", where) from err


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
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Cluster]:
    """A `Cluster` for `env`; a local (sandbox) environment's cluster comes from `local`.

    `environ` holds the variables the environment names for its secrets (the CLI passes the
    process environment; None: no variables).
    """
    from watchmgr.config import ElasticsearchTarget, connection_params

    target = env.target
    if isinstance(target, ElasticsearchTarget):
        params = connection_params(env, {} if environ is None else environ)
        where = target.location or SourceLocation(env.path)
        client = _client(params.client_kwargs(), parallelism, where)
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
        client = _client({"hosts": [url]}, parallelism, target.location)
        try:
            yield Cluster(client, env.name, target.location, describe, sleep=sleep)
        finally:
            client.close()


def cloud_endpoint(cloud_id: str, where: SourceLocation | None = None) -> str:
    """The HTTPS URL of an Elastic Cloud deployment's Elasticsearch, as the client derives it
    from the Cloud ID (for what runs without the client: ``render -f curl``)."""
    from elastic_transport.client_utils import parse_cloud_id

    try:
        address = parse_cloud_id(cloud_id).es_address
    except ValueError as err:
        raise ClusterError(f"malformed cloud_id: {err}", where) from err
    if address is None:
        raise ClusterError("the cloud_id names no Elasticsearch endpoint", where)
    return f"https://{address[0]}:{address[1]}"


def connect_url(
    url: str, environment: str, *, parallelism: int = 8, **client_kwargs: Any
) -> Cluster:
    """A `Cluster` for a URL (tests and benchmarks point it at a sandbox they started)."""
    client = _client({"hosts": [url], **client_kwargs}, parallelism, None)
    return Cluster(client, environment, None, url)


def ids_of(watches: Sequence[LiveWatch]) -> list[str]:
    return [w.id for w in watches]
