"""Every command's options, written once (with their help) as `Annotated` aliases, the one
``--format`` option over the sets in `output.formats`, and the environment variables that tune
every command, read here at the edge and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from watchmgr.output import formats

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


class UnknownValue(typer.BadParameter):
    """A value outside its option's set, said as watchmgr says it (``unknown format 'xml' (use
    one of: text, json)``) rather than as Click's "Invalid value for ...". A usage error."""

    def format_message(self) -> str:
        return self.message


def one_of(what: str, values: Sequence[str]) -> Callable[[str | None], str | None]:
    """The check of an option whose value is one of `values` (None: not given)."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in values:
            raise UnknownValue(f"unknown {what} {value!r} (use one of: {', '.join(values)})")
        return value

    return check


#: The option sets below are written here, not imported, so that ``watchmgr --help`` loads no
#: conversion code; ``tests/cli/test_option_sets.py`` checks each against its owner.
#: ``--dialect``: `watchmgr.query.DIALECTS`.
DIALECTS = ("sigma", "sigmac", "sigmac-2020")
#: ``--id-scheme``: `watchmgr.settings.IdScheme`.
ID_SCHEMES = ("title", "sigma-id")
#: ``render --target``: `watchmgr.workflow.QUERY_TARGETS`.
QUERY_TARGETS = ("es-qs", "graylog", "splunk", "logpoint")

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
        callback=one_of("dialect", DIALECTS),
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
        callback=one_of("id scheme", ID_SCHEMES),
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


def format_option(values: Sequence[str], help: str) -> Any:
    """``--format`` / ``-f``, one of `values` (a set of `output.formats`), with `help`."""
    return typer.Option(
        "--format", "-f", metavar="FORMAT", help=help, callback=one_of("format", values)
    )


EnvsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="Environment to plan (a file in environments/). Repeat it for several; "
        "without it every environment is planned.",
        show_default=False,
    ),
]

PlanRootOpt = Annotated[
    Path,
    typer.Option(
        "--root",
        metavar="DIR",
        help="The repository root, which holds environments/ and the rule paths.",
        show_default=".",
    ),
]

PlanFormatOpt = Annotated[
    str,
    format_option(
        formats.PLAN,
        "text: tables and field diffs for people; json: the versioned plan document; "
        "markdown: for a pull-request comment, diffs folded away.",
    ),
]

DetailedOpt = Annotated[
    bool,
    typer.Option(
        "--detailed-exitcode",
        help="Exit 0 when nothing would change, 2 when changes are pending, and any other "
        "code (never 2) on errors, usage errors included.",
    ),
]

PlanOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="Also save the plan as JSON to this file, for 'watchmgr apply --env E FILE'.",
    ),
]

TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        metavar="TARGET",
        help="Limit the plan to some rules and their watches: a rule file, folder or glob, a "
        "watch id or a Sigma rule id. Repeat it for several. Deletes then reach only the "
        "targeted watches.",
        show_default=False,
    ),
]

ApplyFormatOpt = Annotated[
    str,
    format_option(
        formats.TEXT_OR_JSON,
        "text: the plan, then a table of results; json: the results as a versioned "
        "document on stdout (the plan goes to stderr for people).",
    ),
]

PlanAdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Show watches at the rules' ids that watchmgr does not own as adoptions (what "
        "'apply --adopt' does) instead of conflicts.",
    ),
]

ApplyEnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="The environment to apply (a file in environments/).",
        show_default=False,
    ),
]

PlanFileArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="PLANFILE",
        help="A plan saved by 'watchmgr plan --out'. Applied exactly as saved, and refused "
        "if any watch it touches changed since. Without it a fresh plan is made.",
        show_default=False,
    ),
]

YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Apply without asking. Required when stdin is not a terminal (CI).",
    ),
]

ParallelismOpt = Annotated[
    int,
    typer.Option(
        "--parallelism", metavar="N", help="How many watches to write at the same time (1 to 64)."
    ),
]

MassDeleteOpt = Annotated[
    bool,
    typer.Option(
        "--allow-mass-delete",
        help="Apply a plan that deletes more than 5 watches and more than 20 % of the "
        "environment's watches, or all of them.",
    ),
]

AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over watches at the rules' ids that watchmgr does not own (for example "
        "ones sigmac deployed) instead of refusing them.",
    ),
]

RenderFormatOpt = Annotated[
    str,
    format_option(
        formats.RENDER,
        "ndjson: one {id, source, body} line per watch, sorted by id; json: the same "
        "as one array; curl: a shell script that PUTs each watch; query: each rule's bare "
        "query, one a line (see --target), a newline or carriage return in it written as the "
        "escape \\n or \\r so that it stays on its line.",
    ),
]

QueryTargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        "-t",
        metavar="LANGUAGE",
        show_default="es-qs",
        callback=one_of("--target", QUERY_TARGETS),
        help="Only with --format query: es-qs (the watch's own query_string); graylog (the "
        "text sigmac's graylog backend printed: quoted values, no .keyword); splunk or logpoint "
        "through pySigma's backends (pip install 'watchmgr[splunk]' or 'watchmgr[logpoint]'). "
        "The last three convert the rules as written: no --env, --dialect or --id-* with them.",
    ),
]

RenderOutOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="Write one <id>.json body per watch into this folder instead. watchmgr owns the "
        "folder: the files it wrote before for watches that are gone are removed (others are "
        "left alone).",
        show_default=False,
    ),
]

ValidateFormatOpt = Annotated[
    str,
    format_option(
        formats.TEXT_OR_JSON,
        "text: the counts on stderr; json: a versioned document on stdout with the counts "
        "and every error and warning as {path, line, message}.",
    ),
]

StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Fail (exit 1) on warnings too, as on errors."),
]

InspectEnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="The environment (a file in environments/).",
        show_default=False,
    ),
]

StatusFormatOpt = Annotated[
    str,
    format_option(
        formats.TEXT_OR_JSON,
        "text: a table, worst first; json: the versioned status document.",
    ),
]

#: ``status --fail-on``: the healths that fail the command.
FAIL_ON = {"unhealthy": ("failing",), "inactive": ("failing", "inactive")}

FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="HEALTH",
        help="Exit 1 when a watch is 'unhealthy' (its last run or an action failed), or "
        "'inactive' (that, or deactivated). For CI and monitoring.",
        show_default=False,
        callback=one_of("--fail-on", tuple(FAIL_ON)),
    ),
]

AllOpt = Annotated[
    bool,
    typer.Option("--all", help="Every watch on the cluster, not only the environment's own."),
]

ExportOutOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="Write one <id>.json body per watch into this folder (watchmgr owns it, as with "
        "render --out). Without it: one {id, active, body} JSON line per watch on stdout.",
        show_default=False,
    ),
]

TestEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="Convert as environments/<ENV>.yaml says and index the events in a scratch index "
        "on its cluster (created for the run, deleted after it). Without it: the seed's "
        "settings and an embedded sandbox.",
        show_default=False,
    ),
]

TestsRootOpt = Annotated[
    Path | None,
    typer.Option(
        "--tests-root",
        metavar="DIR",
        help="The folder that holds SigmaHQ's regression_data/ (a rule's "
        "regression_tests_path is relative to it). Default: the folders above each rule.",
        show_default=False,
    ),
]

TestFormatOpt = Annotated[
    str,
    format_option(formats.TEXT_OR_JSON, "text: per rule, for people; json: versioned."),
]

CheckEnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="The environment whose watches and cluster to check.",
        show_default=False,
    ),
]

UnlockEnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="The environment whose lock to release (a file in environments/).",
        show_default=False,
    ),
]

UnlockYesOpt = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Release without asking. Required when stdin is not a terminal (CI).",
    ),
]

UnlockRootOpt = Annotated[
    Path,
    typer.Option("--root", metavar="DIR", help="The repository root, which holds environments/."),
]

MarkdownArg = Annotated[
    Path,
    typer.Argument(
        help="The Markdown of one environment's plan ('watchmgr plan --env E --format markdown').",
        metavar="MARKDOWN",
        show_default=False,
    ),
]

RepoOpt = Annotated[
    str | None,
    typer.Option(
        "--repo",
        metavar="OWNER/NAME",
        help="The repository as owner/name. Default: $GITHUB_REPOSITORY, as Actions sets it.",
        show_default=False,
    ),
]

AuthorOpt = Annotated[
    str,
    typer.Option(
        "--author",
        metavar="LOGIN",
        help="Whose comments and issues are watchmgr's: the account GITHUB_TOKEN belongs to.",
    ),
]

PrOpt = Annotated[
    int | None,
    typer.Option(
        "--pr", metavar="NUMBER", help="The pull request's number.", show_default=False, min=1
    ),
]
MappingCheckOpt = Annotated[
    bool,
    typer.Option(
        "--mapping-check/--no-mapping-check",
        help="Warn per watch whose query does not fit the field mappings of the indices it "
        "searches, as 'watchmgr check' does (reads the mappings once per set of indices; "
        "skipped, with a note, when the key may not read them).",
    ),
]

EnvironmentsFormatOpt = Annotated[
    str,
    format_option(
        formats.TEXT_OR_JSON,
        "text: a line per environment; json: a versioned document with each one's "
        "name, file and target.",
    ),
]

ConfigFormatOpt = Annotated[
    str,
    format_option(
        formats.CONFIG,
        "yaml: as the environment files are written; json: a versioned document "
        "with the same settings under 'environment'.",
    ),
]

PipelinesFormatOpt = Annotated[
    str,
    format_option(formats.TEXT_OR_JSON, "text: a line per pipeline; json: a versioned document."),
]

CheckFormatOpt = Annotated[
    str,
    format_option(
        formats.TEXT_OR_JSON,
        "text: the warnings on stderr and a count; json: also a versioned document with the "
        "counts and every warning.",
    ),
]

ConfigEnvOpt = Annotated[
    str, typer.Option("--env", "-e", metavar="ENV", help="The environment to show.")
]

DebugOpt = Annotated[
    bool, typer.Option(help="Also show the file and line each setting comes from.")
]

PlanFileToCheckArg = Annotated[
    Path,
    typer.Argument(
        help="The fresh plan, saved by 'watchmgr plan --env E --out PLANFILE'.",
        metavar="PLANFILE",
        show_default=False,
    ),
]

ReviewedEnvOpt = Annotated[
    str,
    typer.Option("--env", "-e", metavar="ENV", help="The environment.", show_default=False),
]

CommitOpt = Annotated[
    str | None,
    typer.Option(
        "--commit",
        metavar="SHA",
        help="A commit on the main branch: the pull request that merged it is checked.",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        from watchmgr import __version__

        typer.echo(f"watchmgr {__version__}")
        raise typer.Exit()


VersionOpt = Annotated[
    bool,
    typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
]

QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only data and errors: no warnings, no notes."),
]

VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also say how long the command took, and show the traceback of an internal error.",
    ),
]

NoColorOpt = Annotated[
    bool,
    typer.Option(
        "--no-color",
        help="Plain text, even on a terminal: no colours and no bold (NO_COLOR=1 in the "
        "environment drops the colours only, as no-color.org asks).",
    ),
]

CommentPrOpt = Annotated[
    int, typer.Option("--pr", metavar="NUMBER", help="The pull request's number.", min=1)
]

PlanExitCodeOpt = Annotated[
    int,
    typer.Option(
        "--plan-exit-code",
        metavar="CODE",
        help="The exit code of 'watchmgr plan --detailed-exitcode': 2 (drift) opens or "
        "updates the environment's drift issue, 0 (none) closes it.",
        show_default=False,
    ),
]
