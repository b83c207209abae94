"""Watches for people and programs: ndjson, json, a curl script, or one file per watch."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from watchmgr.errors import WatchmgrError
from watchmgr.output import formats
from watchmgr.watch import Watch

FORMATS = formats.WATCHES


def watch_record(watch: Watch) -> dict[str, object]:
    return {"id": watch.id, "source": watch.source, "body": watch.body}


@dataclass(frozen=True, slots=True)
class CurlTarget:
    """Where a curl script PUTs the watches, and how it authenticates.

    `auth` is ``api_key``, ``basic`` or ``bearer`` with `variables` the names of the environment
    variables holding the secret parts (in that method's order): the script reads them when it
    runs, so no secret is ever written into it.
    """

    url: str = "localhost:9200"
    auth: str | None = None
    variables: tuple[str, ...] = ()
    #: a CA bundle for curl's --cacert (as the environment writes it: relative to the root).
    ca_certs: str | None = None
    insecure: bool = False
    #: comment lines for people at the top of the script.
    notes: tuple[str, ...] = ()


LOCAL = CurlTarget()


def write_watches(
    watches: Iterable[Watch], fmt: str, out: TextIO, target: CurlTarget = LOCAL
) -> None:
    """Write `watches` (already sorted by id) to `out` in `fmt`."""
    if fmt == "ndjson":
        for watch in watches:
            out.write(json.dumps(watch_record(watch), ensure_ascii=False) + "\n")
    elif fmt == "json":
        json.dump([watch_record(w) for w in watches], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "curl":
        out.write(curl_prelude(target))
        options = curl_options(target)
        for watch in watches:
            out.write(curl_command(watch, target.url, options))
    else:
        raise ValueError(f"unknown format {fmt!r}")


def write_exported(watches: Iterable[Watch], out: TextIO) -> None:
    """Watches read from a cluster: one ``{"id", "active", "body"}`` line each."""
    for watch in watches:
        record = {"id": watch.id, "active": watch.active, "body": watch.body}
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def pretty_body(watch: Watch) -> str:
    """The body as people read it: indented, non-ASCII kept; curl and watch files share it."""
    return json.dumps(watch.body, indent=2, ensure_ascii=False)


def curl_command(watch: Watch, es: str = "localhost:9200", options: str = "") -> str:
    """The seed's curl form: PUT the body from a here-document.

    Two changes make it safe to run: the id is percent-encoded (ids keep `/`, `'`, `$` from
    titles) and the here-document is quoted, so the shell expands nothing in the body.
    `options` (authentication, CA) go before the body's.
    """
    path = urllib.parse.quote(watch.id, safe="")
    body = pretty_body(watch)
    url = shlex.quote(f"{es.rstrip('/')}/_watcher/watch/{path}")
    return (
        f"curl -s -XPUT -H 'Content-Type: application/json' {options}--data-binary @- "
        f"{url} <<'EOF'\n{body}\nEOF\n"
    )


#: The shell variable the prelude fills with the Authorization header's value.
AUTHORIZATION = "WATCHMGR_AUTHORIZATION"


def curl_prelude(target: CurlTarget) -> str:
    """What runs before the PUTs: notes, and each credential read from its variable (the run
    stops with a line naming a variable that is not set)."""
    if target == LOCAL:
        return ""  # the seed's script, unchanged
    lines = ["#!/bin/sh", *(f"# {note}" for note in target.notes), "set -eu"]
    for name in target.variables:
        lines.append(f': "${{{name}:?set {name} (watchmgr never writes secrets into scripts)}}"')
    if target.auth == "api_key":
        (name,) = target.variables
        # The variable holds the encoded key Kibana shows, or id:api_key as the API returns it.
        lines += [
            f'case "${name}" in',
            f'  *:*) {AUTHORIZATION}="ApiKey $(printf %s "${name}" | base64 | tr -d \'\\n\')" ;;',
            f'  *) {AUTHORIZATION}="ApiKey ${name}" ;;',
            "esac",
        ]
    elif target.auth == "bearer":
        lines.append(f'{AUTHORIZATION}="Bearer ${target.variables[0]}"')
    return "\n".join(lines) + "\n"


def curl_options(target: CurlTarget) -> str:
    """curl's options for `target`'s credentials and certificates (each followed by a space)."""
    options = []
    if target.auth in ("api_key", "bearer"):
        options.append(f'-H "Authorization: ${AUTHORIZATION}"')
    elif target.auth == "basic":
        user, password = target.variables
        options.append(f'-u "${user}:${password}"')
    if target.ca_certs is not None:
        options.append(f"--cacert {shlex.quote(target.ca_certs)}")
    if target.insecure:
        options.append("--insecure")
    return "".join(f"{o} " for o in options)


_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


def file_name(watch_id: str) -> str:
    """A file name for a watch id that is safe on every common filesystem."""
    safe = _UNSAFE.sub("_", watch_id).strip(". ") or "watch"
    if safe != watch_id or len(safe) > 200:
        digest = hashlib.sha256(watch_id.encode()).hexdigest()[:8]
        safe = f"{safe[:200]}-{digest}"
    return safe + ".json"


#: The list of files a render wrote into an ``--out`` folder, kept there: the next render removes
#: those of them it does not write again (a deleted rule's), and never any other file.
MANIFEST = ".watchmgr-render"


@dataclass(frozen=True, slots=True)
class Written:
    """What a render into a folder did: files written and stale ones of its own removed."""

    written: int
    removed: tuple[str, ...]


def write_watch_files(watches: Iterable[Watch], directory: Path) -> Written:
    """One pretty-printed body per watch in `directory`, a folder watchmgr owns: created when
    missing, refused when it is a file; files an earlier render wrote and this one does not (the
    watches of deleted rules) are removed, so deploying the folder cannot bring them back."""
    if directory.exists() and not directory.is_dir():
        raise WatchmgrError(
            f"--out {directory} is a file; give a folder (watchmgr writes one <id>.json per "
            "watch into it and removes the ones it wrote before that are gone)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    manifest = directory / MANIFEST
    before = _names(manifest)
    names: list[str] = []
    for watch in watches:
        name = file_name(watch.id)
        (directory / name).write_text(pretty_body(watch) + "\n", encoding="utf-8")
        names.append(name)
    stale = sorted(before - set(names))
    for name in stale:
        (directory / name).unlink(missing_ok=True)
    manifest.write_text("".join(f"{n}\n" for n in sorted(names)), encoding="utf-8")
    return Written(len(names), tuple(stale))


def _names(manifest: Path) -> set[str]:
    """The file names an earlier render listed; only plain names in the folder itself count."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    return {n for n in lines if n.endswith(".json") and n == Path(n).name and n != MANIFEST}
