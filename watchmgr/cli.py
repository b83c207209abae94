"""The Typer app: option parsing and wiring only. Exit codes are decided here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="watchmgr",
    help="Deploy Sigma rules as Elasticsearch Watcher watches, per environment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    app()
