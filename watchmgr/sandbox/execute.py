"""An emulation of one watch execution (`_execute`, watcher-api.md §1.7, §1.6 ack states).

What is emulated: `none`/`simple`/`search`/`http` (loopback only)/`chain` inputs,
`always`/`never`/`compare`/`array_compare` conditions, `search` and `chain` transforms,
throttling (watch or action `throttle_period`, acks), action conditions, action modes, and the
`logging` and `index` actions. Painless scripts are not run: a script condition or transform
reports a failure, as a broken script would. Other action types cannot be delivered from a
sandbox; they answer `failure` unless simulated. Side effects go through the `Env` callbacks.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from watchmgr.sandbox.errors import EsError
from watchmgr.sandbox.normalize import render_watch

DEFAULT_THROTTLE_MS = 5000
AWAITS = "awaits_successful_execution"


class Env(Protocol):
    node_id: str

    def search(self, request: dict[str, Any]) -> dict[str, Any]: ...

    def index(self, index: str, doc_id: str | None, source: dict[str, Any]) -> dict[str, Any]: ...

    def http(self, request: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ExecuteOptions:
    trigger_time: datetime
    scheduled_time: datetime
    alternative_input: dict[str, Any] | None = None
    ignore_condition: bool = False
    record_execution: bool = False
    action_modes: dict[str, str] | None = None
    debug: bool = False


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as ES prints dates (§2.11)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def fresh_status(watch: dict[str, Any], active: bool, now: datetime) -> dict[str, Any]:
    """The status every PUT builds (§2.11)."""
    stamp = iso(now)
    return {
        "state": {"active": active, "timestamp": stamp},
        "actions": {
            action_id: {"ack": {"timestamp": stamp, "state": AWAITS}}
            for action_id in watch.get("actions", {})
        },
        "version": -1,
    }


_STATUS_ORDER = (
    "state",
    "last_checked",
    "last_met_condition",
    "actions",
    "execution_state",
    "version",
)
_ACTION_STATUS_ORDER = ("ack", "last_execution", "last_successful_execution", "last_throttle")


def order_status(status: dict[str, Any]) -> dict[str, Any]:
    """WatchStatus.toXContent key order (§2.11)."""
    out = {k: status[k] for k in _STATUS_ORDER if k in status}
    out["actions"] = {
        action_id: {k: value[k] for k in _ACTION_STATUS_ORDER if k in value}
        for action_id, value in status.get("actions", {}).items()
    }
    return {k: out[k] for k in _STATUS_ORDER if k in out}


# ---------------------------------------------------------------------------- templates / paths

_MUSTACHE = re.compile(r"\{\{\s*([^{}#/^!\s]+)\s*\}\}")


def lookup(model: Any, path: str) -> Any:
    current = model
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def render_text(template: Any, model: dict[str, Any]) -> str:
    """Tiny mustache: `{{path}}` substitution only (sections are left as text)."""
    source = template.get("source", "") if isinstance(template, dict) else template
    if not isinstance(source, str):
        source = json.dumps(source)

    def sub(match: re.Match[str]) -> str:
        value = lookup(model, match.group(1))
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    return _MUSTACHE.sub(sub, source)


def _render_json(value: Any, model: dict[str, Any]) -> Any:
    text = json.dumps(value)
    if "{{" not in text:
        return value
    return json.loads(_MUSTACHE.sub(lambda m: _json_inline(lookup(model, m.group(1))), text))


def _json_inline(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)[1:-1]
    return "" if value is None else json.dumps(value)


# ---------------------------------------------------------------------------- inputs


def _failure(kind: str, err: EsError | str) -> dict[str, Any]:
    if isinstance(err, EsError):
        return {
            "type": kind,
            "status": "failure",
            "reason": err.reason,
            "error": err.to_body()["error"],
        }
    return {
        "type": kind,
        "status": "failure",
        "reason": err,
        "error": {
            "root_cause": [{"type": "exception", "reason": err}],
            "type": "exception",
            "reason": err,
        },
    }


def _search(env: Env, spec: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    request = dict(spec["request"])
    if "body" in request:
        request["body"] = _render_json(request["body"], model)
    return env.search(request)


def _search_step(
    env: Env, spec: dict[str, Any], model: dict[str, Any], *, extract: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run a search input (``extract=True``) or search transform: (result, payload or None)."""
    try:
        payload = _search(env, spec, model)
    except EsError as err:
        result = _failure("search", err)
        result["search"] = {"request": spec["request"]}
        return result, None
    if extract and "extract" in spec:
        payload = {k: v for k in spec["extract"] if (v := lookup(payload, k)) is not None}
    return {
        "type": "search",
        "status": "success",
        "payload": payload,
        "search": {"request": spec["request"]},
    }, payload


