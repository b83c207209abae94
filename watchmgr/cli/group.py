"""The CLI's Typer group: usage errors keep clear of "changes pending" under --detailed-exitcode."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from typer.core import TyperGroup

from watchmgr.errors import ExitCode


def _usage_error() -> Any:
    """Click's UsageError: recent Typer versions vendor Click, older ones depend on it."""
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            return importlib.import_module(module).UsageError
        except ImportError:
            continue
    raise RuntimeError("neither typer._click nor click is installed")


DETAILED_EXITCODE = "--detailed-exitcode"


class DetailedExitCodeGroup(TyperGroup):
    """The CLI's group: with ``--detailed-exitcode`` anywhere on the command line, a usage error
    exits USAGE_DETAILED (64) instead of Click's 2, which would read as "changes pending".

    The raw command line is looked at, not what Click parsed: the flag may come after the bad
    token, be misspelt into a value (``--detailed-exitcode=1``) or follow an unknown command.
    """

    detailed = False

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
        with self._usage_exit_code():
            return super().invoke(ctx)

    @contextmanager
    def _usage_exit_code(self) -> Iterator[None]:
        try:
            yield
        except _usage_error() as err:
            if self.detailed:
                err.exit_code = int(ExitCode.USAGE_DETAILED)
            raise
