"""The REST layer of the sandbox: routing, protocol checks, security, licence and the handlers.

`Api.handle` turns one parsed HTTP request into a `Response`; it knows nothing about sockets
(`server.py` does). Order of checks per request, as in ES's REST layer: media-type
compatibility, routing (no handler / 405), authentication and authorization, URL parameters,
then the action (request validation -> licence -> body parsing, watcher-api.md §1.9, §8.4).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from watchmgr.sandbox import execute as ex
from watchmgr.sandbox.config import WATCHER_LICENSES, SandboxConfig, Security
from watchmgr.sandbox.errors import (
    WATCHES_INDEX_META,
    EsError,
    RawResponseError,
    document_missing,
    illegal_argument,
    parse_exception,
    validation_failed,
    watch_not_found,
)
from watchmgr.sandbox.normalize import (
    ParseContext,
    deep_merge,
    json_kind,
    parse_watch,
    render_watch,
)
from watchmgr.sandbox.query import after, compile_query, parse_sort, sort_docs
from watchmgr.sandbox.store import Conflict, Missing, Store

GLOBAL_PARAMS = frozenset({"pretty", "human", "error_trace", "filter_path", "format"})
SYSTEM_INDEX_WARNING = (
    "this request accesses system indices: [.watches], but in a future major version, direct "
    "access to system indices will be prevented by default"
)
#: The schemes every 401 offers, in ES's order.
_CHALLENGE = ('Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey")
_VENDOR = re.compile(
    r"application/vnd\.elasticsearch\+([a-z-]+)\s*;\s*compatible-with\s*=\s*(\d+)", re.IGNORECASE
)


@dataclass(slots=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: Emulate a connection reset instead of answering.
    reset: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes


Handler = Callable[["Api", Request, dict[str, str]], Response]


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    action: str  # transport action name, for 403 messages
    params: frozenset[str] = frozenset()
    write: bool = False
    monitor: bool = False  # granted by monitor_watcher


_ROUTES: list[Route] = []


def route(
    methods: str,
    path: str,
    action: str,
    params: str = "",
    *,
    write: bool = False,
    monitor: bool = False,
) -> Callable[[Handler], Handler]:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"

    def register(handler: Handler) -> Handler:
        _ROUTES.append(
            Route(
                frozenset(methods.split(",")),
                re.compile(regex),
                handler,
                action,
                frozenset(p for p in params.split(",") if p),
                write,
                monitor,
            )
        )
        # Literal path segments win over placeholders (`/_watcher/watch/_execute` is not an
        # id): fewest placeholders first, in registration order otherwise (a stable sort).
        _ROUTES.sort(key=lambda r: r.pattern.groups)
        return handler

    return register


def _bool_param(request: Request, name: str, default: bool) -> bool:
    value = request.params.get(name)
    if value is None:
        return default
    if value in ("", "true"):
        return True
    if value == "false":
        return False
    raise illegal_argument(
        f"Failed to parse value [{value}] as only [true] or [false] are allowed."
    )


def _long_param(request: Request, name: str) -> int | None:
    value = request.params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise illegal_argument(
            f"Failed to parse long parameter [{name}] with value [{value}]"
        ) from None


def _json_body(request: Request) -> Any:
    """Decode a body strictly: malformed JSON and duplicate keys are 400s (§2.9, §3.2)."""
    if not request.body.strip():
        return None
    text = request.body.decode("utf-8", errors="replace")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                at = text.find(f'"{key}"', text.find(f'"{key}"') + 1)
                line = text.count("\n", 0, at) + 1
                col = at - text.rfind("\n", 0, at)
                raise EsError(
                    400, "x_content_parse_exception", f"[{line}:{col}] Duplicate field '{key}'"
                )
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as err:
        raise EsError(
            400, "x_content_parse_exception", f"[{err.lineno}:{err.colno}] {err.msg}"
        ) from None


def _media_type_error(reason: str) -> EsError:
    # The status_exception is only a cause: ES reports the media-type exception as root cause.
    return EsError(
        400,
        "media_type_header_exception",
        "Invalid media-type value on headers [Accept, Content-Type]",
        caused_by=EsError(400, "status_exception", reason, foreign=True),
    )


def _check_id(watch_id: str) -> None:
    if not watch_id:
        raise validation_failed("watch id is missing")
    if re.search(r"\s", watch_id):
        raise validation_failed("watch id contains whitespace")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_time(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    text = str(value)
    if text.startswith("now"):
        return _now()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise parse_exception(f"could not parse date/time. unrecognized format [{text}]") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Api:
    """One emulated cluster: config, store and counters. Thread-safe."""

    def __init__(self, config: SandboxConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.license = config.license
        self.security: Security | None = config.security
        self.node_id = hashlib.sha1(config.cluster_uuid.encode()).hexdigest()[:22]
        self.http_address = "127.0.0.1:9200"
        self._build_hash = hashlib.sha1(config.es_version.encode()).hexdigest()
        self._counters = threading.Lock()

    # ------------------------------------------------------------------ entry point

    def handle(self, request: Request) -> Response:
        compat: int | None = None
        try:
            compat = self._check_media_types(request)
            found = self._route(request)
            route_, groups = found
            self._authorize(request, route_)
            self._check_params(request, route_)
            response = route_.handler(self, request, groups)
        except EsError as err:
            response = Response(
                err.status, err.to_body(), {k: v[0] for k, v in err.headers.items()}
            )
        except RawResponseError as raw:
            response = Response(raw.status, raw.body, dict(raw.headers))
        if compat is not None and response.status < 400:
            response.headers.setdefault(
                "Content-Type", f"application/vnd.elasticsearch+json;compatible-with={compat}"
            )
        return response

    def route_for(self, request: Request) -> Route | None:
        try:
            return self._route(request)[0]
        except (EsError, RawResponseError):
            return None

    # ------------------------------------------------------------------ protocol

    def _check_media_types(self, request: Request) -> int | None:
        """Compatible-with handling of §6.3: own major or one below, on both headers."""
        major = self.config.major
        accept = request.headers.get("accept", "")
        content_type = request.headers.get("content-type", "")
        has_body = bool(request.body)

        def version(header: str, value: str) -> int | None:
            match = _VENDOR.search(value)
            if match is None:
                return None
            found = int(match.group(2))
            if found not in (major, major - 1):
                raise _media_type_error(
                    f"{header} version must be either version {major} or {major - 1}, but "
                    f"found {found}. {header}={value}"
                )
            return found

        accept_v = version("Accept", accept)
        content_v = version("Content-Type", content_type) if has_body else None
        if has_body and content_type and (accept_v is None) != (content_v is None) and accept:
            raise _media_type_error(
                "A compatible version is required on both Content-Type and Accept headers if "
                "either one has requested a compatible version. "
                f"Accept={accept or None}, Content-Type={content_type or None}"
            )
        if accept_v is not None and content_v is not None and accept_v != content_v:
            raise _media_type_error(
                "A compatible version is required on both Content-Type and Accept headers if "
                "either one has requested a compatible version and the compatible versions "
                f"must match. Accept={accept}, Content-Type={content_type}"
            )
        return accept_v if accept_v is not None else content_v

    def _route(self, request: Request) -> tuple[Route, dict[str, str]]:
        allowed: set[str] = set()
        for candidate in _ROUTES:  # most specific first (see `route`)
            match = candidate.pattern.match(request.path)
            if match is None:
                continue
            if request.method in candidate.methods or (
                request.method == "HEAD" and "GET" in candidate.methods
            ):
                return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
            allowed |= candidate.methods
        if allowed:
            methods = ", ".join(sorted(allowed))
            raise RawResponseError(
                405,
                {
                    "error": f"Incorrect HTTP method for uri [{request.path}] and method "
                    f"[{request.method}], allowed: [{methods}]",
                    "status": 405,
                },
                {"Allow": ",".join(sorted(allowed))},
            )
        raise RawResponseError(
            400,
            {
                "error": f"no handler found for uri [{request.path}] and method [{request.method}]",
                "status": 400,
            },
        )

    def _check_params(self, request: Request, route_: Route) -> None:
        for name in sorted(request.params):
            if name not in GLOBAL_PARAMS and name not in route_.params:
                raise illegal_argument(
                    f"request [{request.path}] contains unrecognized parameter: [{name}]"
                )

    def _authorize(self, request: Request, route_: Route) -> None:
        security = self.security
        if security is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        privileges: frozenset[str] | None = None
        index_privileges = frozenset({"all"})
        index_names: tuple[str, ...] = ("*",)
        principal = ""
        if not header:
            raise EsError(
                401,
                "security_exception",
                f"missing authentication credentials for REST request [{request.path}]",
                headers={"WWW-Authenticate": list(_CHALLENGE)},
            )
        if scheme.lower() == "apikey":
            try:
                key_id, _, secret = base64.b64decode(credentials).decode().partition(":")
            except ValueError:
                key_id, secret = "", ""
            for key in security.api_keys:
                if key.id == key_id and key.api_key == secret:
                    privileges, index_privileges = key.privileges, key.index_privileges
                    index_names = key.index_names
                    principal = f"API key id [{key.id}] of user [{key.username}]"
        elif scheme.lower() == "bearer":
            for token in security.tokens:
                if token.value == credentials:
                    privileges = token.privileges
                    principal = f"user [{token.username}] (bearer token)"
        elif scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credentials).decode().partition(":")
            except ValueError:
                user, password = "", ""
            for candidate in security.users:
                if candidate.username == user and candidate.password == password:
                    privileges = candidate.privileges
                    principal = f"user [{user}] with effective roles [{','.join(candidate.roles)}]"
            if privileges is None:
                raise EsError(
                    401,
                    "security_exception",
                    f"unable to authenticate user [{user}] for REST request [{request.path}]",
                    headers={"WWW-Authenticate": list(_CHALLENGE)},
                )
        if privileges is None:
            raise EsError(
                401,
                "security_exception",
                "unable to authenticate with provided credentials and anonymous access is not "
                "allowed for this request",
                headers={"WWW-Authenticate": list(_CHALLENGE)},
            )
        if route_.action.startswith("indices:"):
            _authorize_index(route_.action, index_privileges, index_names, principal, request.path)
            return
        if (
            not route_.action.startswith("cluster:")
            or "all" in privileges
            or "manage" in privileges
        ):
            return
        if "manage_watcher" in privileges and "watcher" in route_.action:
            return
        if route_.monitor and ("monitor_watcher" in privileges or "monitor" in privileges):
            return
        if (
            route_.action.startswith("cluster:monitor/")
            and "monitor" in privileges
            and "watcher" not in route_.action
        ):
            return
        granted = (
            "[monitor_watcher,manage_watcher,monitor,manage,all]"
            if route_.monitor
            else "[manage_watcher,manage,all]"
        )
        raise EsError(
            403,
            "security_exception",
            f"action [{route_.action}] is unauthorized for {principal}, this action is granted "
            f"by the cluster privileges {granted}",
        )

    def require_license(self) -> None:
        if self.license not in WATCHER_LICENSES:
            raise EsError(
                403,
                "security_exception",
                "current license is non-compliant for [watcher]",
                metadata={"license.expired.feature": "watcher"},
            )

    def warning(self, text: str) -> str:
        return f'299 Elasticsearch-{self.config.es_version}-{self._build_hash} "{text}"'

    def parse_context(self, watch_id: str, update_mode: bool = False) -> ParseContext:
        tz = self.config.schedule_timezone
        return ParseContext(
            watch_id=watch_id,
            update_mode=update_mode,
            timezone_supported=self.config.major >= 9 if tz is None else tz,
            modern_indices_options=(self.config.major, self.config.minor) >= (8, 14),
        )

    # ------------------------------------------------------------------ execution environment

    def exec_env(self) -> ex.Env:
        return ex.make_env(
            self.node_id, self.search_request, self._index_for_action, self._http_input
        )

    def _index_for_action(
        self, index: str, doc_id: str | None, source: dict[str, Any]
    ) -> dict[str, Any]:
        doc_id = (
            doc_id
            or base64.urlsafe_b64encode(
                hashlib.sha1(json.dumps(source).encode() + str(time.time_ns()).encode()).digest()[
                    :15
                ]
            ).decode()
        )
        created, version = self.store.index_doc(index, doc_id, source)
        return {
            "created": created,
            "result": "created" if created else "updated",
            "id": doc_id,
            "version": version,
            "type": "_doc",
            "index": index,
        }

    def _http_input(self, request: dict[str, Any]) -> dict[str, Any]:
        host = str(request["host"])
        try:
            loopback = all(
                str(info[4][0]).startswith("127.") or str(info[4][0]) == "::1"
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            loopback = False
        if not loopback:
            raise EsError(
                500, "exception", f"the watchmgr sandbox only calls loopback hosts, not [{host}]"
            )
        path = request.get("path", "/")
        path = path if isinstance(path, str) else str(path.get("source", "/"))
        query = "&".join(f"{k}={v}" for k, v in request.get("params", {}).items())
        url = f"{request['scheme']}://{host}:{request['port']}{path}" + (
            f"?{query}" if query else ""
        )
        headers = {k: str(v) for k, v in request.get("headers", {}).items()}
        basic = request.get("auth", {}).get("basic")
        if basic:
            token = base64.b64encode(f"{basic['username']}:{basic.get('password', '')}".encode())
            headers.setdefault("Authorization", "Basic " + token.decode())
        req = urllib.request.Request(url, method=request["method"].upper(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                status, raw, resp_headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, raw, resp_headers = err.code, err.read(), err.headers
        except OSError as err:
            raise EsError(500, "connect_exception", str(err)) from None
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"_value": raw.decode(errors="replace")}
        if not isinstance(payload, dict):
            payload = {"_value": payload}
        payload["_status_code"] = status
        payload["_headers"] = {k.lower(): [v] for k, v in resp_headers.items()}
        return payload

    def search_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a watch's search request over the plain indices (lenient: missing -> 0 hits)."""
        options = request.get("indices_options") or {}
        lenient = options.get("ignore_unavailable", True)
        body = request.get("body") or {}
        return self.search_indices(
            request.get("indices") or ["*"],
            body,
            lenient=lenient,
            total_as_int=request.get("rest_total_hits_as_int", True),
        )

    def search_indices(
        self, patterns: list[str], body: dict[str, Any], *, lenient: bool, total_as_int: bool
    ) -> dict[str, Any]:
        import fnmatch

        names = self.store.index_names()
        selected: list[str] = []
        for pattern in patterns:
            for part in pattern.split(","):
                if part in ("*", "_all") or "*" in part:
                    selected += [
                        n for n in names if fnmatch.fnmatchcase(n, part if part != "_all" else "*")
                    ]
                elif part in names:
                    selected.append(part)
                elif not lenient:
                    raise EsError(
                        404,
                        "index_not_found_exception",
                        f"no such index [{part}]",
                        metadata={
                            "resource.type": "index_or_alias",
                            "resource.id": part,
                            "index_uuid": "_na_",
                            "index": part,
                        },
                    )
        from watchmgr.sandbox.mapping import IndexMapping

        spec = body.get("query", {"match_all": {}})
        compile_query(spec)  # a malformed query fails even where no index is searched
        hits: list[tuple[dict[str, Any], Any]] = []
        for name in dict.fromkeys(selected):
            # each index's fields are met as its own mappings say
            query = compile_query(spec, IndexMapping(self.store.index_mappings(name)))
            for doc_id, source in (self.store.index_docs(name) or {}).items():
                view = {"_id": doc_id, **source}
                if query(view):
                    hits.append(
                        (view, {"_index": name, "_id": doc_id, "_score": 1.0, "_source": source})
                    )
        sort = parse_sort(body.get("sort"))
        if sort:
            hits = sort_docs(hits, sort, ",".join(selected))
        start = int(body.get("from", 0))
        size = int(body.get("size", 10))
        total: Any = len(hits) if total_as_int else {"value": len(hits), "relation": "eq"}
        shards = max(1, len(set(selected)))
        return {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0},
            "hits": {
                "total": total,
                "max_score": 1.0 if hits else None,
                "hits": [h for _, h in hits[start : start + size]],
            },
        }

    def watcher_running(self) -> bool:
        return not self.store.manually_stopped


