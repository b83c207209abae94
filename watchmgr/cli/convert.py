"""`render` and `validate`: rules converted as the options say, printed or checked."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchmgr.cli.errors import busy, fail, reporting
from watchmgr.cli.options import (
    CacheOpt,
    DialectOpt,
    EnvOpt,
    IdPrefixOpt,
    IdSchemeOpt,
    PathsArg,
    RenderFormatOpt,
    RenderOutOpt,
    RootOpt,
    StrictOpt,
    ValidateFormatOpt,
    tuning,
)
from watchmgr.errors import Diagnostics, ExitCode

if TYPE_CHECKING:
    from watchmgr.config import Environment
    from watchmgr.convert import Conversion
    from watchmgr.output.watches import CurlTarget
    from watchmgr.watch import Watch
    from watchmgr.workflow import Choices, Tuning


def _choices(dialect: str | None, scheme: str | None, prefix: str | None) -> Choices:
    """The watch settings the options give, refused (usage error) when unknown."""
    from typing import get_args

    from watchmgr.query import DIALECTS
    from watchmgr.settings import IdScheme
    from watchmgr.workflow import Choices

    if dialect is not None and dialect not in DIALECTS:
        fail(f"unknown dialect {dialect!r} (use one of: {', '.join(DIALECTS)})", ExitCode.USAGE)
    if scheme is not None and scheme not in get_args(IdScheme):
        fail(f"unknown id scheme {scheme!r} (use 'title' or 'sigma-id')", ExitCode.USAGE)
    return Choices(dialect, scheme, prefix)


QueryTargetOpt = Annotated[
    str,
    typer.Option(
        "--target",
        "-t",
        metavar="LANGUAGE",
        help="With --format query: es-qs (the watch's own query_string); graylog (the text "
        "sigmac's graylog backend printed: quoted values, no .keyword); splunk or logpoint "
        "through pySigma's backends (pip install 'watchmgr[splunk]' or 'watchmgr[logpoint]').",
    ),
]


def render(
    paths: PathsArg = None,
    env: EnvOpt = None,
    fmt: RenderFormatOpt = "ndjson",
    out: RenderOutOpt = None,
    target: QueryTargetOpt = "es-qs",
    dialect: DialectOpt = None,
    id_scheme: IdSchemeOpt = None,
    id_prefix: IdPrefixOpt = None,
    root: RootOpt = Path("."),
    cache: CacheOpt = True,
) -> None:
    """Convert Sigma rules into Watcher watches and print them.

    Every rule that converts is printed; each one that fails gets one 'path:line: message'
    line on stderr, and the exit code is then 1.
    """
    from watchmgr import workflow
    from watchmgr.output import messages

    if target not in workflow.QUERY_TARGETS:
        known = ", ".join(workflow.QUERY_TARGETS)
        fail(f"unknown --target {target!r} (use one of: {known})", ExitCode.USAGE)
    choices = _choices(dialect, id_scheme, id_prefix)
    if fmt == "query" and target != "es-qs":
        _backend_queries(root, paths or [], target)
        return
    report = Diagnostics()
    with reporting(report):
        environment = workflow.environment(root, env, report) if env is not None else None
        with busy("converting the rules", fmt) as step:
            tuned = tuning(cache, progress=step)
            result = _convert(root, paths or [], environment, choices, report, tuned)
        messages.write(report)
        _write(result.watches, fmt, out, environment)
    if result.errors:
        raise typer.Exit(int(ExitCode.ERROR))


def _convert(
    root: Path,
    paths: list[Path],
    env: Environment | None,
    choices: Choices,
    report: Diagnostics,
    tuned: Tuning,
) -> Conversion:
    """The rules converted as `env` says, or (None) with the seed's settings."""
    from watchmgr import workflow

    if env is None:
        return workflow.convert_rules(root, paths, None, choices, report, tuning=tuned)
    return workflow.convert_environment(env, paths, choices, report, tuning=tuned)


def _write(found: Sequence[Watch], fmt: str, out: Path | None, env: Environment | None) -> None:
    """The watches as `render` prints them: bare queries, files in `out`, or a stream."""
    from watchmgr.output import messages, watches

    if fmt == "query":
        for watch in found:
            sys.stdout.write(f"{watch.body['metadata']['query']}\n")
    elif out is not None:
        done = watches.write_watch_files(found, out)
        gone = f", removed {len(done.removed)} of deleted rules" if done.removed else ""
        messages.note(f"wrote {messages.plural(done.written, 'watch')} to {out}{gone}")
    else:
        curl_to = _curl_target(env) if fmt == "curl" and env is not None else watches.LOCAL
        watches.write_watches(found, fmt, sys.stdout, curl_to)


def _backend_queries(root: Path, paths: list[Path], target: str) -> None:
    from watchmgr import workflow

    report = Diagnostics()
    with reporting(report):
        found = workflow.backend_queries(root, paths, target, report)
        failed = any(d.severity == "error" for d in report)
        for _path, query in found:
            sys.stdout.write(f"{query}\n")
    if failed:
        raise typer.Exit(int(ExitCode.ERROR))


def _curl_target(env: Environment) -> CurlTarget:
    """Where `env`'s curl script PUTs: its cluster, with credentials from the variables it names
    (a sandbox environment: the seed's localhost:9200, where ``watchmgr sandbox`` listens)."""
    from watchmgr import workflow
    from watchmgr.config import ElasticsearchTarget
    from watchmgr.output.watches import LOCAL, CurlTarget

    url = workflow.endpoint(env)
    target = env.target
    if url is None or not isinstance(target, ElasticsearchTarget):
        return LOCAL
    notes = [f"PUT the watches of environment {env.name!r} ({env.path}) into {url}."]
    if target.ca_certs is not None:
        notes.append("Run it from the repository root: the CA file's path is relative to it.")
    if target.ca_certs_env is not None or target.ssl_assert_fingerprint is not None:
        notes.append(
            "curl cannot take ca_certs_env or ssl_assert_fingerprint: give it the CA with "
            "--cacert, or trust it system-wide."
        )
    auth = target.auth
    return CurlTarget(
        url=url,
        auth=auth.method if auth is not None else None,
        variables=tuple(name for _, name, _ in auth.variables) if auth is not None else (),
        ca_certs=target.ca_certs,
        insecure=not target.verify_certs,
        notes=tuple(notes),
    )


def validate(
    paths: PathsArg = None,
    env: EnvOpt = None,
    fmt: ValidateFormatOpt = "text",
    strict: StrictOpt = False,
    dialect: DialectOpt = None,
    id_scheme: IdSchemeOpt = None,
    id_prefix: IdPrefixOpt = None,
    root: RootOpt = Path("."),
    cache: CacheOpt = True,
) -> None:
    """Check Sigma rules: print every error and warning, exit 1 if there is any error.

    With --strict, a warning fails the check as an error does.
    """
    choices = _choices(dialect, id_scheme, id_prefix)
    from watchmgr import workflow
    from watchmgr.output import documents, messages

    report = Diagnostics()
    with reporting(report), busy("converting the rules", fmt) as step:
        result = workflow.convert_rules(
            root, paths or [], env, choices, report, tuning=tuning(cache, progress=step)
        )
    documents.write_validation(result, fmt, strict)
    if result.errors or (strict and result.warnings):
        if not result.errors:
            messages.error(
                f"{messages.plural(len(result.warnings), 'warning')} and --strict: "
                "fix them, or validate without --strict"
            )
        raise typer.Exit(int(ExitCode.ERROR))
