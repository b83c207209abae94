"""`render` and `validate`: rules converted as the options say, printed or checked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import (
    CacheOpt,
    DialectOpt,
    EnvOpt,
    IdPrefixOpt,
    IdSchemeOpt,
    PathsArg,
    RootOpt,
    tuning,
)
from watchmgr.errors import Diagnostics, ExitCode

if TYPE_CHECKING:
    from watchmgr.workflow import Choices

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="ndjson: one {id, source, body} line per watch, sorted by id; json: the same "
        "as one array; curl: a shell script that PUTs each watch.",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(help="Write one <id>.json body per watch into this directory instead."),
]


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


def render(
    paths: PathsArg = None,
    env: EnvOpt = None,
    fmt: FormatOpt = "ndjson",
    out: OutOpt = None,
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
    from watchmgr.output import messages, watches

    if fmt not in watches.FORMATS:
        fail(f"unknown format {fmt!r} (use one of: {', '.join(watches.FORMATS)})", ExitCode.USAGE)
    choices = _choices(dialect, id_scheme, id_prefix)

    report = Diagnostics()
    with reporting(report):
        result = workflow.convert_rules(
            root, paths or [], env, choices, report, tuning=tuning(cache)
        )
        messages.write(report)
        if out is not None:
            written = watches.write_watch_files(result.watches, out)
            messages.note(f"wrote {written} watches to {out}")
        else:
            watches.write_watches(result.watches, fmt, sys.stdout)
    if result.errors:
        raise typer.Exit(int(ExitCode.ERROR))


def validate(
    paths: PathsArg = None,
    env: EnvOpt = None,
    dialect: DialectOpt = None,
    id_scheme: IdSchemeOpt = None,
    id_prefix: IdPrefixOpt = None,
    root: RootOpt = Path("."),
    cache: CacheOpt = True,
) -> None:
    """Check Sigma rules: print every error and warning, exit 1 if there is any error."""
    choices = _choices(dialect, id_scheme, id_prefix)
    from watchmgr import workflow
    from watchmgr.output import messages

    report = Diagnostics()
    with reporting(report):
        result = workflow.convert_rules(
            root, paths or [], env, choices, report, tuning=tuning(cache)
        )
    messages.note(
        f"{result.rules} rules, {len(result.watches)} watches, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    if result.errors:
        raise typer.Exit(int(ExitCode.ERROR))