def run_input(
    kind: str, spec: dict[str, Any], env: Env, model: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Returns (input result, payload or None on failure)."""
    if kind == "none":
        return {"type": "none", "status": "success", "payload": {}}, {}
    if kind == "simple":
        payload = copy.deepcopy(spec)
        return {"type": "simple", "status": "success", "payload": payload}, payload
    if kind == "search":
        return _search_step(env, spec, model, extract=True)
    if kind == "http":
        rendered = render_watch({"input": {"http": spec}})["input"]["http"]["request"]
        try:
            payload = env.http(spec["request"])
        except EsError as err:
            result = _failure("http", err)
            result["http"] = {"request": rendered}
            return result, None
        if "extract" in spec:
            payload = {
                k: v
                for k, v in payload.items()
                if k in spec["extract"] or k in ("_status_code", "_headers")
            }
        return {
            "type": "http",
            "status": "success",
            "payload": payload,
            "http": {"request": rendered, "status_code": payload.get("_status_code")},
        }, payload
    if kind == "chain":
        payload = {}
        results = []
        for entry in spec["inputs"]:
            for name, sub in entry.items():
                sub_kind, sub_spec = next(iter(sub.items()))
                result, sub_payload = run_input(
                    sub_kind, sub_spec, env, {**model, "ctx": {**model["ctx"], "payload": payload}}
                )
                results.append({name: result})
                if sub_payload is None:
                    failed = _failure("chain", f"failed to execute input [{name}]")
                    return failed, None
                payload[name] = sub_payload
        return {"type": "chain", "status": "success", "payload": payload, "chain": results}, payload
    return _failure(kind, f"unsupported input [{kind}]"), None


# ---------------------------------------------------------------------------- conditions


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(
            left == right
            or (_as_number(left) is not None and _as_number(left) == _as_number(right))
        )
    if op == "not_eq":
        return not compare("eq", left, right)
    a, b = _as_number(left), _as_number(right)
    if a is None or b is None:
        if not isinstance(left, str) or not isinstance(right, str):
            return False
        a_s, b_s = left, right
        return {"lt": a_s < b_s, "lte": a_s <= b_s, "gt": a_s > b_s, "gte": a_s >= b_s}[op]
    return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]


def run_condition(condition: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    kind, spec = next(iter(condition.items()))
    if kind in ("always", "never"):
        return {"type": kind, "status": "success", "met": kind == "always"}
    if kind == "compare":
        path, ops = next(iter(spec.items()))
        op, operand = next(iter(ops.items()))
        if isinstance(operand, str) and operand.startswith("{{"):
            operand = lookup(model, operand.strip("{} "))
        value = lookup(model, path)
        return {
            "type": "compare",
            "status": "success",
            "met": compare(op, value, operand),
            "compare": {"resolved_values": {path: value}},
        }
    if kind == "array_compare":
        path, inner = next(iter(spec.items()))
        items = lookup(model, path) or []
        sub_path = inner.get("path", "")
        op, rule = next((k, v) for k, v in inner.items() if k != "path")
        quantifier = rule.get("quantifier", "some") if isinstance(rule, dict) else "some"
        operand = rule.get("value") if isinstance(rule, dict) else rule
        hits = [compare(op, lookup(i, sub_path) if sub_path else i, operand) for i in items]
        met = all(hits) if quantifier == "all" else any(hits)
        return {
            "type": "array_compare",
            "status": "success",
            "met": met,
            "array_compare": {"resolved_values": {path: items}},
        }
    if kind == "script":
        source = str(spec.get("source", "")).strip().rstrip(";")
        if source in ("return true", "true", "return false", "false"):
            return {"type": "script", "status": "success", "met": source.endswith("true")}
        failure = _failure("script", "the watchmgr sandbox does not run painless scripts")
        failure["met"] = False
        return failure
    return {
        "type": kind,
        "status": "failure",
        "met": False,
        "reason": f"unknown condition [{kind}]",
    }


def _condition_type(condition: dict[str, Any]) -> str:
    return next(iter(condition))


# ---------------------------------------------------------------------------- transforms


def run_transform(
    transform: dict[str, Any], env: Env, model: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    kind, spec = next(iter(transform.items()))
    if kind == "search":
        return _search_step(env, spec, model, extract=False)
    if kind == "chain":
        payload = model["ctx"]["payload"]
        results = []
        for step in spec:
            result, payload_or_none = run_transform(
                step, env, {**model, "ctx": {**model["ctx"], "payload": payload}}
            )
            results.append(result)
            if payload_or_none is None:
                return _failure("chain", "failed to execute chained transform"), None
            payload = payload_or_none
        return {"type": "chain", "status": "success", "payload": payload, "chain": results}, payload
    return _failure(kind, "the watchmgr sandbox does not run painless scripts"), None


# ---------------------------------------------------------------------------- actions


def _index_docs(
    payload: dict[str, Any], spec: dict[str, Any]
) -> list[tuple[str | None, str | None, dict[str, Any]]]:
    docs = payload.get("_doc")
    items = docs if isinstance(docs, list) else [payload]
    out = []
    for item in items:
        source = {k: v for k, v in item.items() if k not in ("_id", "_index")}
        doc_id = spec.get("doc_id") if not isinstance(docs, list) else None
        doc_id = item.get("_id", doc_id)
        out.append((item.get("_index", spec.get("index")), doc_id, source))
    return out


def run_action(
    action_type: str, spec: dict[str, Any], mode: str, env: Env, model: dict[str, Any]
) -> dict[str, Any]:
    """Returns the per-type part of an action result plus a `status` (success/simulated/failure)."""
    payload = model["ctx"]["payload"]
    simulate = mode in ("simulate", "force_simulate")
    if action_type == "logging":
        text = render_text(spec["text"], model)
        return {"status": "simulated" if simulate else "success", "logging": {"logged_text": text}}
    if action_type == "index":
        docs = _index_docs(payload, spec)
        if simulate:
            if isinstance(payload.get("_doc"), list):
                sources = [
                    {**s, **({"_id": i} if i else {}), **({"_index": x} if x else {})}
                    for x, i, s in docs
                ]
                return {"status": "simulated", "index": {"request": {"source": sources}}}
            index, doc_id, source = docs[0]
            request = {"index": index, "source": source}
            if doc_id:
                request["doc_id"] = doc_id
            return {"status": "simulated", "index": {"request": request}}
        responses = []
        for index, doc_id, source in docs:
            if not index:
                return {
                    "status": "failure",
                    "reason": "missing [index] in index action",
                    "index": {},
                }
            responses.append(env.index(str(index), None if doc_id is None else str(doc_id), source))
        response: Any = responses if isinstance(payload.get("_doc"), list) else responses[0]
        return {"status": "success", "index": {"response": response}}
    if simulate:
        return {"status": "simulated", action_type: {"request": spec}}
    return {
        "status": "failure",
        "reason": f"the watchmgr sandbox does not deliver [{action_type}] actions; execute it "
        "with action mode [simulate]",
        action_type: {},
    }


def _mode(action_id: str, modes: dict[str, str] | None) -> str:
    if not modes:
        return "execute"
    return modes.get(action_id) or modes.get("_all") or "execute"


def execute(
    watch_id: str,
    watch: dict[str, Any],
    status: dict[str, Any],
    options: ExecuteOptions,
    env: Env,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a watch once. Returns (watch_record, new status). Pure apart from `env` calls."""
    status = copy.deepcopy(status)
    start = now
    stamp = iso(now)
    ctx: dict[str, Any] = {
        "watch_id": watch_id,
        "id": f"{watch_id}_{uuid.uuid4()}-{stamp}",
        "execution_time": stamp,
        "trigger": {
            "triggered_time": iso(options.trigger_time),
            "scheduled_time": iso(options.scheduled_time),
        },
        "metadata": watch.get("metadata", {}),
        "payload": {},
        "vars": {},
    }
    model = {"ctx": ctx}
    result: dict[str, Any] = {"execution_time": stamp, "execution_duration": 0}
    messages: list[str] = []

    if options.alternative_input is not None:
        input_result: dict[str, Any] = {
            "type": "simple",
            "status": "success",
            "payload": options.alternative_input,
        }
        payload: dict[str, Any] | None = options.alternative_input
    else:
        kind, spec = next(iter(watch["input"].items()))
        input_result, payload = run_input(kind, spec, env, model)
    result["input"] = input_result
    status["last_checked"] = stamp
    state: str
    if payload is None:
        state = "failed"
        messages.append("failed to execute watch input")
        result["actions"] = []
    else:
        ctx["payload"] = payload
        if options.ignore_condition:
            condition_result = {"type": "always", "status": "success", "met": True}
        else:
            condition_result = run_condition(watch["condition"], model)
        result["condition"] = condition_result
        if not condition_result["met"]:
            state = "execution_not_needed"
            result["actions"] = []
            for action_status in status.get("actions", {}).values():
                _reset_ack(action_status, stamp)  # §1.6: condition not met -> awaits
        else:
            status["last_met_condition"] = stamp
            if "transform" in watch:
                transform_result, transformed = run_transform(watch["transform"], env, model)
                result["transform"] = transform_result
                if transformed is not None:
                    ctx["payload"] = transformed
            state, result["actions"] = _run_actions(watch, status, options, env, model, now)
    status["execution_state"] = state
    status = order_status(status)
    result["execution_duration"] = max(
        0, int((datetime.now(timezone.utc) - start).total_seconds() * 1000)
    )
    record: dict[str, Any] = {
        "watch_id": watch_id,
        "node": env.node_id,
        "state": state,
        "@timestamp": iso(options.trigger_time),
        "status": status,
        "trigger_event": {
            "type": "manual",
            "triggered_time": iso(options.trigger_time),
            "manual": {"schedule": {"scheduled_time": iso(options.scheduled_time)}},
        },
    }
    if options.debug:
        record["vars"] = ctx["vars"]
    rendered = render_watch(watch)
    record["input"] = rendered["input"]
    record["condition"] = rendered["condition"]
    if "metadata" in watch:
        record["metadata"] = watch["metadata"]
    record["result"] = render_watch({"result": result})["result"]
    record["messages"] = messages
    return {"_id": ctx["id"], "watch_record": record}, status


def _reset_ack(action_status: dict[str, Any], stamp: str) -> None:
    ack = action_status.setdefault("ack", {})
    if ack.get("state") != AWAITS:
        action_status["ack"] = {"timestamp": stamp, "state": AWAITS}


def _throttle_reason(
    action_id: str,
    action: dict[str, Any],
    watch: dict[str, Any],
    action_status: dict[str, Any],
    now: datetime,
) -> tuple[str, str] | None:
    if action_status.get("ack", {}).get("state") == "acked":
        return (
            "acknowledged",
            f"action [{action_id}] was acked at [{action_status['ack']['timestamp']}]",
        )
    period = action.get(
        "throttle_period_in_millis", watch.get("throttle_period_in_millis", DEFAULT_THROTTLE_MS)
    )
    last = action_status.get("last_successful_execution", {}).get("timestamp")
    if last and period > 0:
        elapsed = (now - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds() * 1000
        if elapsed < period:
            return "throttled", (
                f"throttling interval is set to [{_human(period)}] but time elapsed since last "
                f"execution is [{_human(int(elapsed))}]"
            )
    return None


def _human(millis: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis >= size:
            value = millis / size
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return f"{millis}ms"


def _run_actions(
    watch: dict[str, Any],
    status: dict[str, Any],
    options: ExecuteOptions,
    env: Env,
    model: dict[str, Any],
    now: datetime,
) -> tuple[str, list[dict[str, Any]]]:
    stamp = iso(now)
    results: list[dict[str, Any]] = []
    outcomes: list[str] = []
    for action_id, action in watch["actions"].items():
        action_type = next(
            k
            for k in action
            if k
            not in (
                "throttle_period_in_millis",
                "condition",
                "transform",
                "foreach",
                "max_iterations",
            )
        )
        action_status = status.setdefault("actions", {}).setdefault(
            action_id, {"ack": {"timestamp": stamp, "state": AWAITS}}
        )
        mode = _mode(action_id, options.action_modes)
        entry: dict[str, Any] = {"id": action_id, "type": action_type}
        if mode == "skip":
            entry.update(status="throttled", reason="manually skipped")
            results.append(entry)
            outcomes.append("throttled")
            continue
        if not mode.startswith("force"):
            throttled = _throttle_reason(action_id, action, watch, action_status, now)
            if throttled is not None:
                entry.update(status=throttled[0], reason=throttled[1])
                action_status["last_throttle"] = {"timestamp": stamp, "reason": throttled[1]}
                results.append(entry)
                outcomes.append(throttled[0])
                continue
        action_model = model
        if "condition" in action:
            cond = run_condition(action["condition"], model)
            entry["condition"] = cond
            if not cond["met"]:
                entry.update(
                    status="condition_failed",
                    reason="condition failed. skipping: "
                    f"[{_condition_type(action['condition'])}] condition",
                )
                _reset_ack(action_status, stamp)  # §1.6: action condition not met -> awaits
                results.append(entry)
                outcomes.append("condition_failed")
                continue
        if "transform" in action:
            transform_result, transformed = run_transform(action["transform"], env, model)
            entry["transform"] = transform_result
            if transformed is None:
                entry.update(status="failure", reason="failed to execute action transform")
                results.append(entry)
                outcomes.append("failure")
                continue
            action_model = {"ctx": {**model["ctx"], "payload": transformed}}
        outcome = run_action(action_type, action[action_type], mode, env, action_model)
        entry.update(outcome)
        results.append(entry)
        outcomes.append(outcome["status"])
        successful = outcome["status"] in ("success", "simulated")
        execution: dict[str, Any] = {"timestamp": stamp, "successful": successful}
        if not successful:
            execution["reason"] = outcome.get("reason", "")
        action_status["last_execution"] = execution
        if successful:
            action_status["last_successful_execution"] = {"timestamp": stamp, "successful": True}
            if action_status.get("ack", {}).get("state") == AWAITS:
                action_status["ack"] = {"timestamp": stamp, "state": "ackable"}  # §1.6
    if outcomes and all(o == "acknowledged" for o in outcomes):
        return "acknowledged", results
    if outcomes and all(o in ("throttled", "acknowledged") for o in outcomes):
        return "throttled", results
    return "executed", results


def make_env(
    node_id: str,
    search: Callable[[dict[str, Any]], dict[str, Any]],
    index: Callable[[str, str | None, dict[str, Any]], dict[str, Any]],
    http: Callable[[dict[str, Any]], dict[str, Any]],
) -> Env:
    """Bundle callbacks into an `Env`."""

    class _Env:
        def __init__(self) -> None:
            self.node_id = node_id

        def search(self, request: dict[str, Any]) -> dict[str, Any]:
            return search(request)

        def index(
            self, index_name: str, doc_id: str | None, source: dict[str, Any]
        ) -> dict[str, Any]:
            return index(index_name, doc_id, source)

        def http(self, request: dict[str, Any]) -> dict[str, Any]:
            return http(request)

    return _Env()