# ====================================================================== handlers


@route("GET", "/", "cluster:monitor/main")
def _root(api: Api, request: Request, groups: dict[str, str]) -> Response:
    cfg = api.config
    lucene = "10.2.2" if cfg.major >= 9 else "9.12.2"
    return Response(
        200,
        {
            "name": cfg.node_name,
            "cluster_name": cfg.cluster_name,
            "cluster_uuid": cfg.cluster_uuid,
            "version": {
                "number": cfg.es_version,
                "build_flavor": "default",
                "build_type": "tar",
                "build_hash": api._build_hash,
                "build_date": "2025-01-01T00:00:00.000Z",
                "build_snapshot": False,
                "lucene_version": lucene,
                "minimum_wire_compatibility_version": f"{cfg.major - 1}.18.0",
                "minimum_index_compatibility_version": f"{cfg.major - 1}.0.0",
            },
            "tagline": "You Know, for Search",
        },
    )


@route(
    "GET",
    "/_cluster/health",
    "cluster:monitor/health",
    "wait_for_status,timeout,master_timeout,wait_for_nodes,level,local,wait_for_active_shards,"
    "wait_for_events,wait_for_no_relocating_shards,wait_for_no_initializing_shards",
)
def _health(api: Api, request: Request, groups: dict[str, str]) -> Response:
    return Response(
        200,
        {
            "cluster_name": api.config.cluster_name,
            "status": "green",
            "timed_out": False,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "active_primary_shards": 1,
            "active_shards": 1,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": 0,
            "unassigned_primary_shards": 0,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": 100.0,
        },
    )


