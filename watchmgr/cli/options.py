"""Options more than one command takes, written once (with their help)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
