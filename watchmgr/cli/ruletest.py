"""`test` and `check`: rules run against their test events, watches against field mappings."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from watchmgr.cli.errors import fail, reporting
from watchmgr.cli.options import (
    CacheOpt,
    CheckEnvOpt,
    CheckFormatOpt,
    DialectOpt,
    PathsArg,
    RootOpt,
    TestEnvOpt,
    TestFormatOpt,
    TestsRootOpt,
    tuning,
)
from watchmgr.errors import Diagnostics, ExitCode, of_severity


def test_command(
    paths: PathsArg = None,
    env: TestEnvOpt = None,
    tests_root: TestsRootOpt = None,
    fmt: TestFormatOpt = "text",
    dialect: DialectOpt = None,
    root: RootOpt = Path("."),
    cache: CacheOpt = True,
) -> None:
    """Run each rule's tests: index its test events and run its watch's own search (time
    range lifted) over them.

    Tests are SigmaHQ's regression tests (the rule's regression_tests_path) and the native
    <rule>.tests.yml beside a rule. Per rule: fired or not against what was expected, the
    query, and how many events hold each field it names. Exit 1 when any test fails.
    """
    from watchmgr import workflow
    from watchmgr.cli.convert import _choices
    from watchmgr.cli.local import test_cluster
    from watchmgr.output import messages
    from watchmgr.output import ruletest as output

    if tests_root is not None and not tests_root.is_dir():
        fail(f"--tests-root {tests_root}: no such directory", ExitCode.USAGE)
    choices = _choices(dialect, None, None)
    report = Diagnostics()
    with reporting(report):
        run = workflow.test_rules(
            root,
            paths or [],
            env,
            choices,
            report,
            test_cluster,
            tests_root=tests_root,
            tuning=tuning(cache),
        )
        errors = of_severity(report, "error")
        messages.write(report)
        output.write_run(run, fmt, sys.stdout)
    if not run.results and not errors:
        messages.note("no rule has tests (regression_tests_path, or <rule>.tests.yml beside it)")
    if errors or not run.passed:
        raise typer.Exit(int(ExitCode.ERROR))


def check_command(
    env: CheckEnvOpt,
    root: RootOpt = Path("."),
    cache: CacheOpt = True,
    fmt: CheckFormatOpt = "text",
) -> None:
    """Check every watch of an environment against the field mappings of the indices it
    searches: a field in none of them, a wildcard or regex on a text field, a value longer
    than a keyword field's ignore_above. Warnings only; exit 1 on an error.
    """
    from watchmgr import workflow
    from watchmgr.cli.local import connector
    from watchmgr.output import documents, messages

    report = Diagnostics()
    with reporting(report):
        checked = workflow.check_mappings(root, env, connector(), report, tuning(cache))
        errors = of_severity(report, "error")
        warnings = of_severity(report, "warning")
        messages.write(report)
    messages.note(f"{checked.watches} watches checked, {checked.warned} with warnings")
    if fmt == "json" and not errors:
        documents.write(documents.mapping_check(env, checked.watches, checked.warned, warnings))
    if errors:
        raise typer.Exit(int(ExitCode.ERROR))