@route(
    "GET,PUT",
    "/_cluster/settings",
    "cluster:admin/settings/update",
    "flat_settings,master_timeout,timeout,include_defaults",
)
def _cluster_settings(api: Api, request: Request, groups: dict[str, str]) -> Response:
    current = api.store.cluster_settings
    if request.method == "GET":
        return Response(200, current)
    body = _json_body(request) or {}
    for scope in ("persistent", "transient"):
        for key, value in (body.get(scope) or {}).items():
            if value is None:
                current[scope].pop(key, None)
            else:
                current[scope][key] = value if isinstance(value, str) else json.dumps(value)
    api.store.set_cluster_settings(current)
    return Response(
        200, {"acknowledged": True, **{s: body.get(s) or {} for s in ("persistent", "transient")}}
    )


@route("GET", "/_cluster/state", "cluster:monitor/state", "local,master_timeout,flat_settings")
def _cluster_state(api: Api, request: Request, groups: dict[str, str]) -> Response:
    return Response(
        200,
        {
            "cluster_name": api.config.cluster_name,
            "cluster_uuid": api.config.cluster_uuid,
            "master_node": api.node_id,
            "metadata": {"cluster_uuid": api.config.cluster_uuid},
        },
    )


@route("GET", "/_nodes", "cluster:monitor/nodes/info", "flat_settings,timeout")
def _nodes(api: Api, request: Request, groups: dict[str, str]) -> Response:
    return Response(
        200,
        {
            "_nodes": {"total": 1, "successful": 1, "failed": 0},
            "cluster_name": api.config.cluster_name,
            "nodes": {
                api.node_id: {
                    "name": api.config.node_name,
                    "version": api.config.es_version,
                    "roles": ["master", "data"],
                    "http": {
                        "publish_address": api.http_address,
                        "bound_address": [api.http_address],
                    },
                }
            },
        },
    )


