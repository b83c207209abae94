"""The Typer app: option parsing and wiring only. Exit codes are decided here.

Heavy modules (pySigma, YAML, the Elasticsearch client) are imported inside the commands so
that ``watchmgr --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from watchmgr import __version__
from watchmgr.errors import ExitCode, WatchmgrError
from watchmgr.sandbox.cli import sandbox_command

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a rule, file, environment or cluster problem (one line each on "
    "stderr, path:line first); 2 usage error."
)

app = typer.Typer(
    name="watchmgr",
    help="Deploy Sigma rules as Elasticsearch Watcher watches, per environment.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"watchmgr {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Deploy Sigma rules as Elasticsearch Watcher watches, per environment."""


def _fail(message: str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    sys.stderr.write(f"watchmgr: {message}\n")
    raise typer.Exit(int(code))


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Turn domain errors into one line on stderr and an exit code; nothing else escapes."""
    try:
        yield
    except WatchmgrError as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.ERROR)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as err:  # a bug: say so in one line, the traceback only on request
        if os.environ.get("WATCHMGR_DEBUG"):
            raise
        _fail(
            f"internal error: {type(err).__name__}: {err} "
            "(please report it; WATCHMGR_DEBUG=1 shows the traceback)"
        )


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Rule files or directories (searched for *.yml and *.yaml). Default: rules/.",
        show_default=False,
    ),
]
DialectOpt = Annotated[
    str,
    typer.Option(
        help="Query dialect: 'sigmac' (sigmac 2020's text with its mistakes put right) or "
        "'sigmac-2020' (byte for byte, mistakes included, to adopt watches sigmac deployed).",
    ),
]
IdSchemeOpt = Annotated[
    str,
    typer.Option(
        "--id-scheme",
        help="Watch ids from the rule 'title' (sigmac's scheme) or its Sigma 'sigma-id'.",
    ),
]
IdPrefixOpt = Annotated[str, typer.Option("--id-prefix", help="Text put before every watch id.")]


def _settings(dialect: str, id_scheme: str, id_prefix: str) -> Callable[..., object]:
    from dataclasses import replace

    from watchmgr.query import DIALECTS
    from watchmgr.settings import DEFAULT_SETTINGS

    if dialect not in DIALECTS:
        _fail(f"unknown dialect {dialect!r} (use one of: {', '.join(DIALECTS)})", ExitCode.USAGE)
    if id_scheme not in ("title", "sigma-id"):
        _fail(f"unknown id scheme {id_scheme!r} (use 'title' or 'sigma-id')", ExitCode.USAGE)
    settings = replace(
        DEFAULT_SETTINGS,
        dialect=dialect,
        id_scheme=id_scheme,  # type: ignore[arg-type]
        id_prefix=id_prefix,
    )
    return lambda _rule: settings


def _paths(paths: list[Path] | None) -> list[Path]:
    return list(paths) if paths else [Path("rules")]


@app.command()
def render(
    paths: PathsArg = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="ndjson: one {id, source, body} line per watch, sorted by id; json: the same "
            "as one array; curl: a shell script that PUTs each watch.",
        ),
    ] = "ndjson",
    out: Annotated[
        Path | None,
        typer.Option(help="Write one <id>.json body per watch into this directory instead."),
    ] = None,
    dialect: DialectOpt = "sigmac",
    id_scheme: IdSchemeOpt = "title",
    id_prefix: IdPrefixOpt = "",
) -> None:
    """Convert Sigma rules into Watcher watches and print them.

    Every rule that converts is printed; each one that fails gets one 'path:line: message'
    line on stderr, and the exit code is then 1.
    """
    from watchmgr import output
    from watchmgr.convert import convert

    if fmt not in output.FORMATS:
        _fail(f"unknown format {fmt!r} (use one of: {', '.join(output.FORMATS)})", ExitCode.USAGE)
    settings_for = _settings(dialect, id_scheme, id_prefix)
    with _domain_errors():
        result = convert(_paths(paths), settings_for)  # type: ignore[arg-type]
        output.write_diagnostics(result.diagnostics, sys.stderr)
        if out is not None:
            written = output.write_watch_files(result.watches, out)
            sys.stderr.write(f"wrote {written} watches to {out}\n")
        else:
            output.write_watches(result.watches, fmt, sys.stdout)
    if result.errors:
        raise typer.Exit(int(ExitCode.ERROR))


@app.command()
def validate(
    paths: PathsArg = None,
    dialect: DialectOpt = "sigmac",
    id_scheme: IdSchemeOpt = "title",
    id_prefix: IdPrefixOpt = "",
) -> None:
    """Check Sigma rules: print every error and warning, exit 1 if there is any error."""
    from watchmgr import output
    from watchmgr.convert import convert

    settings_for = _settings(dialect, id_scheme, id_prefix)
    with _domain_errors():
        result = convert(_paths(paths), settings_for)  # type: ignore[arg-type]
        output.write_diagnostics(result.diagnostics, sys.stderr)
    sys.stderr.write(
        f"{result.rules} rules, {len(result.watches)} watches, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings\n"
    )
    if result.errors:
        raise typer.Exit(int(ExitCode.ERROR))


app.command("sandbox")(sandbox_command)


def main() -> None:
    """Console-script entry point."""
    app()
