"""The CLI's Typer group: usage errors keep clear of "changes pending" under --detailed-exitcode."""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from typer.core import TyperGroup

from watchmgr.errors import ExitCode
from watchmgr.output import messages


def _usage_error() -> Any:
    """Click's UsageError: recent Typer versions vendor Click, older ones depend on it."""
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            return importlib.import_module(module).UsageError
        except ImportError:
            continue
    raise RuntimeError("neither typer._click nor click is installed")


DETAILED_EXITCODE = "--detailed-exitcode"


def _no_type(ctx: Any = None) -> None:
    return None


class DetailedExitCodeGroup(TyperGroup):
    """The CLI's group: with ``--detailed-exitcode`` anywhere on the command line, a usage error
    exits USAGE_DETAILED (64) instead of Click's 2, which would read as "changes pending".

    The raw command line is looked at, not what Click parsed: the flag may come after the bad
    token, be misspelt into a value (``--detailed-exitcode=1``) or follow an unknown command.
    """

    detailed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Typer prints an argument's Python type beside its metavar (``[PATH]... <list[Path]>``)
        # and has no switch for it; the metavar and the help say what to give, for people.
        for command in self.commands.values():
            for param in getattr(command, "params", ()):
                if getattr(param, "param_type_name", "") == "argument":
                    param.display_type_rich = _no_type

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        given = sys.argv[1:] if args is None else args
        self.detailed = any(
            a == DETAILED_EXITCODE or a.startswith(f"{DETAILED_EXITCODE}=") for a in given
        )
        # `args` goes on as it came: Click expands wildcards on Windows only when it is None.
        return super().main(args, *rest, **extra)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        with self._usage_exit_code():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        from watchmgr.cli.errors import closed_stdout

        with self._usage_exit_code():
            try:
                return super().invoke(ctx)
            except BrokenPipeError:  # raised outside a command's `reporting` block
                closed_stdout()

    @contextmanager
    def _usage_exit_code(self) -> Iterator[None]:
        try:
            yield
        except _usage_error() as err:
            if self.detailed:
                err.exit_code = int(ExitCode.USAGE_DETAILED)
            if type(err).__name__ != "NoArgsIsHelpError":  # that one's message is the help
                line = usage_line(err)
                err.show = lambda file=None: messages.error(line)
            raise


#: How alike a mistyped option must be to a real one for "did you mean" (difflib's ratio):
#: --detailed-exitcodes finds --detailed-exitcode, --bogus finds nothing.
SUGGEST_CUTOFF = 0.75


def usage_line(err: Any) -> str:
    """A usage error as watchmgr's one line: what is wrong, a close option if there is one, and
    where the help is (instead of Click's usage block and "Error:" line)."""
    command = err.ctx.command_path if err.ctx is not None else "watchmgr"
    if type(err).__name__ == "NoSuchOption":  # suggest only a real look-alike
        name = err.option_name
        close = difflib.get_close_matches(name, err.possibilities or (), 1, SUGGEST_CUTOFF)
        what = f"no such option: {name}" + (f" (did you mean {close[0]}?)" if close else "")
    else:
        what = err.format_message().rstrip(".")
        what = what[:1].lower() + what[1:]
        if ". Did you mean " in what:  # Click's suggestion of a command, in watchmgr's words
            what, close = what.split(". Did you mean ", 1)
            what = f"{what} (did you mean {close.rstrip('?')}?)"
    return f"{what}; see '{command} --help'"