@route("GET", "/_license", "cluster:monitor/xpack/license/get", "local,accept_enterprise")
def _license(api: Api, request: Request, groups: dict[str, str]) -> Response:
    return Response(
        200,
        {
            "license": {
                "status": "active",
                "uid": api.node_id,
                "type": api.license,
                "issue_date": "2025-01-01T00:00:00.000Z",
                "issue_date_in_millis": 1735689600000,
                "max_nodes": 1000,
                "max_resource_units": None,
                "issued_to": api.config.cluster_name,
                "issuer": "elasticsearch",
                "start_date_in_millis": -1,
            }
        },
    )


@route("GET", "/_xpack/usage", "cluster:monitor/xpack/usage", "master_timeout")
def _usage(api: Api, request: Request, groups: dict[str, str]) -> Response:
    counts: dict[str, Any] = {}

    def bump(path: str) -> None:
        node = counts
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        leaf = node.setdefault(parts[-1], {})
        leaf["active"] = leaf.get("active", 0) + 1
        leaf["total"] = leaf.get("total", 0) + 1

    active = 0
    docs = api.store.docs()
    for _, doc in docs:
        src = doc.source
        if not src["status"]["state"]["active"]:
            continue
        active += 1
        bump("trigger._all")
        bump("trigger.schedule._all")
        bump(f"trigger.schedule.{next(iter(src['trigger']['schedule']))}")
        bump("trigger.schedule")
        bump("input._all")
        bump(f"input.{next(iter(src['input']))}")
        bump("condition._all")
        bump(f"condition.{next(iter(src['condition']))}")
        for action in src["actions"].values():
            bump("action._all")
            bump(f"action.{next(k for k in action if k in ex_types())}")
    watcher = {
        "available": True,
        "enabled": True,
        "execution": {"actions": {}},
        "count": {"active": active, "total": len(docs)},
        "watch": counts,
    }
    return Response(200, {"watcher": watcher})


def ex_types() -> tuple[str, ...]:
    from watchmgr.sandbox.normalize import ACTION_TYPES

    return ACTION_TYPES


# ------------------------------------------------------------------ watcher: watches


@route(
    "PUT,POST",
    "/_watcher/watch/{id}",
    "cluster:admin/xpack/watcher/watch/put",
    "active,version,if_seq_no,if_primary_term",
    write=True,
)
def _put_watch(api: Api, request: Request, groups: dict[str, str]) -> Response:
    watch_id = groups["id"]
    _check_id(watch_id)
    if_seq_no = _long_param(request, "if_seq_no")
    if_primary_term = _long_param(request, "if_primary_term")
    version = _long_param(request, "version")
    if not request.body.strip():
        raise validation_failed("request body is missing")
    if if_seq_no is not None and if_seq_no < 0:
        raise illegal_argument(f"sequence numbers must be non negative. got [{if_seq_no}].")
    if if_primary_term is not None and if_primary_term < 0:
        raise illegal_argument(f"primary term must be non negative. got [{if_primary_term}].")
    if if_seq_no is not None and not if_primary_term:
        raise validation_failed(f"ifSeqNo is set, but primary term is [{if_primary_term or 0}]")
    if if_seq_no is None and if_primary_term:
        raise validation_failed(f"ifSeqNo is unassigned, but primary term is [{if_primary_term}]")
    if version and if_seq_no is not None:
        raise validation_failed("compare and write operations can not use versioning")
    active = _bool_param(request, "active", True)
    api.require_license()
    body = _json_body(request)
    update_mode = bool(version) or if_seq_no is not None
    watch = parse_watch(body, api.parse_context(watch_id, update_mode))
    if version:
        raise validation_failed(
            "internal versioning can not be used for optimistic concurrency control. Please use "
            "`if_seq_no` and `if_primary_term` instead"
        )  # §1.1: the update request carries an internal version
    new_source = {**watch, "status": ex.fresh_status(watch, active, _now())}

    def build(current: Any) -> dict[str, Any]:
        if update_mode and current is not None:
            merged: dict[str, Any] = deep_merge(current.source, new_source)
            return merged
        return new_source

    try:
        doc, created = api.store.put(
            watch_id,
            build,
            if_seq_no=if_seq_no,
            if_primary_term=if_primary_term,
            must_exist=update_mode,
        )
    except Missing:
        raise document_missing(watch_id) from None
    except Conflict as conflict:
        current = conflict.current
        raise EsError(
            409,
            "version_conflict_engine_exception",
            f"[{watch_id}]: version conflict, required seqNo [{if_seq_no}], primary term "
            f"[{if_primary_term}]. current document has seqNo "
            f"[{current.seq_no if current else -2}] and primary term "
            f"[{current.primary_term if current else 0}]",
            metadata=dict(WATCHES_INDEX_META),
        ) from None
    return Response(
        201 if created else 200,
        {
            "_id": watch_id,
            "_version": doc.version,
            "_seq_no": doc.seq_no,
            "_primary_term": doc.primary_term,
            "created": created,
        },
    )


@route("GET", "/_watcher/watch/{id}", "cluster:monitor/xpack/watcher/watch/get", monitor=True)
def _get_watch(api: Api, request: Request, groups: dict[str, str]) -> Response:
    watch_id = groups["id"]
    _check_id(watch_id)
    api.require_license()
    doc = api.store.get(watch_id)
    if doc is None:
        raise RawResponseError(404, {"found": False, "_id": watch_id})
    status = {**doc.source["status"], "version": doc.version}  # §1.2
    return Response(
        200,
        {
            "found": True,
            "_id": watch_id,
            "_version": doc.version,
            "_seq_no": doc.seq_no,
            "_primary_term": doc.primary_term,
            "status": status,
            "watch": render_watch(doc.source),
        },
    )


@route("DELETE", "/_watcher/watch/{id}", "cluster:admin/xpack/watcher/watch/delete", write=True)
def _delete_watch(api: Api, request: Request, groups: dict[str, str]) -> Response:
    watch_id = groups["id"]
    _check_id(watch_id)  # §1.3: not licence-gated
    found, version = api.store.delete(watch_id)
    body = {"_id": watch_id, "_version": version, "found": found}
    if not found:
        raise RawResponseError(404, body)
    return Response(200, body)


def _state_change(api: Api, watch_id: str, active: bool) -> Response:
    _check_id(watch_id)
    api.require_license()
    stamp = ex.iso(_now())

    def change(doc: Any) -> dict[str, Any]:
        source = dict(doc.source)
        source["status"] = {**source["status"], "state": {"active": active, "timestamp": stamp}}
        return source

    result = api.store.update(watch_id, change)  # §1.5: always writes
    if result is None:
        raise document_missing(watch_id)
    after_doc = result[1]
    return Response(200, {"status": {**after_doc.source["status"], "version": after_doc.version}})


