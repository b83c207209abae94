"""The one place that turns domain errors into a line on stderr and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from watchmgr.errors import ExitCode, WatchmgrError


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    """Print `message` as watchmgr's one line on stderr and exit with `code`."""
    sys.stderr.write(f"watchmgr: {message}\n")
    raise typer.Exit(int(code))


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn domain errors into one line on stderr and exit 1; nothing else escapes."""
    try:
        yield
    except WatchmgrError as err:
        fail(str(err))
    except KeyboardInterrupt:
        fail("interrupted")
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as err:  # a bug: say so in one line, the traceback only on request
        if os.environ.get("WATCHMGR_DEBUG"):
            raise
        fail(
            f"internal error: {type(err).__name__}: {err} "
            "(please report it; WATCHMGR_DEBUG=1 shows the traceback)"
        )
