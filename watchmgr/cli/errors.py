"""The one place that turns domain errors into a line on stderr and an exit code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

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
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as err:  # a bug: say so in one line, the traceback only on request
        _flush(report)
        if os.environ.get("WATCHMGR_DEBUG"):
            raise
        fail(
            f"internal error: {type(err).__name__}: {err} "
            "(please report it; WATCHMGR_DEBUG=1 shows the traceback)"
        )
    finally:
        _flush(report)


def _flush(report: Diagnostics | None) -> None:
    if report is not None:
        messages.write(report)
