"""Options more than one command takes, written once (with their help), and the environment
variables that tune every command, read here at the edge and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from watchmgr.workflow import Tuning

#: Set (to anything but the empty string): convert without the cache, as --no-cache does.
NO_CACHE_VARIABLE = "WATCHMGR_NO_CACHE"
#: Digits: convert in that many worker processes (1: in the command's own process).
JOBS_VARIABLE = "WATCHMGR_JOBS"


def tuning(
    cache: bool = True,
    environ: Mapping[str, str] = os.environ,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Tuning:
    """How the command's conversion runs: `cache` (from --cache/--no-cache) unless
    WATCHMGR_NO_CACHE is set, in WATCHMGR_JOBS worker processes if it gives a number, telling
    `progress` (rule files done, in all)."""
    from watchmgr.workflow import Tuning

    jobs = environ.get(JOBS_VARIABLE, "")
    return Tuning(
        cache=cache and not environ.get(NO_CACHE_VARIABLE),
        jobs=int(jobs) if jobs.isdigit() else None,
        progress=progress,
    )


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="PATH",
        help="Rule files or directories (searched for *.yml and *.yaml). Default: rules/.",
        show_default=False,
    ),
]
DialectOpt = Annotated[
    str | None,
    typer.Option(
        metavar="DIALECT",
        show_default="sigma",
        help="Query dialect: 'sigma' (what the rule says: case-insensitive, whole values), "
        "'sigmac' (sigmac 2020's text with its mistakes put right) or 'sigmac-2020' (byte for "
        "byte, mistakes included, to adopt watches sigmac deployed).",
    ),
]
IdSchemeOpt = Annotated[
    str | None,
    typer.Option(
        "--id-scheme",
        metavar="SCHEME",
        show_default="title",
        help="Watch ids from the rule 'title' (sigmac's scheme) or its Sigma 'sigma-id'.",
    ),
]
IdPrefixOpt = Annotated[
    str | None,
    typer.Option(
        "--id-prefix", metavar="PREFIX", help="Text put before every watch id.", show_default=False
    ),
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
        metavar="DIR",
        help="The repository root, which holds rules/ and environments/.",
        show_default=".",
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="Render as the environment environments/<ENV>.yaml says (its rules, mappings and "
        "watch settings). Without it: the seed's defaults.",
        show_default=False,
    ),
]
