"""A small runner for Elasticsearch's YAML REST test DSL, driving the real Python client.

Supported: `setup`/`teardown`, `do` (with `catch`, `ignore`, `warnings`, `allowed_warnings`,
`headers`), `match` (values, `/regex/`, nested maps), `set`, `$var` / `${var}` stashing,
`is_true`, `is_false`, `length`, `gt`/`gte`/`lt`/`lte`, `skip` (`features`, `version`) and
`requires` (`test_runner_features`). Requests go through `client.perform_request`, so the
client's compatibility headers and product check are exercised; the API table below maps the
YAML API names to routes as the rest-api-spec does.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_FEATURES = frozenset(
    {
        "warnings",
        "allowed_warnings",
        "regex",
        "stash_in_path",
        "stash_in_key",
        "headers",
        "contains",
    }
)

# api name -> (method, [path templates, most specific first])
APIS: dict[str, tuple[str, list[str]]] = {
    "watcher.put_watch": ("PUT", ["/_watcher/watch/{id}"]),
    "watcher.get_watch": ("GET", ["/_watcher/watch/{id}"]),
    "watcher.delete_watch": ("DELETE", ["/_watcher/watch/{id}"]),
    "watcher.execute_watch": ("PUT", ["/_watcher/watch/{id}/_execute", "/_watcher/watch/_execute"]),
    "watcher.activate_watch": ("PUT", ["/_watcher/watch/{watch_id}/_activate"]),
    "watcher.deactivate_watch": ("PUT", ["/_watcher/watch/{watch_id}/_deactivate"]),
    "watcher.ack_watch": (
        "PUT",
        ["/_watcher/watch/{watch_id}/_ack/{action_id}", "/_watcher/watch/{watch_id}/_ack"],
    ),
    "watcher.query_watches": ("POST", ["/_watcher/_query/watches"]),
    "watcher.stats": ("GET", ["/_watcher/stats/{metric}", "/_watcher/stats"]),
    "watcher.start": ("POST", ["/_watcher/_start"]),
    "watcher.stop": ("POST", ["/_watcher/_stop"]),
    "watcher.get_settings": ("GET", ["/_watcher/settings"]),
    "watcher.update_settings": ("PUT", ["/_watcher/settings"]),
    "cluster.health": ("GET", ["/_cluster/health"]),
    "cluster.put_settings": ("PUT", ["/_cluster/settings"]),
    "cluster.state": ("GET", ["/_cluster/state"]),
    "nodes.info": ("GET", ["/_nodes"]),
    "search": ("POST", ["/{index}/_search", "/_search"]),
    "index": ("PUT", ["/{index}/_doc/{id}", "/{index}/_doc"]),
    "get": ("GET", ["/{index}/_doc/{id}"]),
    "indices.create": ("PUT", ["/{index}"]),
    "xpack.usage": ("GET", ["/_xpack/usage"]),
}

CATCHES = {
    "missing": 404,
    "bad_request": 400,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "request_timeout": 408,
}


class YamlTestFailure(AssertionError):
    pass


class Skipped(Exception):
    pass


@dataclass(frozen=True, slots=True)
class YamlTest:
    file: str  # relative to the suite root, e.g. watcher/put_watch/10_basic.yml
    name: str
    steps: list[Any]
    setup: list[Any]
    teardown: list[Any]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def load_suite(root: Path) -> list[YamlTest]:
    tests: list[YamlTest] = []
    for path in sorted(root.rglob("*.yml")):
        documents = [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]
        setup: list[Any] = []
        teardown: list[Any] = []
        bodies: list[tuple[str, list[Any]]] = []
        for doc in documents:
            for name, steps in doc.items():
                if name == "setup":
                    setup = steps
                elif name == "teardown":
                    teardown = steps
                else:
                    bodies.append((name, steps))
        rel = path.relative_to(root).as_posix()
        tests += [YamlTest(rel, name, steps, setup, teardown) for name, steps in bodies]
    return tests


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


class Runner:
    """Runs one YamlTest against a client; `es_version` drives `skip: version`."""

    def __init__(self, client: Any, es_version: str) -> None:
        self.client = client
        self.es_version = _version_tuple(es_version)
        self.stash: dict[str, Any] = {}
        self.last: Any = None

    # ---------------------------------------------------------------- running

    def run(self, test: YamlTest) -> None:
        self._check_skip(test.setup)
        self._check_skip(test.steps)
        try:
            self._steps(test.setup)
            self._steps(test.steps)
        finally:
            self._steps(test.teardown)

    def _check_skip(self, steps: list[Any]) -> None:
        for step in steps:
            if not isinstance(step, dict):
                continue
            for key in ("skip", "requires"):
                spec = step.get(key)
                if not spec:
                    continue
                features = spec.get("features") or spec.get("test_runner_features") or []
                features = [features] if isinstance(features, str) else features
                missing = [f for f in features if f not in SUPPORTED_FEATURES]
                if key == "requires" and missing:
                    raise Skipped(f"runner lacks features {missing}")
                if key == "skip" and missing:
                    raise Skipped(f"runner lacks features {missing}")
                version = spec.get("version") if key == "skip" else None
                if version and self._in_range(str(version)):
                    raise Skipped(f"skipped for version {version}: {spec.get('reason')}")

    def _in_range(self, ranges: str) -> bool:
        for part in ranges.split(","):
            low, _, high = part.strip().partition("-")
            lo = _version_tuple(low) if low.strip() else (0,)
            hi = _version_tuple(high) if high.strip() else (999,)
            if lo <= self.es_version <= hi:
                return True
        return False

    def _steps(self, steps: list[Any]) -> None:
        for step in steps:
            ((kind, spec),) = step.items()
            handler: Callable[[Any], None] | None = getattr(self, f"_do_{kind}", None)
            if kind in ("skip", "requires"):
                continue
            if handler is None:
                raise YamlTestFailure(f"unsupported step [{kind}]")
            handler(spec)

    # ---------------------------------------------------------------- stash

    def _sub(self, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("$") and value[1:] in self.stash:
                return self.stash[value[1:]]
            return re.sub(r"\$\{(\w+)\}", lambda m: str(self.stash[m.group(1)]), value)
        if isinstance(value, dict):
            return {self._sub(k): self._sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._sub(v) for v in value]
        return value

    def _path(self, path: str) -> Any:
        if path == "$body":
            return self.last
        current = self.last
        parts = re.split(r"(?<!\\)\.", path)
        for raw in parts:
            part = raw.replace("\\.", ".")
            if part.startswith("$") and part[1:] in self.stash:
                part = str(self.stash[part[1:]])
            if isinstance(current, list) and part.isdigit():
                index = int(part)
                current = current[index] if index < len(current) else None
            elif isinstance(current, dict):
                current = current.get(part)
            else:
                return None
        return current

    # ---------------------------------------------------------------- steps

    def _do_do(self, spec: dict[str, Any]) -> None:
        spec = dict(spec)
        catch = spec.pop("catch", None)
        expected_warnings = spec.pop("warnings", []) or []
        allowed = set(spec.pop("allowed_warnings", []) or [])
        headers = dict(spec.pop("headers", {}) or {})
        spec.pop("node_selector", None)
        ((api, params),) = spec.items()
        params = dict(self._sub(params or {}))
        ignore = params.pop("ignore", None)
        ignore = {ignore} if isinstance(ignore, int) else set(ignore or [])
        body = params.pop("body", None)
        method, path = self._resolve(api, params)
        query = {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in params.items()}
        request_headers = {"accept": "application/json", **headers}
        if body is not None:
            request_headers.setdefault("content-type", "application/json")
            if isinstance(body, str):
                body = self._sub(body)
        from elasticsearch import ApiError

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                response = self.client.perform_request(
                    method, path, params=query, headers=request_headers, body=body
                )
                status, self.last = response.meta.status, response.body
            except ApiError as err:
                status, self.last = err.meta.status, err.body
        seen = [
            str(w.message) for w in caught if type(w.message).__name__ == "ElasticsearchWarning"
        ]
        for text in expected_warnings:
            if text not in seen:
                raise YamlTestFailure(f"{api}: expected warning {text!r}, got {seen}")
        unexpected = [w for w in seen if w not in expected_warnings and w not in allowed]
        if unexpected:
            raise YamlTestFailure(f"{api}: unexpected warnings {unexpected}")
        if catch is not None:
            self._check_catch(api, catch, status)
        elif status >= 400 and status not in ignore:
            raise YamlTestFailure(f"{api} answered {status}: {self.last}")

    def _check_catch(self, api: str, catch: str, status: int) -> None:
        if catch in CATCHES:
            if status != CATCHES[catch]:
                raise YamlTestFailure(
                    f"{api}: expected {catch} ({CATCHES[catch]}), got {status}: {self.last}"
                )
        elif catch == "request":
            if status < 400:
                raise YamlTestFailure(f"{api}: expected an error, got {status}")
        elif catch.startswith("/"):
            if status < 400 or not re.search(catch.strip("/"), json.dumps(self.last)):
                raise YamlTestFailure(f"{api}: expected error matching {catch}, got {self.last}")
        else:
            raise YamlTestFailure(f"unsupported catch [{catch}]")

    def _resolve(self, api: str, params: dict[str, Any]) -> tuple[str, str]:
        if api not in APIS:
            raise YamlTestFailure(f"unknown api [{api}]")
        method, templates = APIS[api]
        for template in templates:
            names = re.findall(r"\{(\w+)\}", template)
            if all(n in params for n in names):
                path = template
                for n in names:
                    value = params.pop(n)
                    value = ",".join(value) if isinstance(value, list) else str(value)
                    path = path.replace("{" + n + "}", value)
                if api == "index" and "{id}" in template and "id" not in names:
                    method = "POST"
                if api == "index" and template == "/{index}/_doc":
                    method = "POST"
                return method, path
        raise YamlTestFailure(f"{api}: missing path parameters in {params}")

    def _do_set(self, spec: dict[str, str]) -> None:
        for path, name in spec.items():
            self.stash[name] = self._path(path)

    def _do_match(self, spec: dict[str, Any]) -> None:
        for path, expected in spec.items():
            actual = self._path(path)
            if not _matches(self._sub(expected), actual):
                raise YamlTestFailure(f"match {path}: expected {expected!r}, got {actual!r}")

    def _do_is_true(self, path: str) -> None:
        value = self._path(path)
        if value is None or str(value).lower() in ("", "false", "0") or value is False:
            raise YamlTestFailure(f"is_true {path}: got {value!r}")

    def _do_is_false(self, path: str) -> None:
        value = self._path(path)
        if not (value is None or value is False or value == "" or value == 0 or value == "false"):
            raise YamlTestFailure(f"is_false {path}: got {value!r}")

    def _do_length(self, spec: dict[str, int]) -> None:
        for path, expected in spec.items():
            value = self._path(path)
            if value is None or len(value) != expected:
                raise YamlTestFailure(f"length {path}: expected {expected}, got {value!r}")

    def _compare(self, spec: dict[str, Any], op: Callable[[Any, Any], bool], name: str) -> None:
        for path, expected in spec.items():
            value = self._path(path)
            if value is None or not op(value, self._sub(expected)):
                raise YamlTestFailure(f"{name} {path}: {value!r} vs {expected!r}")

    def _do_gt(self, spec: dict[str, Any]) -> None:
        self._compare(spec, lambda a, b: a > b, "gt")

    def _do_gte(self, spec: dict[str, Any]) -> None:
        self._compare(spec, lambda a, b: a >= b, "gte")

    def _do_lt(self, spec: dict[str, Any]) -> None:
        self._compare(spec, lambda a, b: a < b, "lt")

    def _do_lte(self, spec: dict[str, Any]) -> None:
        self._compare(spec, lambda a, b: a <= b, "lte")


def _matches(expected: Any, actual: Any) -> bool:
    if (
        isinstance(expected, str)
        and len(expected) > 1
        and expected.strip().startswith("/")
        and expected.strip().endswith("/")
    ):
        pattern = expected.strip()[1:-1]
        # Multi-line YAML regexes are written in "comments" (verbose) mode.
        flags = re.VERBOSE if "\n" in pattern else 0
        return (
            isinstance(actual, str | int | float)
            and re.search(pattern, str(actual), flags) is not None
        )
    if isinstance(expected, dict):
        # Keys not named in the expectation are ignored (the error envelopes carry more).
        return isinstance(actual, dict) and all(
            _matches(v, actual.get(k)) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if (
        isinstance(expected, int | float)
        and isinstance(actual, int | float)
        and not isinstance(expected, bool)
    ):
        return bool(float(expected) == float(actual))
    return bool(expected == actual)
