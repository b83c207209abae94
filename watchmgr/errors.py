"""Domain errors with source locations, and the exit codes of the CLI.

Every error a user can cause is a `WatchmgrError`; `cli/errors.py` is the one place that turns it
into a line on stderr and an exit code. A traceback reaching the user is a bug.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Process exit codes, documented in `watchmgr --help`; each member says what it means.

    A member is its code (``int(code)``, ``code == 2``). Two members share 2, because Typer's
    own usage errors exit 2 and so does ``plan --detailed-exitcode`` when changes are pending
    (as Terraform's does); they stay two members with one meaning each, not an alias, and under
    ``--detailed-exitcode`` usage errors move to 64 so that 2 keeps its one meaning there.
    """

    meaning: str

    def __new__(cls, code: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, code)
        # The (code, meaning) pair keeps members that share a code distinct (no alias).
        member._value_ = (code, meaning)  # type: ignore[assignment]
        member.meaning = meaning
        return member

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {int(self)}>"

    OK = 0, "success (with --detailed-exitcode: and no changes pending)"
    ERROR = (
        1,
        (
            "a rule, file, environment or cluster problem (one line each on stderr, path:line "
            "first), a failed write, or a plan that apply would refuse"
        ),
    )
    USAGE = 2, "usage error: an unknown option, a missing or invalid argument"
    CHANGES_PENDING = 2, "plan --detailed-exitcode: the plan has changes"
    USAGE_DETAILED = 64, "usage error while --detailed-exitcode is in force"
    BROKEN_PIPE = 141, "stdout was closed by its reader (| head): 128 + SIGPIPE, as a shell says"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in a file; `line` is 1-based, None when the file as a whole is meant."""

    path: str
    line: int | None = None

    @classmethod
    def of(cls, path: str | Path, line: int | None = None) -> SourceLocation:
        return cls(str(path), line)

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


class WatchmgrError(Exception):
    """An error caused by input, configuration or the cluster; rendered as one line."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return self.message if self.location is None else f"{self.location}: {self.message}"


class RuleError(WatchmgrError):
    """A Sigma rule that cannot be loaded or converted."""


class ConfigError(WatchmgrError):
    """An environment file (or CLI option) that is invalid."""


class ClusterError(WatchmgrError):
    """The cluster refused, failed or could not be reached."""


class ConflictError(ClusterError):
    """A watch changed on the cluster since it was read."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning or error about one input, kept for reporting rather than raised."""

    location: SourceLocation
    message: str
    severity: str = "error"  # "error" | "warning" | "note" (a step skipped, said once)

    def __str__(self) -> str:
        prefix = f"{self.severity}: " if self.severity in ("warning", "note") else ""
        return f"{self.location}: {prefix}{self.message}"


def of_severity(diagnostics: Iterable[Diagnostic], severity: str) -> tuple[Diagnostic, ...]:
    """The diagnostics of one severity ("error" or "warning"), in their order."""
    return tuple(d for d in diagnostics if d.severity == severity)


#: Where a message about the command as a whole (not about one input) is located: the tool
#: itself, as compilers do (``cc: error: ...``). Every line on stderr is then `place: message`.
COMMAND = SourceLocation("watchmgr")


class Diagnostics:
    """The errors and warnings a flow found, in the order found: what the one sink prints.

    The workflow fills it and never prints; the CLI prints it through `output.messages`.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[Diagnostic] = ()) -> None:
        self._items = list(items)

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self._items.extend(items)

    def warning(self, message: str, location: SourceLocation = COMMAND) -> None:
        self._items.append(Diagnostic(location, message, "warning"))

    def note(self, message: str, location: SourceLocation = COMMAND) -> None:
        """Something for people that is no problem in an input (a check that was skipped)."""
        self._items.append(Diagnostic(location, message, "note"))

    def failure(self, err: WatchmgrError) -> None:
        """A domain error that stopped one part of a command (its location is in its text)."""
        self._items.append(Diagnostic(COMMAND, str(err)))

    def take(self) -> tuple[Diagnostic, ...]:
        """Every diagnostic not taken yet, oldest first; the sink prints what it takes."""
        taken, self._items = tuple(self._items), []
        return taken

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(tuple(self._items))

    def __len__(self) -> int:
        return len(self._items)
