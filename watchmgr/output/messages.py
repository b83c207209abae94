"""The one sink for messages: every error, warning and note leaves watchmgr here, on stderr.

A diagnostic is one line, `place: message`, `place: warning: message` for a warning, where the
place is `path:line` for a problem in an input and `watchmgr` for one about the command as a
whole (`errors.COMMAND`). A note (what was written where, a count) is a line of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TextIO

from watchmgr.errors import COMMAND, Diagnostic, Diagnostics


@dataclass(frozen=True, slots=True)
class Settings:
    """How much the sink says and whether output is coloured, as the global options (``-q``,
    ``-v``, ``--no-color``) of the command being run say."""

    #: -1 quiet (errors only), 0 normal, 1 verbose (details and tracebacks of internal errors).
    verbosity: int = 0
    color: bool = True


#: The running command's settings: a context variable, so each invocation (and each thread or
#: task that starts one) has its own, and nothing is kept in a module's global.
_CURRENT: ContextVar[Settings | None] = ContextVar("watchmgr_output_settings", default=None)
_DEFAULT = Settings()


def configure(*, verbosity: int = 0, color: bool = True) -> None:
    """Set the running command's settings (the CLI does, before the command runs)."""
    _CURRENT.set(Settings(verbosity, color))


def settings() -> Settings:
    """The running command's settings."""
    return _CURRENT.get() or _DEFAULT


def write(diagnostics: Iterable[Diagnostic], stream: TextIO | None = None) -> None:
    """Print each diagnostic as its one line (a `Diagnostics` is emptied: each prints once);
    warnings and notes only unless quiet."""
    items = diagnostics.take() if isinstance(diagnostics, Diagnostics) else diagnostics
    out = stream if stream is not None else sys.stderr
    for diagnostic in items:
        if diagnostic.severity != "error" and settings().verbosity < 0:
            continue
        out.write(f"{diagnostic}\n")


def error(message: str) -> None:
    """One error about the command as a whole: `watchmgr: message`."""
    write([Diagnostic(COMMAND, message)])


def note(text: str) -> None:
    """A line for people that is neither data nor a problem (``wrote 3 watches to out``); not
    when quiet."""
    if settings().verbosity >= 0:
        sys.stderr.write(f"{text}\n")


def detail(text: str) -> None:
    """A line only ``-v`` shows (how long a command took, say)."""
    if settings().verbosity > 0:
        sys.stderr.write(f"{text}\n")


def plural(count: int, noun: str) -> str:
    """``1 warning``, ``2 warnings``, ``0 watches``: a count with its noun agreeing."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"


def stderr_is_terminal() -> bool:
    """Whether people watch stderr (progress is shown only then)."""
    return sys.stderr.isatty()
