"""The one place that turns domain errors into a line on stderr and an exit code."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from watchmgr.errors import Diagnostics, ExitCode, WatchmgrError
from watchmgr.output import messages


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    """Print `message` as watchmgr's one line on stderr and exit with `code`."""
    messages.error(message)
    raise typer.Exit(int(code))


@contextmanager
def reporting(report: Diagnostics | None = None) -> Iterator[None]:
    """Print what `report` holds when the block ends, however it ends; turn a domain error into
    one line after it and exit 1. Nothing else escapes."""
    try:
        yield
    except WatchmgrError as err:
        _flush(report)
        fail(str(err))
    except KeyboardInterrupt:
        _flush(report)
        fail("interrupted")
    except BrokenPipeError:
        _flush(report)
        closed_stdout()
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as err:  # a bug: say so in one line, the traceback only on request
        _flush(report)
        if os.environ.get("WATCHMGR_DEBUG") or messages.settings().verbosity > 0:
            raise
        fail(
            f"internal error: {type(err).__name__}: {err} "
            "(please report it; -v or WATCHMGR_DEBUG=1 shows the traceback)"
        )
    finally:
        _flush(report)


def closed_stdout() -> NoReturn:
    """End quietly because the reader of stdout went away (``watchmgr render | head -1``), as
    Unix tools do: no message, exit 141 (128 + SIGPIPE, what a shell shows for such a tool).

    stdout is pointed at /dev/null first, so that Python's flush at exit finds no broken pipe.
    """
    silence_stdout()
    raise typer.Exit(int(ExitCode.BROKEN_PIPE))


def silence_stdout() -> None:
    """Point stdout at /dev/null: nothing more can reach a reader that went away."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (a test runner's buffer): nothing will flush into a pipe


def _flush(report: Diagnostics | None) -> None:
    if report is not None:
        messages.write(report)


#: What `busy` yields: tell it (done, total) to show a count and a bar instead of a spinner.
Step = Callable[[int, int], None]


@contextmanager
def busy(text: str, fmt: str = "text") -> Iterator[Step]:
    """A spinner saying `text` on stderr while a long step runs (thousands of rules to convert,
    of watches to read), when stderr is a terminal and the output is not JSON: never in a pipe,
    a CI log or a program's input. It leaves nothing behind.

    The block gets a function to call with (done, total) when it can count its work: from then
    on the line shows a bar and ``done/total``.
    """
    if fmt == "json" or not messages.stderr_is_terminal():
        yield _nothing
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from watchmgr.output.plan import console

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        _count_column(),
        console=console(stderr=True),
        transient=True,
    ) as shown:
        task = shown.add_task(text, total=None)
        yield lambda done, total: shown.update(task, completed=done, total=total)


def _nothing(_done: int, _total: int) -> None:
    pass


def _count_column() -> Any:
    """A bar and a count (made here, so that Rich is imported only when it is shown)."""
    from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task
    from rich.table import Table
    from rich.text import Text

    class CountColumn(ProgressColumn):
        """A bar and ``done/total`` once the total is known; nothing before."""

        def __init__(self) -> None:
            super().__init__()
            self.bar = BarColumn()
            self.count = MofNCompleteColumn()

        def render(self, task: Task) -> Any:
            if task.total is None:
                return Text("")
            row = Table.grid(padding=(0, 1))
            row.add_row(self.bar.render(task), self.count.render(task))
            return row

    return CountColumn()
