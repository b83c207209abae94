"""The sandbox's `.watches` index (and a few plain indices), thread-safe, optionally durable.

Versioning follows watcher-api.md §5: `.watches` is one shard, so `_seq_no` is a counter shared by
every write to any watch; `_version` is per id (continuing from a delete tombstone); the primary
term is fixed per store. Documents are replaced, never mutated in place, so a reader can hold a
snapshot of `Doc`s without a lock.

Durability: with a state path, the file holds a JSON snapshot written atomically (temp file,
fsync, rename, fsync of the directory) and `<path>.journal` holds one JSON line per acknowledged
mutation, fsynced before the write is answered. Rewriting a snapshot of thousands of watches on
every PUT would cost milliseconds per request under the lock; appending one line costs
microseconds, and a line torn by `kill -9` was, by construction, never acknowledged, so loading
drops it. Snapshots are taken at start-up, at a clean stop and when the journal grows long.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

STATE_FORMAT = 1
#: Deleted ids keep their version for `index.gc_deletes` (§5).
GC_DELETES_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Doc:
    """One `.watches` document: stored source (watch + status) and its sequence numbers."""

    source: dict[str, Any]
    version: int
    seq_no: int
    primary_term: int


class Conflict(Exception):
    """A compare-and-set precondition failed; carries the current document."""

    def __init__(self, current: Doc | None) -> None:
        super().__init__("conflict")
        self.current = current


class Missing(Exception):
    """An update addressed a document that does not exist."""


def default_watcher_settings() -> dict[str, str]:
    return {"index.auto_expand_replicas": "0-1", "index.number_of_replicas": "0"}


class Store:
    """All mutable state of one sandbox. Every public method is atomic."""

    def __init__(self, path: Path | None = None, *, primary_term: int = 1) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._journal_entries = 0
        self.primary_term = primary_term
        self._watches: dict[str, Doc] = {}
        self._tombstones: dict[str, tuple[int, float]] = {}
        self._seq_no = -1
        self._lsn = 0
        self._indices: dict[str, dict[str, dict[str, Any]]] = {}
        #: the mappings an index was created with (dynamic mapping adds the rest, `mapping.py`).
        self._mappings: dict[str, dict[str, Any]] = {}
        self._watcher_settings = default_watcher_settings()
        self._cluster_settings: dict[str, Any] = {"persistent": {}, "transient": {}}
        self._manually_stopped = False
        if path is not None:
            self._load(path)
            self._snapshot()

    # ------------------------------------------------------------------ persistence

    @property
    def journal_path(self) -> Path | None:
        return None if self._path is None else self._path.with_name(self._path.name + ".journal")

    def _state(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "lsn": self._lsn,
            "seq_no": self._seq_no,
            "primary_term": self.primary_term,
            "watches": [
                {"id": i, "source": d.source, "version": d.version, "seq_no": d.seq_no}
                for i, d in self._watches.items()
            ],
            "tombstones": {i: v for i, (v, _) in self._tombstones.items()},
            "indices": self._indices,
            "mappings": self._mappings,
            "watcher_settings": self._watcher_settings,
            "cluster_settings": self._cluster_settings,
            "manually_stopped": self._manually_stopped,
        }

    def _load(self, path: Path) -> None:
        if path.exists():
            state = json.loads(path.read_text("utf-8"))
            self._lsn = state["lsn"]
            self._seq_no = state["seq_no"]
            for item in state["watches"]:
                self._watches[item["id"]] = Doc(
                    item["source"], item["version"], item["seq_no"], self.primary_term
                )
            now = time.monotonic()
            self._tombstones = {i: (v, now) for i, v in state["tombstones"].items()}
            self._indices = state["indices"]
            self._mappings = state.get("mappings", {})
            self._watcher_settings = state["watcher_settings"]
            self._cluster_settings = state["cluster_settings"]
            self._manually_stopped = state["manually_stopped"]
        journal = self.journal_path
        assert journal is not None
        if journal.exists():
            for line in journal.read_bytes().split(b"\n"):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a torn tail: never acknowledged
                if entry["lsn"] > self._lsn:
                    self._replay(entry)

    def _replay(self, entry: dict[str, Any]) -> None:
        self._lsn = entry["lsn"]
        op = entry["op"]
        if op == "put":
            self._watches.pop(entry["id"], None)
            self._watches[entry["id"]] = Doc(
                entry["source"], entry["version"], entry["seq_no"], self.primary_term
            )
            self._seq_no = max(self._seq_no, entry["seq_no"])
        elif op == "update":
            old = self._watches[entry["id"]]
            self._watches[entry["id"]] = Doc(
                entry["source"], entry["version"], entry["seq_no"], self.primary_term
            )
            del old
            self._seq_no = max(self._seq_no, entry["seq_no"])
        elif op == "delete":
            self._watches.pop(entry["id"], None)
            self._tombstones[entry["id"]] = (entry["version"], time.monotonic())
            self._seq_no = max(self._seq_no, entry["seq_no"])
        elif op == "index_doc":
            self._indices.setdefault(entry["index"], {})[entry["id"]] = entry["source"]
        elif op == "create_index":
            self._indices.setdefault(entry["index"], {})
            if entry.get("mappings"):
                self._mappings[entry["index"]] = entry["mappings"]
        elif op == "delete_doc":
            self._indices.get(entry["index"], {}).pop(entry["id"], None)
        elif op == "delete_index":
            self._indices.pop(entry["index"], None)
            self._mappings.pop(entry["index"], None)
        elif op == "watcher_settings":
            self._watcher_settings = entry["settings"]
        elif op == "cluster_settings":
            self._cluster_settings = entry["settings"]
        elif op == "watcher_state":
            self._manually_stopped = entry["manually_stopped"]

    def _snapshot(self) -> None:
        """Write the snapshot atomically, then empty the journal (lock held or single thread)."""
        path = self._path
        journal = self.journal_path
        if path is None or journal is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._state(), handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        if self._fd is None:
            self._fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            _fsync_dir(path.parent)
        # Entries up to self._lsn are in the snapshot; a kill before this truncate is harmless.
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self._journal_entries = 0

    def _log(self, entry: dict[str, Any]) -> None:
        """Append one journal line (lock held). The caller syncs after releasing the lock."""
        self._lsn += 1
        if self._fd is None:
            return
        entry["lsn"] = self._lsn
        os.write(self._fd, json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        self._journal_entries += 1
        if self._journal_entries > 20_000 + 2 * len(self._watches):
            self._snapshot()

    def _sync(self) -> None:
        fd = self._fd
        if fd is not None:
            os.fsync(fd)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock:
            yield
        self._sync()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                self._snapshot()
                os.close(self._fd)
                self._fd = None

    # ------------------------------------------------------------------ watches

    def get(self, watch_id: str) -> Doc | None:
        return self._watches.get(watch_id)

    def docs(self) -> list[tuple[str, Doc]]:
        """All watches in index order (creation order; a rewritten doc moves to the end, §1.4)."""
        with self._lock:
            return list(self._watches.items())

    def count(self) -> int:
        return len(self._watches)

    def _next_version(self, watch_id: str) -> int:
        current = self._watches.get(watch_id)
        if current is not None:
            return current.version + 1
        tomb = self._tombstones.get(watch_id)
        if tomb is not None and time.monotonic() - tomb[1] < GC_DELETES_SECONDS:
            return tomb[0] + 1
        return 1

    def put(
        self,
        watch_id: str,
        build: Callable[[Doc | None], dict[str, Any]],
        *,
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
        must_exist: bool = False,
    ) -> tuple[Doc, bool]:
        """Index (or CAS-update) a watch; `build(current)` makes the new source under the lock.

        Returns the new document and whether it was created.
        Raises `Conflict` on a failed precondition and `Missing` when `must_exist` finds nothing.
        """
        with self._writing():
            current = self._watches.get(watch_id)
            if must_exist and current is None:
                raise Missing(watch_id)
            if if_seq_no is not None and (
                current is None
                or current.seq_no != if_seq_no
                or current.primary_term != if_primary_term
            ):
                raise Conflict(current)
            source = build(current)
            self._seq_no += 1
            doc = Doc(source, self._next_version(watch_id), self._seq_no, self.primary_term)
            self._watches.pop(watch_id, None)
            self._watches[watch_id] = doc
            self._tombstones.pop(watch_id, None)
            self._log(
                {
                    "op": "put",
                    "id": watch_id,
                    "source": source,
                    "version": doc.version,
                    "seq_no": doc.seq_no,
                }
            )
            return doc, current is None

    def update(
        self,
        watch_id: str,
        change: Callable[[Doc], dict[str, Any] | None],
    ) -> tuple[Doc, Doc] | None:
        """Partial update in place (index order kept); `change` returns None for "no write".

        Returns (before, after) or None when the watch does not exist.
        """
        with self._writing():
            current = self._watches.get(watch_id)
            if current is None:
                return None
            source = change(current)
            if source is None:
                return current, current
            self._seq_no += 1
            doc = replace(current, source=source, version=current.version + 1, seq_no=self._seq_no)
            self._watches[watch_id] = doc
            self._log(
                {
                    "op": "update",
                    "id": watch_id,
                    "source": source,
                    "version": doc.version,
                    "seq_no": doc.seq_no,
                }
            )
            return current, doc

    def delete(self, watch_id: str) -> tuple[bool, int]:
        """Delete a watch; returns (found, version of the delete)."""
        with self._writing():
            current = self._watches.pop(watch_id, None)
            version = self._next_version(watch_id)
            if current is not None:
                version = current.version + 1
            self._seq_no += 1
            self._tombstones[watch_id] = (version, time.monotonic())
            self._log({"op": "delete", "id": watch_id, "version": version, "seq_no": self._seq_no})
            return current is not None, version

    # ------------------------------------------------------------------ plain indices

    def index_doc(self, index: str, doc_id: str, source: dict[str, Any]) -> tuple[bool, int]:
        with self._writing():
            docs = self._indices.setdefault(index, {})
            created = doc_id not in docs
            docs[doc_id] = source
            self._log({"op": "index_doc", "index": index, "id": doc_id, "source": source})
            return created, len(docs)

    def delete_doc(self, index: str, doc_id: str) -> bool:
        with self._writing():
            docs = self._indices.get(index) or {}
            if doc_id not in docs:
                return False
            del docs[doc_id]
            self._log({"op": "delete_doc", "index": index, "id": doc_id})
            return True

    def create_index(self, index: str, mappings: dict[str, Any] | None = None) -> bool:
        with self._writing():
            if index in self._indices:
                return False
            self._indices[index] = {}
            entry: dict[str, Any] = {"op": "create_index", "index": index}
            if mappings:
                self._mappings[index] = entry["mappings"] = mappings
            self._log(entry)
            return True

    def delete_index(self, index: str) -> bool:
        """Delete an index and its documents; False when there was none."""
        with self._writing():
            if index not in self._indices:
                return False
            del self._indices[index]
            self._mappings.pop(index, None)
            self._log({"op": "delete_index", "index": index})
            return True

    def index_mappings(self, index: str) -> dict[str, Any] | None:
        """The mappings `index` was created with (None: dynamic mapping only)."""
        with self._lock:
            return self._mappings.get(index)

    def index_docs(self, index: str) -> dict[str, dict[str, Any]] | None:
        with self._lock:
            docs = self._indices.get(index)
            return None if docs is None else dict(docs)

    def index_names(self) -> list[str]:
        with self._lock:
            return sorted(self._indices)

    # ------------------------------------------------------------------ settings / state

    @property
    def watcher_settings(self) -> dict[str, str]:
        return dict(self._watcher_settings)

    def set_watcher_settings(self, settings: dict[str, str]) -> None:
        with self._writing():
            self._watcher_settings = dict(settings)
            self._log({"op": "watcher_settings", "settings": self._watcher_settings})

    @property
    def cluster_settings(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._cluster_settings))  # type: ignore[no-any-return]

    def set_cluster_settings(self, settings: dict[str, Any]) -> None:
        with self._writing():
            self._cluster_settings = settings
            self._log({"op": "cluster_settings", "settings": settings})

    @property
    def manually_stopped(self) -> bool:
        return self._manually_stopped

    def set_manually_stopped(self, stopped: bool) -> None:
        with self._writing():
            self._manually_stopped = stopped
            self._log({"op": "watcher_state", "manually_stopped": stopped})


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
