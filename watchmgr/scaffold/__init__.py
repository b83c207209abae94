"""The rules repository `watchmgr init` makes: rules/, environments/, the GitOps workflows.

The files are package data under ``files/``; a name starting with ``dot-`` is written with a
dot (``dot-github`` -> ``.github``), since wheels and globs are unreliable with hidden names.
``@VERSION@`` in ``.github/requirements.txt`` becomes this watchmgr's version, so the
workflows install the watchmgr that made the repository.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from watchmgr import __version__
from watchmgr.errors import WatchmgrError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


class ScaffoldError(WatchmgrError):
    """`init` cannot write the repository (a file is in the way, a directory is a file)."""


def _walk(node: Traversable, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        name = "." + child.name[len("dot-") :] if child.name.startswith("dot-") else child.name
        path = f"{prefix}{name}"
        if child.is_dir():
            found.update(_walk(child, f"{path}/"))
        elif not child.name.endswith((".pyc", ".pyo")):
            found[path] = child.read_text(encoding="utf-8")
    return found


def files() -> dict[str, str]:
    """Every file of a new repository, by its path in it (``/``-separated), sorted."""
    found = _walk(resources.files(__name__) / "files", "")
    found[".github/requirements.txt"] = found[".github/requirements.txt"].replace(
        "@VERSION@", __version__
    )
    return dict(sorted(found.items()))


def write(root: Path, *, force: bool = False) -> list[str]:
    """Write the repository into `root` (made if missing); the paths written, in order.

    Without `force` nothing is written when any of its files exists already.
    """
    wanted = files()
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{root}: is a file; give a directory to make the repository in")
    if not force:
        taken = [name for name in wanted if (root / name).exists()]
        if taken:
            more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
            raise ScaffoldError(
                f"{root / taken[0]}: exists{more}; init writes nothing over existing files "
                "(use --force to overwrite them)"
            )
    for name, text in wanted.items():
        target = root / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as err:
            raise ScaffoldError(f"{target}: cannot write it: {err.strerror}") from err
    return list(wanted)
