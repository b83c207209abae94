"""The Typer app: option parsing and wiring only. Exit codes are decided here.

Heavy modules (pySigma, YAML, the Elasticsearch client) are imported inside the commands so
that ``watchmgr --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from watchmgr import __version__, plan_cli
from watchmgr.errors import Diagnostic, ExitCode, WatchmgrError
from watchmgr.sandbox.cli import sandbox_command

if TYPE_CHECKING:
    from watchmgr.config import Environment
    from watchmgr.convert import Conversion
    from watchmgr.rules import Rule
    from watchmgr.settings import WatchSettings

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a rule, file, environment or cluster problem (one line each on "
    "stderr, path:line first); 2 usage error, or with plan --detailed-exitcode: changes "
    "pending (usage errors are 64 there)."
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


RootOpt = Annotated[
    Path,
    typer.Option(
        help="The repository root, which holds rules/ and environments/.", show_default="."
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        help="Render as the environment environments/<ENV>.yaml says (its rules, mappings and "
        "watch settings). Without it: the seed's defaults.",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class _Job:
    """What to convert and how: the CLI options resolved, before any rule is read."""

    paths: list[Path]
    settings_for: Callable[[Rule], WatchSettings | None]
    prepare: Callable[[Rule], Rule] | None
    environment: Environment | None
    root: Path


def _job(
    paths: list[Path] | None, root: Path, env: str | None, dialect: str, scheme: str, prefix: str
) -> _Job:
    from dataclasses import replace

    from watchmgr.query import DIALECTS
    from watchmgr.settings import DEFAULT_SETTINGS

    if dialect not in DIALECTS:
        _fail(f"unknown dialect {dialect!r} (use one of: {', '.join(DIALECTS)})", ExitCode.USAGE)
    if scheme not in ("title", "sigma-id"):
        _fail(f"unknown id scheme {scheme!r} (use 'title' or 'sigma-id')", ExitCode.USAGE)
    if env is None:
        settings = replace(DEFAULT_SETTINGS, dialect=dialect, id_scheme=scheme, id_prefix=prefix)  # type: ignore[arg-type]
        chosen = list(paths) if paths else [root / "rules"]
        return _Job(chosen, lambda _rule: settings, None, None, root)
    from watchmgr.config import load_environment

    environment = load_environment(root, env)
    output_warnings(environment.warnings)

    chosen = list(paths) if paths else list(environment.rule_paths())
    return _Job(chosen, environment.settings_for, environment.prepare, environment, root)


def output_warnings(diagnostics: Iterable[Diagnostic]) -> None:
    from watchmgr import output

    output.write_diagnostics(diagnostics, sys.stderr)


def _convert(job: _Job) -> Conversion:
    from watchmgr.convert import convert

    result = convert(job.paths, job.settings_for, job.prepare, base=job.root)
    if job.environment is not None:
        unused = job.environment.unused_overrides(result.refs)
        result = replace_diagnostics(result, (*result.diagnostics, *unused))
    return result


def replace_diagnostics(result: Conversion, diagnostics: Iterable[Diagnostic]) -> Conversion:
    from dataclasses import replace

    return replace(result, diagnostics=tuple(diagnostics))


@app.command()
def render(
    paths: PathsArg = None,
    env: EnvOpt = None,
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
    root: RootOpt = Path("."),
) -> None:
    """Convert Sigma rules into Watcher watches and print them.

    Every rule that converts is printed; each one that fails gets one 'path:line: message'
    line on stderr, and the exit code is then 1.
    """
    from watchmgr import output

    if fmt not in output.FORMATS:
        _fail(f"unknown format {fmt!r} (use one of: {', '.join(output.FORMATS)})", ExitCode.USAGE)
    with _domain_errors():
        result = _convert(_job(paths, root, env, dialect, id_scheme, id_prefix))
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
    env: EnvOpt = None,
    dialect: DialectOpt = "sigmac",
    id_scheme: IdSchemeOpt = "title",
    id_prefix: IdPrefixOpt = "",
    root: RootOpt = Path("."),
) -> None:
    """Check Sigma rules: print every error and warning, exit 1 if there is any error."""
    from watchmgr import output

    with _domain_errors():
        result = _convert(_job(paths, root, env, dialect, id_scheme, id_prefix))
        output.write_diagnostics(result.diagnostics, sys.stderr)
    sys.stderr.write(
        f"{result.rules} rules, {len(result.watches)} watches, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings\n"
    )
    if result.errors:
        raise typer.Exit(int(ExitCode.ERROR))


@app.command("environments")
def environments(root: RootOpt = Path(".")) -> None:
    """List the environments (environments/*.yaml) and where each one deploys."""
    from watchmgr.config import list_environments

    with _domain_errors():
        found = list_environments(root)
    if not found:
        _fail(f"no environments in {root / 'environments'} (add a <name>.yaml there)")
    width = max(len(info.name) for info in found)
    for info in found:
        sys.stdout.write(f"{info.name:<{width}}  {info.target}\n")


config_app = typer.Typer(help="Inspect environment configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    env: Annotated[str, typer.Option("--env", "-e", help="The environment to show.")],
    debug: Annotated[
        bool, typer.Option(help="Also show the file and line each setting comes from.")
    ] = False,
    root: RootOpt = Path("."),
) -> None:
    """Print an environment as watchmgr resolves it: extends merged, defaults filled in.

    Secrets are never printed: each shows as the variable that holds it and ***.
    """
    from watchmgr.config import dump_yaml, load_environment, resolved_config

    with _domain_errors():
        environment = load_environment(root, env)
        output_warnings(environment.warnings)
        sys.stdout.write(dump_yaml(resolved_config(environment, debug=debug)))


app.command("plan", cls=plan_cli.DetailedExitCodeCommand)(plan_cli.plan_command)
app.command("apply")(plan_cli.apply_command)
app.command("sandbox")(sandbox_command)


def main() -> None:
    """Console-script entry point."""
    app()
