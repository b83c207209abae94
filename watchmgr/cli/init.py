"""`watchmgr init`: a new rules repository, ready for `validate`, `apply --env local` and CI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchmgr.cli.errors import reporting


def init(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="Where to make the repository (made if missing)."),
    ] = Path("."),
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite files that exist already."),
    ] = False,
) -> None:
    """Make a rules repository: rules/ with an example rule, environments/ (local on the
    embedded sandbox, dev, staging and prod as examples), the GitHub workflows that plan pull
    requests, apply what was reviewed and report drift, and a README saying how to set it up.

    Refuses to overwrite any file unless --force. Exit codes: 0 written; 1 a file in the way or
    not writable; 2 usage error.
    """
    from watchmgr import scaffold
    from watchmgr.output import messages

    with reporting():
        origin = scaffold.installed_from()
        written = scaffold.write(directory, force=force, origin=origin)
    messages.note(f"wrote {len(written)} files to {directory}; next, in it:")
    messages.note("  watchmgr validate && watchmgr apply --env local --yes")
    if not origin.portable:
        from watchmgr.errors import Diagnostic, SourceLocation

        where = SourceLocation(str(directory / ".github/requirements.txt"), None)
        message = (
            f"'{origin.line}' installs only on this machine; write where CI can get watchmgr "
            "(a git URL at a commit, an index version)"
        )
        messages.write([Diagnostic(where, message, "warning")])
