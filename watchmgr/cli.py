"""The Typer app: option parsing and wiring only. Exit codes are decided here.

Heavy modules (pySigma, YAML, the Elasticsearch client) are imported inside the commands so
that ``watchmgr --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from watchmgr import __version__, plan_cli
from watchmgr.cli_errors import domain_errors, fail
from watchmgr.errors import Diagnostic, ExitCode
from watchmgr.sandbox.cli import sandbox_command

if TYPE_CHECKING:
    from watchmgr.cache import ConversionCache
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
    cls=plan_cli.DetailedExitCodeGroup,
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


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Rule files or directories (searched for *.yml and *.yaml). Default: rules/.",
        show_default=False,
    ),
]
DialectOpt = Annotated[
    str | None,
    typer.Option(
        show_default="sigmac",
        help="Query dialect: 'sigmac' (sigmac 2020's text with its mistakes put right) or "
        "'sigmac-2020' (byte for byte, mistakes included, to adopt watches sigmac deployed).",
    ),
]
IdSchemeOpt = Annotated[
    str | None,
    typer.Option(
        "--id-scheme",
        show_default="title",
        help="Watch ids from the rule 'title' (sigmac's scheme) or its Sigma 'sigma-id'.",
    ),
]
IdPrefixOpt = Annotated[
    str | None,
    typer.Option("--id-prefix", help="Text put before every watch id.", show_default=False),
]
CacheOpt = Annotated[
    bool,
    typer.Option(
        help="Reuse what earlier runs converted (.watchmgr/cache/; a file, setting or version "
        "change converts again). Also off with WATCHMGR_NO_CACHE=1.",
    ),
]


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
    cache: ConversionCache | None


def _job(
    paths: list[Path] | None,
    root: Path,
    env: str | None,
    dialect: str | None,
    scheme: str | None,
    prefix: str | None,
    use_cache: bool,
) -> _Job:
    """The conversion the options ask for. Options given on the command line override the
    environment's (or the seed's) watch settings."""
    from dataclasses import replace
    from typing import get_args

    from watchmgr.cache import cache_for
    from watchmgr.query import DIALECTS
    from watchmgr.settings import DEFAULT_SETTINGS, IdScheme

    if dialect is not None and dialect not in DIALECTS:
        fail(f"unknown dialect {dialect!r} (use one of: {', '.join(DIALECTS)})", ExitCode.USAGE)
    if scheme is not None and scheme not in get_args(IdScheme):
        fail(f"unknown id scheme {scheme!r} (use 'title' or 'sigma-id')", ExitCode.USAGE)
    given: dict[str, Any] = {
        k: v
        for k, v in (("dialect", dialect), ("id_scheme", scheme), ("id_prefix", prefix))
        if v is not None
    }

    def adjusted(settings: WatchSettings | None) -> WatchSettings | None:
        return replace(settings, **given) if settings is not None and given else settings

    if env is None:
        settings = adjusted(DEFAULT_SETTINGS)
        chosen = list(paths) if paths else [root / "rules"]
        cache = cache_for(root, repr(settings)) if use_cache else None
        return _Job(chosen, lambda _rule: settings, None, None, root, cache)
    from watchmgr.config import load_environment

    environment = load_environment(root, env)
    output_warnings(environment.warnings)
    chosen = list(paths) if paths else list(environment.rule_paths())
    cache = cache_for(root, f"{environment.fingerprint()} {given}") if use_cache else None

    def settings_for(rule: Rule) -> WatchSettings | None:
        return adjusted(environment.settings_for(rule))

    return _Job(chosen, settings_for, environment.prepare, environment, root, cache)


def output_warnings(diagnostics: Iterable[Diagnostic]) -> None:
    from watchmgr import output

    output.write_diagnostics(diagnostics, sys.stderr)


def _convert(job: _Job) -> Conversion:
    """Convert what `job` names and write every diagnostic to stderr."""
    from dataclasses import replace

    from watchmgr import output
    from watchmgr.convert import convert

    result = convert(job.paths, job.settings_for, job.prepare, base=job.root, cache=job.cache)
    if job.environment is not None:
        # An override that matches no rule is most likely a typo in its id or glob.
        unused = job.environment.unused_overrides(result.refs)
        result = replace(result, diagnostics=(*result.diagnostics, *unused))
    output.write_diagnostics(result.diagnostics, sys.stderr)
    return result


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
    from watchmgr import output

    if fmt not in output.FORMATS:
        fail(f"unknown format {fmt!r} (use one of: {', '.join(output.FORMATS)})", ExitCode.USAGE)
    with domain_errors():
        result = _convert(_job(paths, root, env, dialect, id_scheme, id_prefix, cache))
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
    dialect: DialectOpt = None,
    id_scheme: IdSchemeOpt = None,
    id_prefix: IdPrefixOpt = None,
    root: RootOpt = Path("."),
    cache: CacheOpt = True,
) -> None:
    """Check Sigma rules: print every error and warning, exit 1 if there is any error."""
    with domain_errors():
        result = _convert(_job(paths, root, env, dialect, id_scheme, id_prefix, cache))
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

    with domain_errors():
        found = list_environments(root)
    if not found:
        fail(f"no environments in {root / 'environments'} (add a <name>.yaml there)")
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

    with domain_errors():
        environment = load_environment(root, env)
        output_warnings(environment.warnings)
        sys.stdout.write(dump_yaml(resolved_config(environment, debug=debug)))


app.command("plan")(plan_cli.plan_command)
app.command("apply")(plan_cli.apply_command)
app.command("sandbox")(sandbox_command)


def main() -> None:
    """Console-script entry point."""
    app()
