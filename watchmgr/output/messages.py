"""The one sink for messages: every error, warning and note leaves watchmgr here, on stderr.

A diagnostic is one line, `place: message`, `place: warning: message` for a warning, where the
place is `path:line` for a problem in an input and `watchmgr` for one about the command as a
whole (`errors.COMMAND`). A note (what was written where, a count) is a line of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from watchmgr.errors import COMMAND, Diagnostic, Diagnostics


class Settings:
    """How much the sink says and whether output is coloured: set once, by the global options
    (``-q``, ``-v``, ``--no-color``), before a command runs."""

    #: -1 quiet (errors only), 0 normal, 1 verbose (details and tracebacks of internal errors).
    verbosity = 0
    color = True


def configure(*, verbosity: int = 0, color: bool = True) -> None:
    Settings.verbosity = verbosity
    Settings.color = color


def write(diagnostics: Iterable[Diagnostic], stream: TextIO | None = None) -> None:
    """Print each diagnostic as its one line (a `Diagnostics` is emptied: each prints once);
    warnings only unless quiet."""
    items = diagnostics.take() if isinstance(diagnostics, Diagnostics) else diagnostics
    out = stream if stream is not None else sys.stderr
    for diagnostic in items:
        if diagnostic.severity == "warning" and Settings.verbosity < 0:
            continue
        out.write(f"{diagnostic}\n")


def error(message: str) -> None:
    """One error about the command as a whole: `watchmgr: message`."""
    write([Diagnostic(COMMAND, message)])


def note(text: str) -> None:
    """A line for people that is neither data nor a problem (``wrote 3 watches to out``); not
    when quiet."""
    if Settings.verbosity >= 0:
        sys.stderr.write(f"{text}\n")


def detail(text: str) -> None:
    """A line only ``-v`` shows (how long a command took, say)."""
    if Settings.verbosity > 0:
        sys.stderr.write(f"{text}\n")


def plural(count: int, noun: str) -> str:
    """``1 warning``, ``2 warnings``, ``0 watches``: a count with its noun agreeing."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"
