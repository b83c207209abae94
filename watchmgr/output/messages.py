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


def write(diagnostics: Iterable[Diagnostic], stream: TextIO | None = None) -> None:
    """Print each diagnostic as its one line (a `Diagnostics` is emptied: each prints once)."""
    items = diagnostics.take() if isinstance(diagnostics, Diagnostics) else diagnostics
    out = stream if stream is not None else sys.stderr
    for diagnostic in items:
        out.write(f"{diagnostic}\n")


def error(message: str) -> None:
    """One error about the command as a whole: `watchmgr: message`."""
    write([Diagnostic(COMMAND, message)])


def note(text: str) -> None:
    """A line for people that is neither data nor a problem (``wrote 3 watches to out``)."""
    sys.stderr.write(f"{text}\n")