@route(
    "PUT,POST",
    "/_watcher/watch/{id}/_activate",
    "cluster:admin/xpack/watcher/watch/activate",
    "master_timeout",
    write=True,
)
def _activate(api: Api, request: Request, groups: dict[str, str]) -> Response:
    return _state_change(api, groups["id"], True)


@route(
    "PUT,POST",
    "/_watcher/watch/{id}/_deactivate",
    "cluster:admin/xpack/watcher/watch/activate",
    "master_timeout",
    write=True,
)
def _deactivate(api: Api, request: Request, groups: dict[str, str]) -> Response:
    return _state_change(api, groups["id"], False)


@route(
    "PUT,POST",
    "/_watcher/watch/{id}/_ack",
    "cluster:admin/xpack/watcher/watch/ack",
    "master_timeout",
    write=True,
)
@route(
    "PUT,POST",
    "/_watcher/watch/{id}/_ack/{action}",
    "cluster:admin/xpack/watcher/watch/ack",
    "master_timeout",
    write=True,
)
def _ack(api: Api, request: Request, groups: dict[str, str]) -> Response:
    watch_id = groups["id"]
    _check_id(watch_id)
    wanted = [a for a in groups.get("action", "_all").split(",") if a]
    for action_id in wanted:
        if re.search(r"\s", action_id):
            raise validation_failed("action id contains whitespace")
    api.require_license()
    stamp = ex.iso(_now())

    def change(doc: Any) -> dict[str, Any] | None:
        actions = json.loads(json.dumps(doc.source["status"].get("actions", {})))
        changed = False
        for action_id, action_status in actions.items():
            if "_all" not in wanted and action_id not in wanted:
                continue
            if action_status.get("ack", {}).get("state") == "ackable":
                action_status["ack"] = {"timestamp": stamp, "state": "acked"}
                changed = True
        if not changed:
            return None  # §1.6: nothing ackable -> no write
        return {**doc.source, "status": {**doc.source["status"], "actions": actions}}

    result = api.store.update(watch_id, change)
    if result is None:
        raise watch_not_found(watch_id)
    before, after_doc = result
    # §1.6: the new ack states, but the version read before the update
    return Response(200, {"status": {**after_doc.source["status"], "version": before.version}})


@route(
    "PUT,POST",
    "/_watcher/watch/_execute",
    "cluster:admin/xpack/watcher/watch/execute",
    "debug,ignore_condition,record_execution",
)
@route(
    "PUT,POST",
    "/_watcher/watch/{id}/_execute",
    "cluster:admin/xpack/watcher/watch/execute",
    "debug,ignore_condition,record_execution",
    write=True,
)
def _execute(api: Api, request: Request, groups: dict[str, str]) -> Response:
    watch_id = groups.get("id")
    body = _json_body(request) or {}
    if not isinstance(body, dict):
        raise parse_exception("could not parse watch execution request. expected an object")
    known = (
        "trigger_data",
        "ignore_condition",
        "record_execution",
        "alternative_input",
        "action_modes",
        "watch",
    )
    for key in body:
        if key not in known:
            hint = ""
            if key in (
                "trigger",
                "input",
                "condition",
                "actions",
                "transform",
                "metadata",
                "throttle_period",
                "throttle_period_in_millis",
            ):
                hint = f' please wrap watch including field [{key}] inside a "watch" field'
            raise parse_exception(
                f"could not parse watch execution request. unexpected {json_kind(body[key])} field "
                f"[{key}]{hint}"
            )
    debug = _bool_param(request, "debug", False)
    has_body = bool(request.body.strip())
    record = bool(body.get("record_execution", False))
    ignore = bool(body.get("ignore_condition", False))
    if has_body:
        record = _bool_param(request, "record_execution", record)
        ignore = _bool_param(request, "ignore_condition", ignore)
    inline = body.get("watch")
    if watch_id is None and inline is None:
        raise validation_failed(
            "a watch execution request must either have a watch id or an inline watch source, "
            "but both are missing"
        )
    if watch_id is not None and inline is not None:
        raise validation_failed(
            "a watch execution request must either have a watch id or an inline watch source "
            "but not both"
        )
    if watch_id is not None:
        _check_id(watch_id)
    if inline is not None and record:
        raise validation_failed("the execution of an inline watch cannot be recorded")
    modes = body.get("action_modes") or {}
    for action_id, mode in modes.items():
        if re.search(r"\s", action_id):
            raise validation_failed("action id contains whitespace")
        if mode not in ("simulate", "force_simulate", "execute", "force_execute", "skip"):
            raise illegal_argument(f"unknown action execution mode [{mode}]")
    api.require_license()
    trigger = body.get("trigger_data") or {}
    now = _now()
    triggered = _parse_time(trigger["triggered_time"]) if "triggered_time" in trigger else now
    scheduled = _parse_time(trigger["scheduled_time"]) if "scheduled_time" in trigger else triggered
    alt = body.get("alternative_input")
    options = ex.ExecuteOptions(
        trigger_time=triggered,
        scheduled_time=scheduled,
        alternative_input=alt if isinstance(alt, dict) else None,
        ignore_condition=ignore,
        record_execution=record,
        action_modes=modes,
        debug=debug,
    )
    if inline is not None:
        watch = parse_watch(inline, api.parse_context("_inlined_"))
        status = ex.fresh_status(watch, True, now)
        response, _ = ex.execute("_inlined_", watch, status, options, api.exec_env(), now)
        return Response(200, response)
    assert watch_id is not None
    doc = api.store.get(watch_id)
    if doc is None:
        raise watch_not_found(watch_id)
    source = {k: v for k, v in doc.source.items() if k != "status"}
    status = {**doc.source["status"], "version": doc.version}
    response, new_status = ex.execute(watch_id, source, status, options, api.exec_env(), now)
    if record:

        def change(current: Any) -> dict[str, Any]:
            return {**current.source, "status": new_status}

        result = api.store.update(watch_id, change)  # §5: record_execution writes the status
        if result is not None:
            response["watch_record"]["status"] = {**new_status, "version": result[1].version}
    return Response(200, response)


