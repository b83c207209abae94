"""Watches for people and programs: ndjson, json, a curl script, or one file per watch."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from watchmgr.watch import Watch

FORMATS = ("ndjson", "json", "curl")


def watch_record(watch: Watch) -> dict[str, object]:
    return {"id": watch.id, "source": watch.source, "body": watch.body}


def write_watches(
    watches: Iterable[Watch], fmt: str, out: TextIO, es: str = "localhost:9200"
) -> None:
    """Write `watches` (already sorted by id) to `out` in `fmt`."""
    if fmt == "ndjson":
        for watch in watches:
            out.write(json.dumps(watch_record(watch), ensure_ascii=False) + "\n")
    elif fmt == "json":
        json.dump([watch_record(w) for w in watches], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "curl":
        for watch in watches:
            out.write(curl_command(watch, es))
    else:
        raise ValueError(f"unknown format {fmt!r}")


def pretty_body(watch: Watch) -> str:
    """The body as people read it: indented, non-ASCII kept; curl and watch files share it."""
    return json.dumps(watch.body, indent=2, ensure_ascii=False)


def curl_command(watch: Watch, es: str = "localhost:9200") -> str:
    """The seed's curl form: PUT the body from a here-document.

    Two changes make it safe to run: the id is percent-encoded (ids keep `/`, `'`, `$` from
    titles) and the here-document is quoted, so the shell expands nothing in the body.
    """
    path = urllib.parse.quote(watch.id, safe="")
    body = pretty_body(watch)
    return (
        "curl -s -XPUT -H 'Content-Type: application/json' --data-binary @- "
        f"{es}/_watcher/watch/{path} <<'EOF'\n{body}\nEOF\n"
    )


_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


def file_name(watch_id: str) -> str:
    """A file name for a watch id that is safe on every common filesystem."""
    safe = _UNSAFE.sub("_", watch_id).strip(". ") or "watch"
    if safe != watch_id or len(safe) > 200:
        digest = hashlib.sha256(watch_id.encode()).hexdigest()[:8]
        safe = f"{safe[:200]}-{digest}"
    return safe + ".json"


def write_watch_files(watches: Iterable[Watch], directory: Path) -> int:
    """One pretty-printed body per watch in `directory` (created); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for watch in watches:
        text = pretty_body(watch) + "\n"
        (directory / file_name(watch.id)).write_text(text, encoding="utf-8")
        count += 1
    return count
