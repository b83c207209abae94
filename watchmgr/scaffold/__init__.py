"""The rules repository `watchmgr init` makes: rules/, environments/, the GitOps workflows.

The files are package data under ``files/``; a name starting with ``dot-`` is written with a
dot (``dot-github`` -> ``.github``), since wheels and globs are unreliable with hidden names.
``@REQUIREMENT@`` in ``.github/requirements.txt`` becomes what this watchmgr was installed from
(`requirement`), so the workflows install the watchmgr that made the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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


@dataclass(frozen=True, slots=True)
class Requirement:
    """The line of ``.github/requirements.txt`` that installs watchmgr, and why it says so."""

    line: str
    #: a comment put above it (``#`` lines): where it came from, and what to change
    comment: str
    #: whether a CI runner can install it (a local path cannot)
    portable: bool = True


def requirement(direct_url: Mapping[str, Any] | None, version: str = __version__) -> Requirement:
    """What installs the watchmgr described by `direct_url` (PEP 610's ``direct_url.json`` of the
    running install, None when it came from a package index) elsewhere.

    From a git repository: its URL at the exact commit. From an index: ``watchmgr==version``
    (from the same index). From a local directory or archive (PEP 610's ``dir_info`` or
    ``archive_info`` with a ``file:`` URL): that URL, which only this machine can install, said
    in the comment (and by `portable`).
    """
    if direct_url is None:
        return Requirement(
            f"watchmgr=={version}",
            "installed from a package index: the same version. From an internal index, add its\n"
            "--index-url line above.",
        )
    url = str(direct_url.get("url", ""))
    vcs = direct_url.get("vcs_info")
    subdirectory = direct_url.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    if isinstance(vcs, Mapping):
        at = vcs.get("commit_id") or vcs.get("requested_revision")
        revision = f"@{at}" if at else ""
        return Requirement(
            f"watchmgr @ {vcs.get('vcs', 'git')}+{url}{revision}{fragment}",
            "installed from this repository at this commit: change the commit to upgrade.",
        )
    if urlsplit(url).scheme != "file":
        return Requirement(
            f"watchmgr @ {url}{fragment}", "installed from this archive: change it to upgrade."
        )
    what = "a directory" if "dir_info" in direct_url else "an archive"
    return Requirement(
        f"watchmgr @ {url}{fragment}",
        f"installed from {what} on the machine that ran `watchmgr init`: CI runners cannot\n"
        "install it. Replace it with where CI can get watchmgr, for instance\n"
        f"watchmgr @ git+https://git.example.com/tools/watchmgr@v{version}",
        portable=False,
    )


def installed_from() -> Requirement:
    """The `requirement` of the running watchmgr, from its install's ``direct_url.json``."""
    import json
    from importlib import metadata

    # A source tree's watchmgr.egg-info can come first on the path (run from the checkout):
    # the install pip recorded is the one with a direct_url.json.
    for distribution in metadata.distributions(name="watchmgr"):
        text = distribution.read_text("direct_url.json")
        try:
            direct = json.loads(text) if text else None
        except ValueError:
            continue  # a record pip did not write
        if isinstance(direct, Mapping):
            return requirement(direct, distribution.version)
    return requirement(None)


def files(origin: Requirement | None = None) -> dict[str, str]:
    """Every file of a new repository, by its path in it (``/``-separated), sorted;
    ``.github/requirements.txt`` installs `origin` (default: this version from an index)."""
    found = _walk(resources.files(__name__) / "files", "")
    origin = origin or requirement(None)
    comment = "".join(f"# {line}\n" for line in origin.comment.splitlines())
    found[".github/requirements.txt"] = found[".github/requirements.txt"].replace(
        "@REQUIREMENT@\n", comment + origin.line + "\n"
    )
    return dict(sorted(found.items()))


def write(root: Path, *, force: bool = False, origin: Requirement | None = None) -> list[str]:
    """Write the repository into `root` (made if missing); the paths written, in order.

    Without `force` nothing is written when any of its files exists already.
    """
    wanted = files(origin)
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