@route(
    "GET,POST",
    "/_watcher/_query/watches",
    "cluster:monitor/xpack/watcher/watch/query",
    monitor=True,
)
def _query_watches(api: Api, request: Request, groups: dict[str, str]) -> Response:
    api.require_license()
    body = _json_body(request) or {}
    if not isinstance(body, dict):
        raise parse_exception("request body must be an object")
    start = body.get("from", 0)
    size = body.get("size", 10)
    if not isinstance(start, int) or start < 0:
        raise illegal_argument("[from] parameter cannot be negative")
    if not isinstance(size, int) or size < 0:
        raise illegal_argument("[size] parameter cannot be negative")
    sort_spec = body.get("sort")
    if isinstance(sort_spec, list) and any(isinstance(s, str) for s in sort_spec):
        raise parse_exception("[query_watches] failed to parse field [sort]")  # §1.4
    sort = parse_sort(sort_spec)
    search_after = body.get("search_after")
    if search_after is not None:
        if not sort:
            raise illegal_argument("Sort must contain at least one field.")
        if len(search_after) != len(sort):
            raise illegal_argument(
                f"search_after has {len(search_after)} value(s) but sort has {len(sort)}."
            )
        if start:
            raise illegal_argument("`from` parameter must be set to 0 when `search_after` is used.")
    if start + size > 10_000:
        raise EsError(
            400,
            "search_phase_execution_exception",
            "all shards failed",
            metadata={"phase": "query", "grouped": True, "failed_shards": []},
            caused_by=illegal_argument(
                f"Result window is too large, from + size must be less than or equal to: "
                f"[10000] but was [{start + size}]. See the scroll api for a more efficient way "
                "to request large data sets. This limit can be set by changing the "
                "[index.max_result_window] index level setting."
            ),
        )
    query = compile_query(body["query"]) if body.get("query") is not None else None
    matched = []
    for watch_id, doc in api.store.docs():
        view = {"_id": watch_id, "metadata": doc.source.get("metadata", {})}  # §1.4
        if query is None or query(view):
            matched.append((view, (watch_id, doc)))
    if sort:
        matched = sort_docs(matched, sort, ".watches")
    count = len(matched)  # total hits ignore search_after
    if search_after is not None:
        matched = [m for m in matched if after(m[0], sort, search_after)]
    page = matched[start : start + size]
    watches = [
        {
            "_id": wid,
            "watch": render_watch(doc.source),
            "status": doc.source["status"],
            "_seq_no": doc.seq_no,
            "_primary_term": doc.primary_term,
        }
        for _, (wid, doc) in page
    ]
    return Response(200, {"count": count, "watches": watches})


# ------------------------------------------------------------------ watcher: service


@route(
    "GET",
    "/_watcher/stats",
    "cluster:monitor/xpack/watcher/stats/dist",
    "emit_stacktraces,metric",
    monitor=True,
)
@route(
    "GET",
    "/_watcher/stats/{metric}",
    "cluster:monitor/xpack/watcher/stats/dist",
    "emit_stacktraces",
    monitor=True,
)
def _stats(api: Api, request: Request, groups: dict[str, str]) -> Response:
    metrics = set((groups.get("metric") or request.params.get("metric") or "").split(",")) - {""}
    headers: dict[str, str] = {}
    for metric in metrics:
        if metric not in ("_all", "all", "current_watches", "queued_watches", "pending_watches"):
            raise illegal_argument(
                f"request [{request.path}] contains unrecognized metric: [{metric}]"
            )
    if "pending_watches" in metrics:
        headers["Warning"] = api.warning(
            "The pending_watches parameter is deprecated, use queued_watches instead"
        )
        metrics = (metrics - {"pending_watches"}) | {"queued_watches"}
    everything = bool(metrics & {"_all", "all"})
    running = api.watcher_running()
    active = sum(1 for _, d in api.store.docs() if d.source["status"]["state"]["active"])
    node: dict[str, Any] = {
        "node_id": api.node_id,
        "watcher_state": "started" if running else "stopped",
        "watch_count": active if running else 0,
        "execution_thread_pool": {"queue_size": 0, "max_size": 10},
    }
    if everything or "current_watches" in metrics:
        node["current_watches"] = []
    if everything or "queued_watches" in metrics:
        node["queued_watches"] = []
    return Response(
        200,
        {
            "_nodes": {"total": 1, "successful": 1, "failed": 0},
            "cluster_name": api.config.cluster_name,
            "manually_stopped": api.store.manually_stopped,
            "stats": [node],
        },
        headers,
    )


@route("POST", "/_watcher/_start", "cluster:admin/xpack/watcher/service", "master_timeout")
def _start(api: Api, request: Request, groups: dict[str, str]) -> Response:
    api.store.set_manually_stopped(False)
    return Response(200, {"acknowledged": True})


@route("POST", "/_watcher/_stop", "cluster:admin/xpack/watcher/service", "master_timeout")
def _stop(api: Api, request: Request, groups: dict[str, str]) -> Response:
    api.store.set_manually_stopped(True)
    return Response(200, {"acknowledged": True})


_ALLOWED_SETTINGS = ("index.number_of_replicas", "index.auto_expand_replicas")
_ALLOWED_PREFIXES = (
    "index.routing.allocation.exclude",
    "index.routing.allocation.include",
    "index.routing.allocation.require",
)
_DENIED_SETTINGS = ("index.routing.allocation.include._tier_preference",)


