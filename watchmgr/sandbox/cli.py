"""`watchmgr sandbox`: the foreground command (a thin Typer wrapper around `serve_forever`).

Register it in the main CLI with one line: `app.command("sandbox")(sandbox_command)`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from watchmgr.sandbox.config import LICENSES, ApiKey

#: The versions the sandbox emulates: Elasticsearch 8.x and 9.x, as X.Y.Z.
_EMULATED = re.compile(r"^(8|9)\.\d{1,3}\.\d{1,3}$")


def _api_key(spec: str) -> ApiKey:
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise typer.BadParameter(f"expected ID:KEY[:PRIVILEGE,...], got {spec!r}")
    privileges = (
        frozenset(parts[2].split(",")) if len(parts) == 3 else frozenset({"manage_watcher"})
    )
    return ApiKey(parts[0], parts[1], privileges)


def sandbox_command(
    host: Annotated[
        str,
        typer.Option(metavar="HOST", help="Address to bind; loopback unless you say otherwise."),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            min=0, max=65535, metavar="PORT", help="Port to listen on (0 picks a free one)."
        ),
    ] = 9200,
    state: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="JSON state file (plus FILE.journal); without it state is in memory.",
        ),
    ] = None,
    es_version: Annotated[
        str, typer.Option(metavar="VERSION", help="Elasticsearch version to emulate (8.x or 9.x).")
    ] = "8.19.0",
    latency_ms: Annotated[
        float, typer.Option(metavar="MS", help="Latency added to every request, in ms.")
    ] = 0.0,
    jitter_ms: Annotated[
        float, typer.Option(metavar="MS", help="Random +/- jitter on the latency, in ms.")
    ] = 0.0,
    license: Annotated[
        str,
        typer.Option(metavar="MODE", help=f"Licence mode, one of {', '.join(sorted(LICENSES))}."),
    ] = "trial",
    api_key: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ID:KEY",
            help="Enable security with an API key ID:KEY[:PRIVILEGE,...] (repeatable).",
        ),
    ] = None,
    rate_429: Annotated[
        float, typer.Option(metavar="FRACTION", help="Fraction of Watcher requests answered 429.")
    ] = 0.0,
    rate_503: Annotated[
        float, typer.Option(metavar="FRACTION", help="Fraction of Watcher requests answered 503.")
    ] = 0.0,
    reset_rate: Annotated[
        float, typer.Option(metavar="FRACTION", help="Fraction of Watcher requests reset.")
    ] = 0.0,
    fail_write: Annotated[
        list[int] | None,
        typer.Option(metavar="N", help="Fail the Nth Watcher write with a 500 (repeatable)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(metavar="N", help="Seed for the fault dice.")] = None,
    tls_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Serve HTTPS, as Elasticsearch 8/9 do by default: the CA (ca.crt) and the "
            "server's certificate are made in this directory on first use and reused after; "
            "the CA's SHA-256 fingerprint is printed at start.",
        ),
    ] = None,
) -> None:
    """Run a local Elasticsearch Watcher API sandbox in the foreground (Ctrl-C stops it)."""
    if license not in LICENSES:
        raise typer.BadParameter(f"unknown licence {license!r}", param_hint="--license")
    if not _EMULATED.match(es_version):
        raise typer.BadParameter(
            f"{es_version!r}: the sandbox emulates Elasticsearch 8.x and 9.x "
            "(give a version like 8.19.0 or 9.1.0)",
            param_hint="--es-version",
        )
    from watchmgr.sandbox.server import serve_forever
    from watchmgr.sandbox.tls import TlsSetupError

    try:
        serve_forever(
            host,
            port,
            state,
            es_version,
            latency_ms,
            jitter_ms=jitter_ms,
            license=license,
            api_keys=tuple(_api_key(k) for k in api_key or ()),
            rate_429=rate_429,
            rate_503=rate_503,
            reset_rate=reset_rate,
            fail_writes=frozenset(fail_write or ()),
            seed=seed,
            tls_dir=tls_dir,
        )
    except (OSError, TlsSetupError) as err:
        sys.stderr.write(f"watchmgr sandbox: cannot start on {host}:{port}: {err}\n")
        raise typer.Exit(1) from err
