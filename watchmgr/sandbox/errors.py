"""Elasticsearch exceptions as the sandbox raises and renders them.

An `EsError` carries what ES puts in its REST error envelope (watcher-api.md §3.1): a snake_case
`type`, a `reason`, an optional `caused_by` chain and extra metadata keys. `root_cause` is the
innermost *Elasticsearch* exception of the chain; causes flagged `foreign=True` (Java exceptions
such as `zone_rules_exception`) appear only under `caused_by`.
"""

from __future__ import annotations

from typing import Any


class EsError(Exception):
    """An error that becomes `{"error": {...}, "status": N}` on the wire."""

    def __init__(
        self,
        status: int,
        type_: str,
        reason: str,
        *,
        caused_by: EsError | None = None,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, list[str]] | None = None,
        foreign: bool = False,
    ) -> None:
        super().__init__(f"{type_}: {reason}")
        self.status = status
        self.type = type_
        self.reason = reason
        self.caused_by = caused_by
        self.metadata = metadata or {}
        #: HTTP headers ES adds to the response and mirrors under `error.header`.
        self.headers = headers or {}
        #: True for a non-Elasticsearch (plain Java) exception: never a root cause.
        self.foreign = foreign

    def _own(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "reason": self.reason}
        out.update(self.metadata)
        if self.headers:
            out["header"] = {k: v if len(v) > 1 else v[0] for k, v in self.headers.items()}
        return out

    def _cause_tree(self) -> dict[str, Any]:
        out = self._own()
        if self.caused_by is not None:
            out["caused_by"] = self.caused_by._cause_tree()
        return out

    def root_cause(self) -> EsError:
        root: EsError = self
        node = self.caused_by
        while node is not None:
            if not node.foreign:
                root = node
            node = node.caused_by
        return root

    def to_body(self) -> dict[str, Any]:
        """Render the ES error envelope."""
        error: dict[str, Any] = {"root_cause": [self.root_cause()._own()]}
        error.update(self._cause_tree())
        return {"error": error, "status": self.status}


class RawResponseError(Exception):
    """A non-2xx answer whose body is not the error envelope (get/delete 404, 405)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def parse_exception(reason: str, caused_by: EsError | None = None) -> EsError:
    return EsError(400, "parse_exception", reason, caused_by=caused_by)


def illegal_argument(reason: str, caused_by: EsError | None = None) -> EsError:
    return EsError(400, "illegal_argument_exception", reason, caused_by=caused_by)


def validation_failed(*messages: str) -> EsError:
    """`ActionRequestValidationException`: numbered messages, each ending in `;`."""
    text = "".join(f"{i}: {m};" for i, m in enumerate(messages, start=1))
    return EsError(400, "action_request_validation_exception", f"Validation Failed: {text}")


WATCHES_INDEX_META = {"index_uuid": "wAtChEsInDeXuUiD0000000", "shard": "0", "index": ".watches"}


def document_missing(doc_id: str) -> EsError:
    return EsError(
        404,
        "document_missing_exception",
        f"[{doc_id}]: document missing",
        metadata=dict(WATCHES_INDEX_META),
    )


def watch_not_found(watch_id: str) -> EsError:
    return EsError(
        404, "resource_not_found_exception", f"Watch with id [{watch_id}] does not exist"
    )