def _flatten_settings(value: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in (value or {}).items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            out.update(_flatten_settings(item, name + "."))
        else:
            out[name] = item
    return out


def _nest(flat: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@route(
    "GET,PUT",
    "/_watcher/settings",
    "cluster:admin/xpack/watcher/settings/update",
    "master_timeout,timeout",
)
def _settings(api: Api, request: Request, groups: dict[str, str]) -> Response:
    if request.method == "GET":
        return Response(200, _nest(api.store.watcher_settings))
    changes = _flatten_settings(_json_body(request))
    forbidden = sorted(
        name
        for name in changes
        if (
            name not in _ALLOWED_SETTINGS
            and not any(name.startswith(p + ".") for p in _ALLOWED_PREFIXES)
        )
        or name in _DENIED_SETTINGS
    )
    if forbidden:
        raise validation_failed(
            f"illegal settings: [{', '.join(forbidden)}], these settings may not be configured. "
            f"Only the following settings may be configured: [{', '.join(_ALLOWED_SETTINGS)}], "
            f"[{', '.join(p + '.*' for p in _ALLOWED_PREFIXES)}] excluding the following "
            f"explicitly denied settings: [{', '.join(_DENIED_SETTINGS)}]"
        )
    settings = api.store.watcher_settings
    for name, value in changes.items():
        if value is None:
            settings.pop(name, None)
            default = {"index.number_of_replicas": "0", "index.auto_expand_replicas": "0-1"}
            if name in default and name == "index.number_of_replicas":
                settings[name] = default[name]
        else:
            settings[name] = value if isinstance(value, str) else json.dumps(value)
    if "index.number_of_replicas" not in settings:
        settings["index.number_of_replicas"] = "0"
    api.store.set_watcher_settings(settings)
    return Response(200, {"acknowledged": True})


# ------------------------------------------------------------------ plain indices (tests only)


@route(
    "GET,POST",
    "/{index}/_search",
    "indices:data/read/search",
    "rest_total_hits_as_int,ignore_unavailable,allow_no_indices,expand_wildcards,size,from,q,"
    "track_total_hits,typed_keys,seq_no_primary_term,version",
)
def _search(api: Api, request: Request, groups: dict[str, str]) -> Response:
    body = _json_body(request) or {}
    as_int = _bool_param(request, "rest_total_hits_as_int", False)
    index = groups["index"]
    if index == ".watches":
        query = compile_query(body.get("query", {"match_all": {}}))
        hits = [
            {"_index": ".watches", "_id": wid, "_score": 1.0, "_source": doc.source}
            for wid, doc in api.store.docs()
            if query({"_id": wid, **doc.source})
        ]
        total: Any = len(hits) if as_int else {"value": len(hits), "relation": "eq"}
        return Response(
            200,
            {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": total, "max_score": 1.0 if hits else None, "hits": hits},
            },
            {"Warning": api.warning(SYSTEM_INDEX_WARNING)},
        )
    lenient = _bool_param(request, "ignore_unavailable", False)
    return Response(200, api.search_indices([index], body, lenient=lenient, total_as_int=as_int))


@route(
    "PUT,POST",
    "/{index}/_doc/{id}",
    "indices:data/write/index",
    "refresh,op_type,routing,timeout",
    write=True,
)
@route("POST", "/{index}/_doc", "indices:data/write/index", "refresh,routing,timeout", write=True)
def _index(api: Api, request: Request, groups: dict[str, str]) -> Response:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise parse_exception("request body is required")
    doc_id = (
        groups.get("id")
        or hashlib.sha1(request.body + str(time.time_ns()).encode()).hexdigest()[:20]
    )
    created, _ = api.store.index_doc(groups["index"], doc_id, body)
    return Response(
        201 if created else 200,
        {
            "_index": groups["index"],
            "_id": doc_id,
            "_version": 1,
            "result": "created" if created else "updated",
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": 0,
            "_primary_term": 1,
        },
    )


@route("GET", "/{index}/_doc/{id}", "indices:data/read/get", "realtime,refresh,routing")
def _get_doc(api: Api, request: Request, groups: dict[str, str]) -> Response:
    docs = api.store.index_docs(groups["index"])
    if docs is None:
        raise EsError(
            404,
            "index_not_found_exception",
            f"no such index [{groups['index']}]",
            metadata={"index": groups["index"]},
        )
    if groups["id"] not in docs:
        raise RawResponseError(
            404, {"_index": groups["index"], "_id": groups["id"], "found": False}
        )
    return Response(
        200,
        {
            "_index": groups["index"],
            "_id": groups["id"],
            "_version": 1,
            "_seq_no": 0,
            "_primary_term": 1,
            "found": True,
            "_source": docs[groups["id"]],
        },
    )


@route("PUT", "/{index}", "indices:admin/create", "wait_for_active_shards,timeout,master_timeout")
def _create_index(api: Api, request: Request, groups: dict[str, str]) -> Response:
    index = groups["index"]
    if index.startswith("_"):
        raise RawResponseError(
            400,
            {"error": f"no handler found for uri [{request.path}] and method [PUT]", "status": 400},
        )
    body = _json_body(request) or {}
    mappings = body.get("mappings") if isinstance(body, dict) else None
    if mappings is not None and not isinstance(mappings, dict):
        raise parse_exception("Failed to parse mapping: mappings must be an object")
    if mappings is not None:
        from watchmgr.sandbox.mapping import MalformedMapping, check_mapping

        try:
            check_mapping(mappings)
        except MalformedMapping as err:
            raise EsError(
                400,
                "mapper_parsing_exception",
                f"Failed to parse mapping: {err.reason}",
                caused_by=EsError(400, err.type, err.reason),
            ) from err
    if not api.store.create_index(index, mappings):
        raise EsError(
            400,
            "resource_already_exists_exception",
            f"index [{index}/_na_] already exists",
            metadata={"index": index},
        )
    return Response(200, {"acknowledged": True, "shards_acknowledged": True, "index": index})


# ------------------------------------------------------------------ index admin, bulk, mappings


def _index_not_found(index: str) -> EsError:
    return EsError(
        404,
        "index_not_found_exception",
        f"no such index [{index}]",
        metadata={
            "resource.type": "index_or_alias",
            "resource.id": index,
            "index_uuid": "_na_",
            "index": index,
        },
    )


def _resolve_indices(api: Api, expression: str, *, lenient: bool) -> list[str]:
    """The indices an expression names (comma list, wildcards, ``_all``), in name order."""
    import fnmatch

    names = api.store.index_names()
    selected: dict[str, None] = {}
    for part in expression.split(","):
        if part in ("_all", "*") or "*" in part:
            pattern = "*" if part == "_all" else part
            selected.update((n, None) for n in names if fnmatch.fnmatchcase(n, pattern))
        elif part in names:
            selected[part] = None
        elif not lenient:
            raise _index_not_found(part)
    return sorted(selected)


@route("DELETE", "/{index}", "indices:admin/delete", "timeout,master_timeout,ignore_unavailable")
def _delete_index(api: Api, request: Request, groups: dict[str, str]) -> Response:
    index = groups["index"]
    if index.startswith("_") or "*" in index:
        raise illegal_argument(f"deleting [{index}] needs the concrete index name")
    if not api.store.delete_index(index):
        raise _index_not_found(index)
    return Response(200, {"acknowledged": True})


_BULK_PARAMS = "refresh,routing,timeout,wait_for_active_shards,pipeline,require_alias"


@route("POST,PUT", "/_bulk", "indices:data/write/bulk", _BULK_PARAMS, write=True)
@route("POST,PUT", "/{index}/_bulk", "indices:data/write/bulk", _BULK_PARAMS, write=True)
def _bulk(api: Api, request: Request, groups: dict[str, str]) -> Response:
    """``_bulk`` with ``index``, ``create`` and ``delete`` actions (NDJSON, one item each)."""
    if not request.body.endswith(b"\n"):
        raise illegal_argument("The bulk request must be terminated by a newline [\\n]")
    lines = [line for line in request.body.split(b"\n") if line.strip()]
    items: list[dict[str, Any]] = []
    at = 0
    while at < len(lines):
        action, meta = _bulk_action(lines[at], at + 1)
        index = meta.get("_index") or groups.get("index")
        if not index:
            raise validation_failed("index is missing")
        doc_id = str(meta.get("_id") or hashlib.sha1(lines[at] + str(at).encode()).hexdigest()[:20])
        if action == "delete":
            items.append({action: _bulk_delete(api, index, doc_id)})
            at += 1
            continue
        if at + 1 >= len(lines):
            raise illegal_argument(
                f"The bulk request has an action without a source at line [{at + 1}]"
            )
        source = _bulk_line(lines[at + 1], at + 2)
        items.append({action: _bulk_write(api, action, index, doc_id, source)})
        at += 2
    errors = any("error" in next(iter(item.values())) for item in items)
    return Response(200, {"errors": errors, "took": 1, "items": items})


def _bulk_line(line: bytes, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise illegal_argument(f"Malformed action/metadata line [{number}], expected START_OBJECT")
    return value


def _bulk_action(line: bytes, number: int) -> tuple[str, dict[str, Any]]:
    value = _bulk_line(line, number)
    if len(value) != 1 or next(iter(value)) not in ("index", "create", "delete"):
        found = next(iter(value), "")
        raise illegal_argument(
            f"Malformed action/metadata line [{number}], expected one of [create, delete, "
            f"index] but found [{found}]"
        )
    action, meta = next(iter(value.items()))
    if not isinstance(meta, dict):
        raise illegal_argument(f"Malformed action/metadata line [{number}], expected START_OBJECT")
    return action, meta


def _bulk_item(index: str, doc_id: str, result: str, status: int) -> dict[str, Any]:
    return {
        "_index": index,
        "_id": doc_id,
        "_version": 1,
        "result": result,
        "_shards": {"total": 1, "successful": 1, "failed": 0},
        "_seq_no": 0,
        "_primary_term": 1,
        "status": status,
    }


def _bulk_write(
    api: Api, action: str, index: str, doc_id: str, source: dict[str, Any]
) -> dict[str, Any]:
    existing = api.store.index_docs(index) or {}
    if action == "create" and doc_id in existing:
        reason = f"[{doc_id}]: version conflict, document already exists (current version [1])"
        error = EsError(409, "version_conflict_engine_exception", reason)
        return {"_index": index, "_id": doc_id, "status": 409, "error": error.to_body()["error"]}
    created, _ = api.store.index_doc(index, doc_id, source)
    return _bulk_item(index, doc_id, "created" if created else "updated", 201 if created else 200)


def _bulk_delete(api: Api, index: str, doc_id: str) -> dict[str, Any]:
    docs = api.store.index_docs(index) or {}
    if doc_id not in docs:
        return _bulk_item(index, doc_id, "not_found", 404)
    api.store.delete_doc(index, doc_id)
    return _bulk_item(index, doc_id, "deleted", 200)


_FIELD_MAPPING_PARAMS = (
    "ignore_unavailable,allow_no_indices,expand_wildcards,include_defaults,local"
)


@route(
    "GET", "/_mapping/field/{fields}", "indices:admin/mappings/fields/get", _FIELD_MAPPING_PARAMS
)
@route(
    "GET",
    "/{index}/_mapping/field/{fields}",
    "indices:admin/mappings/fields/get",
    _FIELD_MAPPING_PARAMS,
)
def _field_mapping(api: Api, request: Request, groups: dict[str, str]) -> Response:
    """The mapping of the named fields in each index: as created, then dynamic mapping."""
    from watchmgr.sandbox.mapping import field_mapping_answer, leaf_fields

    lenient = _bool_param(request, "ignore_unavailable", False)
    names = _resolve_indices(api, groups.get("index", "_all"), lenient=lenient)
    patterns = groups["fields"].split(",")
    answer: dict[str, Any] = {}
    for name in names:
        docs = (api.store.index_docs(name) or {}).values()
        fields = leaf_fields(api.store.index_mappings(name), docs)
        answer[name] = {"mappings": field_mapping_answer(fields, patterns)}
    return Response(200, answer)


_MSEARCH_PARAMS = (
    "max_concurrent_searches,rest_total_hits_as_int,typed_keys,ignore_unavailable,"
    "allow_no_indices,expand_wildcards"
)


@route("GET,POST", "/_msearch", "indices:data/read/msearch", _MSEARCH_PARAMS)
@route("GET,POST", "/{index}/_msearch", "indices:data/read/msearch", _MSEARCH_PARAMS)
def _msearch(api: Api, request: Request, groups: dict[str, str]) -> Response:
    """``_msearch``: header and body lines in pairs; each search answers or fails alone."""
    as_int = _bool_param(request, "rest_total_hits_as_int", False)
    lines = [line for line in request.body.split(b"\n") if line.strip()]
    if not lines or len(lines) % 2:
        raise validation_failed("no requests added")
    responses: list[dict[str, Any]] = []
    for at in range(0, len(lines), 2):
        header, body = _bulk_line(lines[at], at + 1), _bulk_line(lines[at + 1], at + 2)
        target = header.get("index") or groups.get("index") or "_all"
        patterns = target if isinstance(target, list) else [str(target)]
        lenient = bool(header.get("ignore_unavailable", False))
        try:
            found = api.search_indices(patterns, body, lenient=lenient, total_as_int=as_int)
            responses.append({**found, "status": 200})
        except EsError as err:
            responses.append(err.to_body())
    return Response(200, {"took": 1, "responses": responses})


#: The index privileges that grant an index action: the first entry whose prefix it has.
_INDEX_GRANTS = (
    ("indices:admin/mappings/fields/get", ("view_index_metadata", "manage", "all")),
    ("indices:admin/create", ("create_index", "manage", "all")),
    ("indices:admin/delete", ("delete_index", "manage", "all")),
    ("indices:data/read/", ("read", "all")),
    ("indices:data/write/", ("write", "index", "all")),
)


def _authorize_index(
    action: str, held: frozenset[str], names: tuple[str, ...], principal: str, path: str
) -> None:
    """Refuse an index action that none of the caller's index privileges grants on the indices
    the path names, as ES does."""
    granted = next((g for prefix, g in _INDEX_GRANTS if action.startswith(prefix)), ("all",))
    index = path.strip("/").split("/")[0]
    expression = "*" if index.startswith("_") else index  # /_mapping/...: every index
    covered = all(
        any(fnmatch.fnmatchcase(part, name) for name in names) for part in expression.split(",")
    )
    if covered and held & set(granted):
        return
    raise EsError(
        403,
        "security_exception",
        f"action [{action}] is unauthorized for {principal} on indices [{index}], this action "
        f"is granted by the index privileges [{','.join(granted)}]",
    )
