"""`python -m watchmgr.sandbox [OPTIONS]`: the same command as `watchmgr sandbox`."""

from __future__ import annotations


def main() -> None:
    import typer

    from watchmgr.sandbox.cli import sandbox_command

    typer.run(sandbox_command)


if __name__ == "__main__":
    main()
