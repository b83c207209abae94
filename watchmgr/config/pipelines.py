"""pySigma processing pipelines of ``mapping:``: installed ones by name, files in the repository."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from watchmgr.config.checks import Ctx, Key


def combined_pipeline(
    ctx: Ctx,
    root: Path,
    specs: tuple[str, ...],
    placeholders: tuple[tuple[str, tuple[str, ...]], ...],
) -> Any:
    """The pySigma pipeline: placeholders first, then `specs` in the order written."""
    if not specs and not placeholders:
        return None
    parts: list[Any] = [_placeholders(placeholders)] if placeholders else []
    installed: dict[str, Any] | None = None
    for i, spec in enumerate(specs):
        where: Key = ("mapping", "pipelines", i)
        if spec.endswith((".yml", ".yaml")) or "/" in spec:
            parts.append(_pipeline_file(ctx, where, root, spec))
            continue
        if installed is None:
            from sigma.plugins import InstalledSigmaPlugins

            installed = dict(InstalledSigmaPlugins.autodiscover().pipelines)
        parts.append(_installed(ctx, where, spec, installed))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + part
    return combined


def _placeholders(placeholders: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    """The pipeline that fills ``%name%`` placeholders with ``mapping.placeholders``' values."""
    from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
    from sigma.processing.transformations import ValueListPlaceholderTransformation

    names = [n for n, _ in placeholders]
    return ProcessingPipeline(
        name="watchmgr placeholders",
        items=[
            ProcessingItem(
                ValueListPlaceholderTransformation(include=names),
                identifier="watchmgr_placeholders",
            )
        ],
        vars={n: list(v) for n, v in placeholders},
    )


def _installed(ctx: Ctx, where: Key, spec: str, installed: dict[str, Any]) -> Any:
    """The installed pipeline named `spec` (pySigma's plugins), built."""
    factory = installed.get(spec)
    if factory is None:
        close = difflib.get_close_matches(spec, list(installed), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ctx.error(
            where,
            f"unknown pipeline {spec!r} ({hint}installed: "
            f"{', '.join(sorted(installed)) or 'none'}; a pipeline file ends in .yml or .yaml)",
        )
    try:
        return factory() if callable(factory) else factory
    except Exception as err:  # a plugin's own failure, whatever it raises
        raise ctx.error(where, f"pipeline {spec!r} failed to load: {err}") from err


def _pipeline_file(ctx: Ctx, where: Key, root: Path, spec: str) -> Any:
    from sigma.processing.pipeline import ProcessingPipeline

    path = root / spec
    if Path(spec).is_absolute() or ".." in Path(spec).parts:
        raise ctx.error(where, f"pipeline file {spec!r} must be inside the repository")
    if not path.is_file():
        raise ctx.error(
            where,
            f"pipeline file {spec!r} does not exist (paths are relative to the repository root)",
        )
    try:
        text = path.read_text(encoding="utf-8")
        # External sources (file/http/command placeholders) stay off: rendering reads nothing else.
        return ProcessingPipeline.from_yaml(text, source_path=str(path))
    except Exception as err:
        raise ctx.error(
            where, f"pipeline file {spec!r} is not a valid pySigma pipeline: {err}"
        ) from err
