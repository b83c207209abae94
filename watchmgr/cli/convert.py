"""`render` and `validate`: rules converted as the options say, printed or checked."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from watchmgr.cli.errors import busy, fail, reporting
from watchmgr.cli.options import (
    CacheOpt,
    DialectOpt,
    EnvOpt,
    IdPrefixOpt,
    IdSchemeOpt,
    PathsArg,
    QueryTargetOpt,
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
    """The watch settings the options give (their values already checked by their options)."""
    from watchmgr.workflow import Choices

    return Choices(dialect, scheme, prefix)


def _refuse_ignored_options(
    fmt: str, out: Path | None, target: str | None, ignored: Mapping[str, str | None]
) -> None:
    """Refuse (usage error) an option this combination would ignore: --target without
    --format query, --out with it or with curl, and with another language than es-qs the
    options that set the watches (`ignored`, by option name: its value, None when not given)."""
    if target is not None and fmt != "query":
        fail(f"--target goes with --format query (not --format {fmt})", ExitCode.USAGE)
    if fmt in ("query", "curl") and out is not None:
        fail(
            f"--out writes one <id>.json body per watch (--format ndjson or json); --format {fmt} "
            "prints to stdout (redirect it to a file)",
            ExitCode.USAGE,
        )
    given = [name for name, value in ignored.items() if value is not None]
    if target not in (None, "es-qs") and given:
        verb = "goes" if len(given) == 1 else "go"
        fail(
            f"{', '.join(given)} {verb} with --target es-qs only: --target {target} converts the "
            "rules as written, without environment or watch settings",
            ExitCode.USAGE,
        )


def render(
    paths: PathsArg = None,
    env: EnvOpt = None,
    fmt: RenderFormatOpt = "ndjson",
    out: RenderOutOpt = None,
    target: QueryTargetOpt = None,
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

    settings = {
        "--env": env,
        "--dialect": dialect,
        "--id-scheme": id_scheme,
        "--id-prefix": id_prefix,
    }
    _refuse_ignored_options(fmt, out, target, settings)
    choices = _choices(dialect, id_scheme, id_prefix)
    if target is not None and target != "es-qs":
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
            sys.stdout.write(f"{_query_line(watch.body['metadata']['query'])}\n")
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
            sys.stdout.write(f"{_query_line(query)}\n")
    if failed:
        raise typer.Exit(int(ExitCode.ERROR))


def _query_line(query: str) -> str:
    """`query` on one line: a newline or carriage return in it (a regex's ``\\n`` or ``\\s``
    becomes one, as Lucene's regexes have no escape for them) written as ``\\n``, ``\\r``."""
    return query.replace("\n", "\\n").replace("\r", "\\r")


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
